#!/usr/bin/env python3
"""How many bits per sample benches/noisygen.py draws at random: a floor under any encoding of its data set.

  benches/noisy_entropy.py

noisygen draws each series' next value from a known distribution (a lognormal counter increment, a Gaussian step of
a random walk, a Poisson count...). What was drawn cannot be compressed away: an encoder that codes each series on its
own (Lookout, Prometheus and VictoriaMetrics all do) needs at least the entropy of each draw, given everything
before it in that series. This script computes that entropy per family from the generator's own parameters, exactly
where the distribution is narrow (summing its discretised probabilities) and from the differential entropy where it
spans thousands of steps (the two agree there to well under 0.01 bit), and adds them up per host and scrape.

What it leaves out makes the floor lower, never higher: the random walks' clamping, counter resets, pod churn's new
series. Cross-series redundancy that a per-series encoder cannot use (filesystem free = avail + a constant, load5 and
load15 computed from load1's draws, histogram buckets that share observations) is counted per series, as such an
encoder pays it; the last column says what the whole data set holds with it removed.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noisygen  # noqa: E402  (the generator's constants, so the two cannot drift apart)

LOG2E = 1 / math.log(2)


def phi(z):
    """Standard normal CDF."""
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def entropy(probs):
    """Entropy in bits of a discrete distribution (probabilities need not be normalised: they are)."""
    total = sum(probs)
    return -sum(p / total * math.log2(p / total) for p in probs if p > 0)


def lognormal_cdf(x, mu, sigma):
    return 0.0 if x <= 0 else phi((math.log(x) - mu) / sigma)


def lognormal_h_bits(mu, sigma, scale=1.0):
    """Differential entropy (bits) of scale * LogNormal(mu, sigma)."""
    return (mu + math.log(scale) + 0.5 * math.log(2 * math.pi * math.e * sigma * sigma)) * LOG2E


def discretised_lognormal(mu, sigma, scale, quantum, rounding=True, limit=200_000):
    """Entropy of scale * LogNormal(mu, sigma) rounded (or truncated) to a multiple of `quantum`."""
    top = scale * math.exp(mu + 8 * sigma)
    if top / quantum > limit:
        return lognormal_h_bits(mu, sigma, scale) - math.log2(quantum)
    off = 0.5 if rounding else 0.0
    probs = []
    for k in range(int(top / quantum) + 2):
        lo, hi = (k - off) * quantum / scale, (k + 1 - off) * quantum / scale
        probs.append(lognormal_cdf(hi, mu, sigma) - lognormal_cdf(lo, mu, sigma))
    return entropy(probs)


def quantised_gaussian_step(sigma_q, phases=16):
    """Entropy of round(v + N(0, sigma_q)) given the exact v (sigma in quanta), averaged over v's phase."""
    if sigma_q > 50:
        return 0.5 * math.log2(2 * math.pi * math.e * sigma_q * sigma_q)
    span = int(8 * sigma_q) + 2
    total = 0.0
    for i in range(phases):
        c = i / phases
        total += entropy([phi((k + 0.5 - c) / sigma_q) - phi((k - 0.5 - c) / sigma_q) for k in range(-span, span + 1)])
    return total / phases


def burst(p=0.01):
    """What a rare burst of either sign adds: which steps burst, and the sign."""
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p)) + p


def poisson_probs(lam, kmax=None):
    kmax = kmax or int(lam + 12 * math.sqrt(lam) + 20)
    return [math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) for k in range(kmax)]


def uniform_points(lo, hi, n=24):
    """Midpoints of n equal slices of [lo, hi], to average over a parameter drawn uniformly."""
    return [lo + (hi - lo) * (i + 0.5) / n for i in range(n)]


def families():
    """(family, series per host, bits per sample of one series)."""
    out = []
    cpu = sum(discretised_lognormal(0, 0.35, 15 * share, 0.01) for share in noisygen.CPU_SHARE.values())
    out.append(("node_cpu_seconds_total (lognormal increments, 0.01)", 32, cpu / len(noisygen.CPU_SHARE)))

    mem = sum(quantised_gaussian_step(s) for s in uniform_points(1, 400)) / 24 + burst()
    out.append(("node_memory_*_bytes walks (step 1-400 pages, bursts)", 17, mem))
    out.append(("node_memory_* constants (MemTotal, SwapTotal, HugePages)", 3, 0.0))

    rates = {"eth0": 2e5, "eth1": 3e4, "lo": 2e3, "vmbr0": 1.5e5}
    net = sum(lognormal_h_bits(0, 0.8, 15 * r) for r in rates.values()) / len(rates)
    out.append(("node_network_*_bytes_total (lognormal bytes)", 8, net))

    # Disk: idle with probability 1 - busy, else int(LogNormal(3, 1.2)) operations; busy ~ U(0.05, 0.7).
    ops = [lognormal_cdf(k + 1, 3, 1.2) - lognormal_cdf(k, 3, 1.2) for k in range(20_000)]
    byte_counts = {}
    for k, p in enumerate(ops):
        if p < 1e-15:
            continue
        for m in range(1, 33):
            byte_counts[k * m] = byte_counts.get(k * m, 0.0) + p / 32
    io_ms = {}
    for k, p in enumerate(ops):
        ms = min(15_000, round(k * 0.7))
        io_ms[ms] = io_ms.get(ms, 0.0) + p

    def idle_or(dist, busy):
        probs = [busy * p for p in dist.values()] if isinstance(dist, dict) else [busy * p for p in dist]
        return entropy(probs + [1 - busy])

    busy = uniform_points(0.05, 0.7)
    disk_ops = sum(idle_or(ops, b) for b in busy) / len(busy)
    disk_bytes = sum(idle_or(byte_counts, b) for b in busy) / len(busy)
    disk_io = sum(idle_or(io_ms, b) for b in busy) / len(busy)
    out.append(("node_disk_{reads,writes}_completed_total", 8, disk_ops))
    out.append(("node_disk_{read,written}_bytes_total", 8, disk_bytes))
    out.append(("node_disk_io_time_seconds_total", 4, disk_io))

    out.append(("node_filesystem_{avail,free}_bytes walks (step 30 blocks)", 10, quantised_gaussian_step(30) + burst()))

    # Load: l += (x - l) * a with x = max(0, LogNormal(0, 0.7) - 0.3), shown rounded to 0.01: given the exact l,
    # the new value is a * x at a random phase of the 0.01 grid.
    def load(a, phases=16):
        total = 0.0
        for i in range(phases):
            c = i / phases
            top = int(a * math.exp(0.7 * 8) / 0.01) + 2

            def cdf(y):  # P(a * x <= y)
                return 0.0 if y < 0 else lognormal_cdf(y / a + 0.3, 0, 0.7)
            total += entropy([cdf((k + 0.5 - c) * 0.01) - cdf((k - 0.5 - c) * 0.01) for k in range(-1, top)])
        return total / phases
    for name, a in (("node_load1", 0.22), ("node_load5", 0.05), ("node_load15", 0.017)):
        out.append((f"{name} (from load1's draws)", 1, load(a)))

    # Histogram: 40 observations a scrape (Poisson), LogNormal(ln 0.02, 1.1); a bucket's increment is Poisson(40 p).
    les = noisygen.LES
    mu, sigma = math.log(0.02), 1.1
    for le in les:
        p = 1.0 if le == math.inf else lognormal_cdf(le, mu, sigma)
        out.append((f"node_scrape_latency_seconds_bucket le={le}", 1, entropy(poisson_probs(40 * p))))
    out.append(("node_scrape_latency_seconds_count", 1, entropy(poisson_probs(40))))
    # _sum: a continuous increment (compound Poisson, taken as normal) kept as an unrounded double, so its bits go
    # down to the last place of the running sum (about 1.46 a scrape, 480 scrapes).
    ex2 = math.exp(2 * mu + 2 * sigma * sigma)
    h_inc = 0.5 * math.log2(2 * math.pi * math.e * 40 * ex2)
    mean_inc = 40 * math.exp(mu + sigma * sigma / 2)
    steps = 480
    ulp_bits = sum(math.floor(math.log2(k * mean_inc)) - 52 for k in range(1, steps + 1)) / steps
    out.append(("node_scrape_latency_seconds_sum (unrounded double)", 1, h_inc - ulp_bits))

    out.append(("node_time_seconds (4 ms jitter at 1 ms)", 1, quantised_gaussian_step(4)))
    procs = poisson_probs(2.5)
    out.append(("node_procs_running (max(1, Poisson(2.5)))", 1, entropy([procs[0] + procs[1]] + procs[2:])))
    ctx = sum(lognormal_h_bits(0, 0.4, 15 * r) for r in uniform_points(500, 20_000)) / 24
    out.append(("node_context_switches_total, node_intr_total", 2, ctx))
    out.append(("node_uname_info, node_boot_time_seconds (constant but a restart)", 2, 0.0))
    # Pods: 5 slots, each always holding one pod with two series.
    pod_cpu = lognormal_h_bits(math.log(0.05), 0.9, 15) + math.log2(1e6)
    out.append(("container_cpu_usage_seconds_total (6 decimals)", 5, pod_cpu))
    out.append(("container_memory_working_set_bytes walk (step 256 pages)", 5, quantised_gaussian_step(256) + burst()))
    return out


def main():
    fams = families()
    series = sum(n for _, n, _ in fams)
    assert series == 119, series
    total = sum(n * bits for _, n, bits in fams)
    redundant = (  # what a per-series encoder pays twice: free (= avail + constant), load5/15, buckets
        5 * (quantised_gaussian_step(30) + burst())
        + sum(bits for name, _, bits in fams if name.startswith(("node_load5", "node_load15")))
    )
    ts = quantised_gaussian_step(4)
    print("| family | series per host | bits per sample |")
    print("|---|---:|---:|")
    for name, n, bits in fams:
        print(f"| {name} | {n} | {bits:.2f} |")
    print()
    print(f"values, coded per series: {total / series:.2f} bits = {total / series / 8:.3f} bytes per sample")
    print(f"timestamps: {ts:.2f} bits per sample per series, {ts / series:.3f} when a host's series share them")
    floor = (total + ts) / series / 8
    print(f"floor, per-series values and shared timestamps: {floor:.3f} bytes per sample")
    print(f"floor, per-series values and timestamps: {(total + series * ts) / series / 8:.3f} bytes per sample")
    print(f"without the cross-series redundancy named above (and buckets still counted): "
          f"{(total - redundant + ts) / series / 8:.3f} bytes per sample")


if __name__ == "__main__":
    main()
