#!/usr/bin/env python3
"""What simple per-chunk integer codes would cost on a data set, family by family: a yardstick for the sealed chunks.

  benches/noisy_codes.py /tmp/noisy-100.om [--hosts 10]

For each series of the first `--hosts` hosts, each 480-sample chunk of values scaled to integers (the smallest power
of ten up to 10^6 that makes them whole) is differenced once, divided by the differences' common factor, offset by 0
or their median (whichever codes smaller) and zig-zagged. Two codes of those residuals are sized, in bits per sample:

- the best exponential-Golomb code of the chunk (one parameter k for the chunk), one of the codes a sealed chunk
  can choose;
- a code of each residual's bit length by a per-chunk Huffman table (4 bits a table entry), then its bits after the
  leading one: what coding the lengths adaptively would give.

Compare with `tsdb_bench` run on one family (its part-file bytes) and with `benches/noisy_entropy.py` (the floor).
"""
import argparse
import collections
import heapq
import math
import re


def zigzag(x):
    return x << 1 if x >= 0 else ((-x) << 1) - 1


def exp_golomb_len(v, k):
    return 2 * (v + (1 << k)).bit_length() - 1 - k


def huffman_lengths(freqs):
    if len(freqs) == 1:
        return {s: 1 for s in freqs}
    heap = [(f, i, [s]) for i, (s, f) in enumerate(freqs.items())]
    heapq.heapify(heap)
    depth, n = collections.Counter(), len(heap)
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            depth[s] += 1
        n += 1
        heapq.heappush(heap, (f1 + f2, n, s1 + s2))
    return depth


def as_integers(vals):
    for d in range(7):
        m = 10 ** d
        if all(abs(v * m - round(v * m)) < 1e-9 * max(1, abs(v * m)) for v in vals):
            return [round(v * m) for v in vals]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--hosts", type=int, default=10)
    a = ap.parse_args()
    want = {f"host{i:04d}" for i in range(a.hosts)}
    series = collections.defaultdict(list)
    with open(a.dataset) as f:
        for line in f:
            if line[0] == "#":
                continue
            key, val, _ = line.rsplit(" ", 2)
            m = re.search(r'instance="([^":]*)', key)
            if m and m.group(1) in want:
                series[key].append(float(val))
    fam = collections.defaultdict(lambda: [0, 0, 0])
    for key, vals in series.items():
        name = key.split("{")[0]
        for c0 in range(0, len(vals), 480):
            ints = as_integers(vals[c0:c0 + 480])
            if ints is None or len(ints) < 3:
                continue
            d = [ints[i] - ints[i - 1] for i in range(1, len(ints))]
            g = 0
            for x in d:
                g = math.gcd(g, x)
            g = g or 1
            best = None
            for off in (0, sorted(d)[len(d) // 2]):
                r = [zigzag((x - off) // g) if (x - off) % g == 0 else zigzag(x - off) for x in d]
                eg = min(sum(exp_golomb_len(v, k) for v in r) for k in range(40))
                lengths = [v.bit_length() for v in r]
                table = huffman_lengths(collections.Counter(lengths))
                hc = sum(table[n] + max(n - 1, 0) for n in lengths) + 4 * (max(lengths) + 1)
                if best is None or eg < best[0]:
                    best = (eg, hc)
            f = fam[name]
            f[0] += best[0]
            f[1] += best[1]
            f[2] += len(d)
    print("| family | exp-Golomb, bits/sample | bit lengths by Huffman, bits/sample | samples |")
    print("|---|---:|---:|---:|")
    for name, (eg, hc, n) in sorted(fam.items()):
        print(f"| {name} | {eg / n:.2f} | {hc / n:.2f} | {n} |")


if __name__ == "__main__":
    main()
