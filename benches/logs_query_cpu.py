#!/usr/bin/env python3
"""Server CPU per log query, builds compared in alternation on one data dir, on 127.0.0.1 only.

    benches/logs_query_cpu.py --data /tmp/lookout-logs-bench/data OLD_BINARY NEW_BINARY [--rounds 2] [--queries 60]

The data dir is the one `benches/logs_bench.py` leaves (it is copied first, so the runs do not change it). For each
round and each binary: start `BINARY serve` on the copy, wait for /ready, warm up with 10 queries, then run each
query `--queries` times over the data's whole time range (limit 1000, backward, as Grafana asks) and print the
server's CPU seconds (utime+stime from /proc) per query, the best and median wall time. Every server is stopped at
the end, also on failure.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logs_bench import free_port, proc_cpu as cpu  # noqa: E402

QUERIES = [
    ("regex", '{app=~".+"} |~ "user\\":\\"u49[0-9][0-9]\\""'),
    ("needle", '{app="controller"} |= "pod-123"'),
]


def get(port, path, params=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))
    r = c.getresponse()
    body = r.read()
    return r.status, body


def time_range(port):
    """The first and last entry's timestamps, from the volume of every stream over a wide range."""
    now = time.time_ns()
    status, body = get(port, "/loki/api/v1/query_range", {
        "query": '{app=~".+"}', "limit": "1", "direction": "forward", "start": str(now - 30 * 86400 * 10**9),
        "end": str(now)})
    first = int(json.loads(body)["data"]["result"][0]["values"][0][0])
    status, body = get(port, "/loki/api/v1/query_range", {
        "query": '{app=~".+"}', "limit": "1", "start": str(first), "end": str(now)})
    last = int(json.loads(body)["data"]["result"][0]["values"][0][0])
    return first, last + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--data", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--queries", type=int, default=60)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lookout-logs-cpu-")
    data = os.path.join(work, "data")
    shutil.copytree(a.data, data)
    server = None
    try:
        for _ in range(a.rounds):
            for binary in a.binaries:
                port = free_port()
                server = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
                                           "--memory-limit", "256MiB"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
                for _ in range(150):
                    try:
                        if get(port, "/ready")[0] == 200:
                            break
                    except OSError:
                        pass
                    time.sleep(0.2)
                else:
                    sys.exit(f"{binary} did not become ready")
                start, end = time_range(port)
                for name, q in QUERIES:
                    params = {"query": q, "limit": "1000", "start": str(start), "end": str(end)}
                    for _ in range(10):
                        get(port, "/loki/api/v1/query_range", params)
                    c0 = cpu(server.pid)
                    walls = []
                    for _ in range(a.queries):
                        t0 = time.perf_counter()
                        status, body = get(port, "/loki/api/v1/query_range", params)
                        walls.append(time.perf_counter() - t0)
                        assert status == 200, body[:200]
                    per = (cpu(server.pid) - c0) / a.queries
                    walls.sort()
                    print(f"{binary} {name}: server CPU {per * 1000:.1f} ms per query, wall best "
                          f"{walls[0] * 1000:.1f} ms, median {walls[len(walls) // 2] * 1000:.1f} ms", flush=True)
                server.terminate()
                server.wait()
                server = None
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
