#!/usr/bin/env python3
"""A second, noisier node_exporter-like data set, so no encoding is tuned to nodegen alone.

  benches/noisygen.py dataset --hosts 100 --hours 2 --step 15 --end 1795608000 > noisy.om

Same metric names and label shapes as ../shared/bench/nodegen.py (109 series per host, so the side-by-side query list
applies unchanged), plus 10 pod series per host, but with what real exporters show and nodegen smooths away:
  - scrape timestamps jitter by a few milliseconds around the step (float seconds, 3 decimals);
  - gauges are random walks quantised to what the kernel reports (4 KiB pages, 0.01 load), with bursts;
  - counters grow by noisy, bursty increments and reset to near zero when their host restarts (about a third of
    the hosts restart once in the window; `node_boot_time_seconds` moves with the restart);
  - a classic histogram whose buckets grow by a Poisson number of log-normally distributed observations, with an
    unrounded `_sum`;
  - pod churn: `container_cpu_usage_seconds_total` and `container_memory_working_set_bytes` for 5 pod slots per
    host, each pod living 10–60 minutes before a new pod (a new `pod` label value, new series) replaces it.
Deterministic for a given --seed. Output: OpenMetrics text, one sample per line, '# EOF' last (the format of
nodegen.py's dataset, so benches/side_by_side.py --dataset reads either).
"""
import argparse
import math
import random
import sys

MODES = ["idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"]
CPU_SHARE = {"idle": 0.85, "user": 0.08, "system": 0.04, "iowait": 0.015, "irq": 0.002, "softirq": 0.004,
             "steal": 0.001, "nice": 0.0005}
MEM = ["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree", "Active", "Inactive",
       "Dirty", "Shmem", "Slab", "SReclaimable", "SUnreclaim", "PageTables", "Mapped", "AnonPages", "Committed_AS",
       "VmallocUsed", "HugePages_Total"]
LES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, math.inf]


def fmt_labels(name, labels):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def fmt_value(v):
    if isinstance(v, int):
        return f"{v}"
    return repr(float(v))


class Host:
    """One host's timeline: scrape times with jitter, a restart step (or None), boot times."""

    def __init__(self, h, steps, start, step, seed):
        r = random.Random(seed * 7_919 + h)
        self.h = h
        self.offset = r.uniform(0, step)  # each target is scraped at its own phase of the interval
        self.times = [round(start + k * step + self.offset + r.gauss(0, 0.004), 3) for k in range(steps)]
        self.restart = r.randrange(steps // 8, steps) if r.random() < 0.33 else None
        self.boot = [float(int(start - r.uniform(3_600, 40 * 86_400)))] * steps
        if self.restart is not None:
            boot2 = float(int(self.times[self.restart] - r.uniform(20, 90)))
            for k in range(self.restart, steps):
                self.boot[k] = boot2

    def reset_at(self, k):
        return self.restart is not None and k == self.restart


def counter(host, r, steps, start_value, increment):
    """A counter: start_value plus increments drawn by `increment(r, k)`, reset to a small value at a restart."""
    out, v = [], start_value
    for k in range(steps):
        if host.reset_at(k):
            v = 0
        v += increment(r, k)
        out.append(v)
    return out


def walk(r, steps, start, sigma, quantum, lo, hi, burst=0.0):
    """A gauge: random walk with Gaussian steps (and rare bursts), clamped, quantised to `quantum`."""
    out, v = [], start
    for _ in range(steps):
        v += r.gauss(0, sigma)
        if burst and r.random() < 0.01:
            v += r.choice((-1, 1)) * burst
        v = min(hi, max(lo, v))
        out.append(v)
    return [round(x / quantum) * quantum for x in out]


def node_series(host, steps, seed):
    """The 109 node series of one host: [(name, labels, values)]."""
    h = host.h
    inst = f"host{h:04d}:9100"
    base = {"job": "node", "instance": inst}
    out = []

    def rng(i):
        return random.Random((seed * 1_000_003 + h) * 1_009 + i)

    i = 0
    for cpu in range(4):
        for m in MODES:
            r = rng(i)
            share = CPU_SHARE[m]
            vals = counter(host, r, steps, round(r.uniform(0, 1e5), 2),
                           lambda r, k, s=share: max(0.0, round(15 * s * r.lognormvariate(0, 0.35), 2)))
            out.append(("node_cpu_seconds_total", {**base, "cpu": str(cpu), "mode": m}, [round(v, 2) for v in vals]))
            i += 1
    total_pages = rng(1000).choice((2, 4, 8, 16, 32)) * 262_144
    for name in MEM:
        r = rng(i)
        if name in ("MemTotal", "SwapTotal", "HugePages_Total"):
            vals = [float(total_pages * 4096 if name == "MemTotal" else (0 if name == "HugePages_Total" else 2 << 30))] * steps
        else:
            hi = total_pages * 4096
            vals = [float(v) for v in walk(r, steps, r.uniform(0.05, 0.6) * hi, r.uniform(1, 400) * 4096, 4096,
                                           0, hi, burst=hi * 0.05)]
        out.append((f"node_memory_{name}_bytes", base, vals))
        i += 1
    for dev in ["eth0", "eth1", "lo", "vmbr0"]:
        for d in ["receive", "transmit"]:
            r = rng(i)
            rate = {"eth0": 2e5, "eth1": 3e4, "lo": 2e3, "vmbr0": 1.5e5}[dev]
            vals = counter(host, r, steps, int(r.uniform(0, 1e12)),
                           lambda r, k, rate=rate: int(15 * rate * r.lognormvariate(0, 0.8)))
            out.append((f"node_network_{d}_bytes_total", {**base, "device": dev}, [float(v) for v in vals]))
            i += 1
    for dev in ["sda", "sdb", "nvme0n1", "nvme1n1"]:
        for m in ["reads_completed_total", "writes_completed_total", "read_bytes_total", "written_bytes_total",
                  "io_time_seconds_total"]:
            r = rng(i)
            busy = r.uniform(0.05, 0.7)

            def inc(r, k, m=m, busy=busy):
                if r.random() > busy:
                    return 0
                ops = int(r.lognormvariate(3, 1.2))
                if m.endswith("bytes_total"):
                    return ops * 4096 * r.randint(1, 32)
                if m == "io_time_seconds_total":
                    return round(min(15.0, ops * 0.0007), 3)
                return ops
            vals = counter(host, r, steps, 0 if m == "io_time_seconds_total" else int(r.uniform(0, 1e8)), inc)
            if m == "io_time_seconds_total":
                vals = [round(v, 3) for v in vals]
            out.append((f"node_disk_{m}", {**base, "device": dev}, [float(v) for v in vals]))
            i += 1
    for mp in ["/", "/boot", "/var", "/home", "/data"]:
        size = rng(2000 + i).randint(1_000_000, 100_000_000)
        free = walk(rng(i), steps, size * 0.4, 30, 1, size * 0.05, size * 0.95, burst=size * 0.01)
        for m in ["avail_bytes", "free_bytes"]:
            extra = 0 if m == "avail_bytes" else size // 20
            out.append((f"node_filesystem_{m}", {**base, "mountpoint": mp, "fstype": "ext4"},
                        [float(int(v + extra) * 4096) for v in free]))
            i += 1
    r = rng(i)
    load1, load5, load15, l1, l5, l15 = [], [], [], r.uniform(0, 2), 1.0, 1.0
    for _ in range(steps):
        inst_load = max(0.0, r.lognormvariate(0, 0.7) - 0.3)
        l1 += (inst_load - l1) * 0.22
        l5 += (inst_load - l5) * 0.05
        l15 += (inst_load - l15) * 0.017
        load1.append(round(l1, 2))
        load5.append(round(l5, 2))
        load15.append(round(l15, 2))
    for n, v in (("node_load1", load1), ("node_load5", load5), ("node_load15", load15)):
        out.append((n, base, v))
    i += 3
    r = rng(i)
    buckets = [[] for _ in LES]
    counts = [0] * len(LES)
    hsum, hsums, hcount, hcounts = 0.0, [], 0, []
    for k in range(steps):
        if host.reset_at(k):
            counts, hsum, hcount = [0] * len(LES), 0.0, 0
        n = poisson(r, 40)
        for _ in range(n):
            x = r.lognormvariate(math.log(0.02), 1.1)
            hsum += x
            for j, le in enumerate(LES):
                if x <= le:
                    counts[j] += 1
        hcount += n
        for j in range(len(LES)):
            buckets[j].append(float(counts[j]))
        hsums.append(hsum)
        hcounts.append(float(hcount))
    for le, vals in zip(LES, buckets):
        le_s = "+Inf" if le == math.inf else repr(le)
        out.append(("node_scrape_latency_seconds_bucket", {**base, "le": le_s}, vals))
    out.append(("node_scrape_latency_seconds_sum", base, hsums))
    out.append(("node_scrape_latency_seconds_count", base, hcounts))
    out.append(("node_uname_info", {**base, "release": "6.8.12-pve", "machine": "x86_64"}, [1.0] * steps))
    out.append(("node_boot_time_seconds", base, host.boot))
    out.append(("node_time_seconds", base, [round(t, 3) for t in host.times]))
    r = rng(i + 1)
    out.append(("node_procs_running", base, [float(max(1, poisson(r, 2.5))) for _ in range(steps)]))
    for n, j in (("node_context_switches_total", i + 2), ("node_intr_total", i + 3)):
        r = rng(j)
        rate = r.uniform(500, 20_000)
        vals = counter(host, r, steps, int(r.uniform(0, 1e10)), lambda r, k, rate=rate: int(15 * rate * r.lognormvariate(0, 0.4)))
        out.append((n, base, [float(v) for v in vals]))
    assert len(out) == 109, len(out)
    return out


def poisson(r, lam):
    """A Poisson draw (Knuth's method; lam is small here)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def pod_series(host, steps, step, seed):
    """Pod churn: 5 slots, each a sequence of pods living 10–60 min; [(name, labels, first_step, values)]."""
    out = []
    for slot in range(5):
        r = random.Random((seed * 31 + host.h) * 17 + slot)
        k = 0
        app = ["api", "worker", "web", "cache", "batch"][slot]
        while k < steps:
            life = int(r.uniform(600, 3600) / step)
            n = min(life, steps - k)
            pod = f"{app}-{r.getrandbits(40):010x}"
            labels = {"job": "kubelet", "instance": f"host{host.h:04d}:10250", "namespace": "default", "pod": pod,
                      "container": app}
            cpu, v = [], 0.0
            for _ in range(n):
                v += max(0.0, 15 * r.lognormvariate(math.log(0.05), 0.9))
                cpu.append(round(v, 6))
            mem = walk(r, n, r.uniform(50, 500) * 2**20, 2**20, 4096, 16 * 2**20, 2**31, burst=64 * 2**20)
            out.append(("container_cpu_usage_seconds_total", labels, k, cpu))
            out.append(("container_memory_working_set_bytes", labels, k, [float(x) for x in mem]))
            k += n
    return out


def dataset(a):
    end = int(a.end) if a.end else 1_795_608_000
    start = end - int(a.hours * 3600)
    steps = int(a.hours * 3600 / a.step)
    w = sys.stdout.write
    for h in range(a.hosts):
        host = Host(h, steps, start, a.step, a.seed)
        for name, labels, vals in node_series(host, steps, a.seed):
            key = fmt_labels(name, labels)
            for k in range(steps):
                w(f"{key} {fmt_value(vals[k])} {host.times[k]:.3f}\n")
        for name, labels, first, vals in pod_series(host, steps, a.step, a.seed):
            key = fmt_labels(name, labels)
            for j, v in enumerate(vals):
                w(f"{key} {fmt_value(v)} {host.times[first + j]:.3f}\n")
    w("# EOF\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dataset")
    d.add_argument("--hosts", type=int, default=100)
    d.add_argument("--hours", type=float, default=2)
    d.add_argument("--step", type=int, default=15)
    d.add_argument("--end", default=None, help="end time, unix seconds (default 1795608000)")
    d.add_argument("--seed", type=int, default=19)
    a = ap.parse_args()
    dataset(a)
