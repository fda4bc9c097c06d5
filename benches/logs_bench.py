#!/usr/bin/env python3
"""Lookout's log store against grep and zstd -3 on the same text, in one run, on 127.0.0.1 only.

Data: ../shared/bench/loggen.py --loki (push bodies of 1,000 entries over --streams streams, 1 ms apart); the lines
of those bodies are also written as plain text, so grep and zstd read exactly the bytes Lookout ingests.

Phases (one heavy thing at a time; the server is killed at the end, also on failure or Ctrl-C):
  1. baselines: `zstd -3` of the text (bytes, seconds); page-cached `grep` for each filter query (best of --runs).
  2. ingest: a fresh data dir, `lookout serve --memory-limit <--memory-limit>`; --senders connections POST the JSON
     bodies to /loki/api/v1/push; a push counts when its 204 arrives. Raw MB/s per core = raw line bytes / the
     server's CPU seconds (utime+stime) over the push phase; wall MB/s beside it. Peak RSS (VmHWM) of the run.
  3. disk: after the last commit (a flush wait), every byte under <data>/logs / raw line bytes.
  4. once the server is idle (CPU under 5 % for three seconds in a row, at most 60 s), queries over the whole range (log queries
     with limit=--limit, backward, as Grafana asks), best of --runs,
     each beside grep over the text file; the metric query beside an awk/grep pipeline is not meaningful, so it is
     reported alone.

Usage: benches/logs_bench.py [--bytes 500000000] [--memory-limit 256MiB] [--senders 4] [--runs 3] [--out FILE]
Needs: target/release/lookout (cargo build --release -p lookout), grep, zstd.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LOOKOUT_SHARED", os.path.join(ROOT, "..", "shared"))
LOGGEN = os.path.join(SHARED, "bench", "loggen.py")
LOOKOUT = os.path.abspath(os.environ.get("LOOKOUT_BIN", os.path.join(ROOT, "target", "release", "lookout")))
CLK_TCK = os.sysconf("SC_CLK_TCK")

# (name, LogQL, grep argv over the text file) — the grep column reads all bytes, as a user without an index would.
QUERIES = [
    ("needle in one app", '{app="controller"} |= "pod-123"', ["grep", "-F", "pod-123"]),
    ("error level, all streams", '{app=~".+"} |= "\\"level\\":\\"error\\""', ["grep", "-F", '"level":"error"']),
    ("regex", '{app=~".+"} |~ "user\\":\\"u49[0-9][0-9]\\""', ["grep", "-E", 'user":"u49[0-9][0-9]"']),
    ("json + numeric filter", '{app="api"} | json | dur_ms > 500', ["grep", "-E", '"dur_ms":(50[1-9]|5[1-9][0-9]|[6-9][0-9][0-9])']),
]
METRIC = 'sum by (level) (count_over_time({app="api"} | json [1m]))'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLK_TCK


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total


def generate(work, nbytes, streams, start_ns):
    bodies = os.path.join(work, f"push-{nbytes}.jsonl")
    text = os.path.join(work, f"lines-{nbytes}.txt")
    if not (os.path.exists(bodies) and os.path.exists(text)):
        with open(bodies + ".tmp", "w") as out:
            subprocess.run([sys.executable, LOGGEN, "--loki", "--bytes", str(nbytes), "--streams", str(streams),
                            "--start-ns", str(start_ns)], stdout=out, check=True)
        raw = 0
        with open(bodies + ".tmp") as src, open(text + ".tmp", "w") as out:
            for body in src:
                for s in json.loads(body)["streams"]:
                    for _, line in s["values"]:
                        out.write(line + "\n")
                        raw += len(line.encode())
        os.replace(bodies + ".tmp", bodies)
        os.replace(text + ".tmp", text)
    raw = 0
    first = last = None
    with open(bodies) as src:
        for body in src:
            for s in json.loads(body)["streams"]:
                for ts, line in s["values"]:
                    raw += len(line.encode())
                    t = int(ts)
                    first = t if first is None else min(first, t)
                    last = t if last is None else max(last, t)
    return bodies, text, raw, first, last


def best_of(runs, fn):
    best = None
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, default=500_000_000)
    ap.add_argument("--streams", type=int, default=300)
    ap.add_argument("--memory-limit", default="256MiB")
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lookout-logs-bench"))
    ap.add_argument("--ingest-only", action="store_true", help="stop after the ingest and disk figures")
    ap.add_argument("--out")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(LOOKOUT):
        sys.exit(f"{LOOKOUT} is missing: cargo build --release -p lookout")
    # Fixed start two hours before the run's hour, so every entry is in the past and the data is cached between runs.
    start_ns = (int(time.time()) // 3600 * 3600 - 4 * 3600) * 10**9
    print(f"generating {a.bytes:,} bytes of lines with {LOGGEN} …", flush=True)
    bodies, text, raw, first, last = generate(a.work, a.bytes, a.streams, start_ns)
    lines = sum(1 for _ in open(text, "rb"))
    print(f"{lines:,} lines, {raw:,} raw line bytes, {(last - first) / 1e9 / 3600:.2f} h", flush=True)
    results = {"raw_bytes": raw, "lines": lines}

    # 1. Baselines.
    subprocess.run(["cat", text], stdout=subprocess.DEVNULL, check=True)  # page cache
    t0 = time.perf_counter()
    z = subprocess.run(["zstd", "-3", "-c", "-T1", text], stdout=subprocess.PIPE, check=True).stdout
    results["zstd3_bytes"] = len(z)
    results["zstd3_seconds"] = time.perf_counter() - t0
    del z
    greps = {}
    for name, _, argv in QUERIES:
        dt, out = best_of(a.runs, lambda: subprocess.run(argv + [text], stdout=subprocess.PIPE).stdout)
        greps[name] = (dt, out.count(b"\n"))

    # 2. Ingest.
    data = os.path.join(a.work, "data")
    shutil.rmtree(data, ignore_errors=True)
    port = free_port()
    log = open(os.path.join(a.work, "lookout.log"), "w")
    server = subprocess.Popen([LOOKOUT, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
                               "--memory-limit", a.memory_limit], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/ready")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("lookout did not become ready")
            time.sleep(0.2)
        with open(bodies, "rb") as f:
            all_bodies = f.read().splitlines()
        errors = []
        retries = [0]
        next_body = [0]
        lock = threading.Lock()

        def sender():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            while True:
                with lock:
                    i = next_body[0]
                    next_body[0] += 1
                if i >= len(all_bodies):
                    return
                # Retried on 429 with a short backoff, as Alloy and Promtail retry; bounded by the attempts.
                for attempt in range(2000):
                    c.request("POST", "/loki/api/v1/push", body=all_bodies[i],
                              headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    body = r.read()
                    if r.status == 429:
                        retries[0] += 1
                        time.sleep(min(0.5, 0.01 * (attempt + 1)))
                        continue
                    break
                if r.status != 204:
                    errors.append((r.status, body[:300]))
                    return

        cpu0 = proc_cpu(server.pid)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=sender) for _ in range(a.senders)]
        for t in threads:
            t.start()
        peak_rss = 0
        while any(t.is_alive() for t in threads):
            peak_rss = max(peak_rss, proc_status(server.pid, "VmRSS"))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        cpu = proc_cpu(server.pid) - cpu0
        del all_bodies
        if errors:
            sys.exit(f"push refused: {errors[:3]}")
        results.update(ingest_wall_s=wall, ingest_cpu_s=cpu, ingest_mb_per_cpu_s=raw / 1e6 / cpu,
                       ingest_mb_per_wall_s=raw / 1e6 / wall, ingest_peak_rss=peak_rss, retries_429=retries[0])
        # 3. Disk, after the buffered entries are committed.
        time.sleep(3)
        results["disk_bytes"] = du(os.path.join(data, "logs"))

        if a.ingest_only:
            print(f"ingest: {results['ingest_mb_per_cpu_s']:.1f} MB/CPU s, {results['ingest_wall_s']:.1f} s wall, "
                  f"peak RSS {peak_rss / 2**20:.0f} MiB, disk {results['disk_bytes'] / raw:.3f} B/raw B, "
                  f"{results['retries_429']} retries", flush=True)
            return
        # 4. Queries, once the server is idle (background merges of the last commits done: its CPU under 5 % for three
        # seconds in a row, waited for at most 60 s), as a query of past logs meets it.
        settle_deadline = time.time() + 60
        idle = 0
        while time.time() < settle_deadline and idle < 3:
            c0 = proc_cpu(server.pid)
            time.sleep(1)
            idle = idle + 1 if proc_cpu(server.pid) - c0 < 0.05 else 0
        results["settle_s"] = 60 - max(0.0, settle_deadline - time.time())
        def query(path, params):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            c.request("GET", path + "?" + urllib.parse.urlencode(params))
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError(f"{params['query']}: {r.status} {body[:300]!r}")
            return json.loads(body)

        rng = {"start": str(first), "end": str(last + 1)}
        qres = []
        for name, q, _ in QUERIES:
            dt, out = best_of(a.runs, lambda: query("/loki/api/v1/query_range",
                                                       dict(rng, query=q, limit=str(a.limit))))
            n = sum(len(s["values"]) for s in out["data"]["result"])
            qres.append((name, q, dt, n, greps[name]))
        # A refused query is reported, not fatal: the other figures of the run still count.
        try:
            metric_dt, out = best_of(a.runs, lambda: query("/loki/api/v1/query_range",
                                                           dict(rng, query=METRIC, step="60")))
            metric = f"{metric_dt * 1000:.0f} ms, {len(out['data']['result'])} series"
        except RuntimeError as e:
            metric = f"refused: {e}"
        results["peak_rss"] = proc_status(server.pid, "VmHWM")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()

    out = []
    out.append(f"lines {lines:,}, raw line bytes {raw:,} ({raw / 1e6:.0f} MB), memory limit {a.memory_limit}, "
               f"{a.senders} senders")
    out.append("")
    out.append("| figure | Lookout | baseline | ratio |")
    out.append("|---|---|---|---|")
    out.append(f"| ingest, raw MB per CPU second (acknowledged) | {results['ingest_mb_per_cpu_s']:.1f} "
               f"({results['ingest_cpu_s']:.1f} CPU s, {results['ingest_wall_s']:.1f} s wall, "
               f"{results['ingest_mb_per_wall_s']:.1f} MB/s wall, {results['retries_429']} pushes retried after 429) | – | – |")
    out.append(f"| disk bytes per raw byte (everything under data/logs) | {results['disk_bytes'] / raw:.3f} "
               f"({results['disk_bytes'] / 1e6:.0f} MB) | zstd -3: {results['zstd3_bytes'] / raw:.3f} "
               f"({results['zstd3_seconds']:.1f} s) | {results['disk_bytes'] / results['zstd3_bytes']:.2f}× zstd |")
    out.append(f"| peak RSS while ingesting (VmRSS sampled every 0.2 s) | {results['ingest_peak_rss'] / 2**20:.0f} MiB "
               f"| limit {a.memory_limit} | – |")
    out.append(f"| peak RSS of the whole run, queries included (VmHWM) | {results['peak_rss'] / 2**20:.0f} MiB "
               f"| limit {a.memory_limit} | – |")
    for name, q, dt, n, (gdt, gn) in qres:
        out.append(f"| `{q}` (limit {a.limit}) | {dt * 1000:.0f} ms, {n} lines | grep: {gdt * 1000:.0f} ms, "
                   f"{gn} lines | {gdt / dt:.1f}× faster |")
    out.append(f"| `{METRIC}` over {(last - first) / 1e9 / 3600:.1f} h, step 60 s | {metric} | – | – |")
    text_out = "\n".join(out)
    print(text_out)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text_out + "\n")


if __name__ == "__main__":
    main()
