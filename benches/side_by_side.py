#!/usr/bin/env python3
"""Lookout side by side with Prometheus and VictoriaMetrics, in one run, on 127.0.0.1 only.

Phases (one heavy thing at a time; every server is killed at the end, also on failure or Ctrl-C):
  1. live scrape, per size (--sizes, default 100 1000 hosts = 10,900 / 109,000 series): the three servers scrape
     their own `nodegen.py serve` target every 15 s for --minutes-per-size; RSS (VmRSS, VmHWM) and CPU seconds per
     million samples ingested (utime+stime over the steady window / each server's own ingested-samples counter).
  2. import, per server on a fresh data dir: the `nodegen.py dataset` file (100 hosts, 2 h, 15 s) through Lookout's
     and VictoriaMetrics' /api/v1/import/prometheus (ms timestamps, ~5 MB bodies) and promtool
     create-blocks-from openmetrics; on-disk bytes per sample once persisted; median latency of the PromQL query list
     as range queries over the 2 h at 15 s step.
  3. remote_write, per server on a fresh data dir: the same dataset as snappy protobuf WriteRequests (time-major,
     2,000 samples per request as Prometheus sends), sent by --rw-connections connections; samples/s and CPU.

Usage: benches/side_by_side.py [--sizes 100 1000] [--minutes-per-size 4 6] [--dataset FILE] [--out FILE]
Needs: target/release/lookout (cargo build --release -p lookout), /usr/bin/prometheus, promtool,
victoria-metrics (Debian packages), python3 with cramjam for snappy (pip install cramjam; without it requests are
snappy-framed but uncompressed).
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LOOKOUT_SHARED", os.path.join(ROOT, "..", "shared"))
NODEGEN = os.path.join(SHARED, "bench", "nodegen.py")
LOOKOUT = os.path.abspath(os.environ.get("LOOKOUT_BIN", os.path.join(ROOT, "target", "release", "lookout")))
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVERS = ["lookout", "prometheus", "victoriametrics"]
# The query list of benches/src/bin/query_bench.rs (keep both in step).
QUERIES = [
    ("rate all cpu", "rate(node_cpu_seconds_total[5m])"),
    ("sum by job", "sum by (job) (rate(node_network_receive_bytes_total[5m]))"),
    ("sum by instance", "sum by (instance) (rate(node_network_receive_bytes_total[5m]))"),
    ("histogram_quantile", "histogram_quantile(0.9, sum by (le) (rate(node_scrape_latency_seconds_bucket[5m])))"),
    ("topk", "topk(10, node_memory_MemFree_bytes)"),
    ("regex matcher", 'rate(node_disk_read_bytes_total{device=~"sd.*"}[5m])'),
    ("group_left join", "node_filesystem_avail_bytes / on (instance) group_left node_boot_time_seconds"),
    ("sum of rate", 'sum(rate(node_cpu_seconds_total{mode!="idle"}[5m]))'),
    ("avg by instance", "avg by (instance) (node_load1)"),
    ("ratio", "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"),
]
# Each server's own counter of samples written to its storage.
INGEST_COUNTER = {
    "lookout": "lookout_tsdb_samples_appended_total",
    "prometheus": "prometheus_tsdb_head_samples_appended_total",
    "victoriametrics": "vm_rows_added_to_storage_total",
}
IMPORT_BODY_BYTES = 5 << 20
RW_SAMPLES_PER_REQUEST = 2000


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


class Processes:
    """Every process this script starts, so all of them are stopped at the end whatever happens."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, cwd=None):
        logf = open(os.path.join(cwd or tempfile.gettempdir(), f"{name}.log"), "wb")
        p = subprocess.Popen(argv, cwd=cwd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    def stop_all(self):
        for _, p in reversed(self.procs):
            try:
                self.stop(p)
            except Exception as e:  # keep stopping the others
                log(f"stopping {p.pid}: {e}")
        self.procs.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def wait_until(what, check, timeout_s, every_s=0.5):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            v = check()
            if v:
                return v
        except Exception:
            pass
        time.sleep(every_s)
    raise RuntimeError(f"timed out after {timeout_s} s waiting for {what}")


def metric_sum(base, name):
    """Sum of every sample of metric `name` (any labels) on base/metrics."""
    total, found = 0.0, False
    for line in http_get(base + "/metrics").decode().splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
            found = True
    if not found:
        raise RuntimeError(f"{base}/metrics has no {name}")
    return total


def proc_memory(pid):
    """(VmRSS, VmHWM) in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out["VmRSS"], out["VmHWM"]


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def dir_bytes(path):
    """(apparent bytes, allocated bytes) of every file under path."""
    apparent = allocated = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                st = os.stat(os.path.join(dirpath, f))
            except FileNotFoundError:
                continue
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated


def scrape_config(path, target):
    with open(path, "w") as f:
        f.write(
            "global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n"
            "scrape_configs:\n  - job_name: node\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )


def start_server(procs, kind, workdir, config, remote_write_receiver=False, data_dir=None):
    """Starts one server on a free port; returns (Popen, base URL, data dir)."""
    port = free_port()
    data = data_dir or os.path.join(workdir, "data")
    os.makedirs(data, exist_ok=True)
    if kind == "lookout":
        argv = [LOOKOUT, "serve", "--config", config, "--data-dir", data, "--listen", f"127.0.0.1:{port}",
                "--memory-limit", "1GiB"]
    elif kind == "prometheus":
        argv = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"]
        if remote_write_receiver:
            argv.append("--web.enable-remote-write-receiver")
    else:
        argv = ["victoria-metrics", f"-storageDataPath={data}", f"-httpListenAddr=127.0.0.1:{port}",
                "-retentionPeriod=100y", "-search.disableCache"]
        if config:
            argv.append(f"-promscrape.config={config}")
    p = procs.start(kind, argv, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    ready = {"lookout": "/-/ready", "prometheus": "/-/ready", "victoriametrics": "/health"}[kind]
    wait_until(f"{kind} ready", lambda: p.poll() is None and http_get(base + ready, timeout=5) is not None, 60)
    return p, base, data


# ---------------------------------------------------------------- phase 1: live scrape


def live_phase(procs, workroot, hosts, minutes):
    """Three servers scraping their own nodegen target for `minutes`; returns {server: figures}."""
    log(f"live scrape: {hosts} hosts for {minutes} min")
    started = {}
    for kind in SERVERS:
        wd = os.path.join(workroot, f"live-{hosts}-{kind}")
        os.makedirs(wd, exist_ok=True)
        tport = free_port()
        gen = procs.start(f"nodegen-{kind}", [sys.executable, NODEGEN, "serve", "--hosts", str(hosts),
                                              "--port", str(tport)], cwd=wd)
        wait_until("nodegen target", lambda: gen.poll() is None and http_get(
            f"http://127.0.0.1:{tport}/metrics", timeout=60), 120, every_s=1)
        cfg = os.path.join(wd, "scrape.yml")
        scrape_config(cfg, f"127.0.0.1:{tport}")
        p, base, data = start_server(procs, kind, wd, cfg)
        started[kind] = (p, base, data)
    warmup = min(90, minutes * 60 / 3)
    time.sleep(warmup)
    first = {k: (proc_cpu_seconds(p.pid), metric_sum(b, INGEST_COUNTER[k])) for k, (p, b, _) in started.items()}
    rss_samples = {k: [] for k in started}
    deadline = time.time() + minutes * 60 - warmup
    while time.time() < deadline:
        for k, (p, _, _) in started.items():
            if p.poll() is not None:
                raise RuntimeError(f"{k} exited with {p.returncode} during the live phase (see its log)")
            rss_samples[k].append(proc_memory(p.pid)[0])
        time.sleep(5)
    out = {}
    for k, (p, b, data) in started.items():
        cpu1, n1 = proc_cpu_seconds(p.pid), metric_sum(b, INGEST_COUNTER[k])
        rss, hwm = proc_memory(p.pid)
        cpu0, n0 = first[k]
        out[k] = {
            "rss": rss, "hwm": hwm, "rss_mean": statistics.mean(rss_samples[k]),
            "samples": n1 - n0, "cpu": cpu1 - cpu0,
            "cpu_per_m": (cpu1 - cpu0) / max(n1 - n0, 1) * 1e6,
            "samples_per_scrape": (n1 - n0) / max((minutes * 60 - warmup) / 15, 1),
            "disk": dir_bytes(data)[0],
        }
        if k == "lookout":
            # The TSDB's own estimate of its head, to tell head data from the rest of the process in the RSS.
            out[k]["head_bytes"] = metric_sum(b, "lookout_tsdb_head_bytes")
        log(f"  {k}: {out[k]}")
    procs.stop_all()
    return out


# ---------------------------------------------------------------- dataset helpers


def read_dataset_lines(path):
    """Yields (key, value text, milliseconds) of every sample line."""
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            key, value, ts = line.rstrip("\n").rsplit(" ", 2)
            # Seconds, with or without a fraction (noisygen.py jitters scrape times by milliseconds).
            yield key, value, round(float(ts) * 1000)


def import_bodies(path):
    """Text-format bodies with ms timestamps, about IMPORT_BODY_BYTES each."""
    buf, size = [], 0
    for key, value, ts in read_dataset_lines(path):
        line = f"{key} {value} {ts}\n"
        buf.append(line)
        size += len(line)
        if size >= IMPORT_BODY_BYTES:
            yield "".join(buf).encode()
            buf, size = [], 0
    if buf:
        yield "".join(buf).encode()


def post(conn, path, body, headers):
    conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read()
    if r.status // 100 != 2:
        raise RuntimeError(f"POST {path} answered {r.status}: {text[:300]!r}")


def http_conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=300)


def range_query_ms(kind, base, query, start, end, runs):
    """Median ms of `runs` range queries (after one warm-up) and the result's series count."""
    params = {"query": query, "start": str(start), "end": str(end), "step": "15"}
    if kind == "victoriametrics":
        params["nocache"] = "1"  # VictoriaMetrics caches range results otherwise
    url = f"{base}/api/v1/query_range?{urllib.parse.urlencode(params)}"
    import json
    body = json.loads(http_get(url, timeout=300))
    if body.get("status") != "success":
        raise RuntimeError(f"{kind} {query}: {body}")
    series = len(body["data"]["result"])
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        http_get(url, timeout=300)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), series


# ---------------------------------------------------------------- phase 2: import, disk, queries


def import_phase(procs, workroot, dataset, samples, start_s, end_s, runs):
    out = {}
    wal_left = 0
    for kind in SERVERS:
        log(f"import: {kind}")
        wd = os.path.join(workroot, f"import-{kind}")
        os.makedirs(wd, exist_ok=True)
        t0 = time.time()
        if kind == "prometheus":
            data = os.path.join(wd, "data")
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", dataset, data], check=True,
                           stdout=subprocess.DEVNULL, timeout=1200)
            load_s = time.time() - t0
            disk = dir_bytes(data)
            cfg = os.path.join(wd, "empty.yml")
            with open(cfg, "w") as f:
                f.write("scrape_configs: []\n")
            p, base, _ = start_server(procs, kind, wd, cfg, data_dir=data)
        else:
            cfg = None
            if kind == "lookout":
                cfg = os.path.join(wd, "empty.yml")
                with open(cfg, "w") as f:
                    f.write("scrape_configs: []\n")
            p, base, data = start_server(procs, kind, wd, cfg)
            conn = http_conn(base)
            for body in import_bodies(dataset):
                post(conn, "/api/v1/import/prometheus", body, {"Content-Type": "text/plain"})
            load_s = time.time() - t0
            if kind == "lookout":
                # One later sample moves the head's newest time 1 h past the block end: the block is complete
                # and the next maintenance round persists it to sled and truncates the WAL, as in production.
                marker = f"side_by_side_marker 1 {(end_s + 3615) * 1000}\n".encode()
                post(conn, "/api/v1/import/prometheus", marker, {"Content-Type": "text/plain"})
                wait_until("lookout persistence of the imported block",
                           lambda: metric_sum(base, "lookout_tsdb_persisted_boundary_ms") >= end_s * 1000
                           and metric_sum(base, "lookout_tsdb_wal_truncations_total") >= 1, 180, every_s=2)
            else:
                http_get(base + "/internal/force_flush")
                time.sleep(15)  # let the in-memory parts reach disk and the first merges settle
            conn.close()
            disk = dir_bytes(data)
            if kind == "lookout":
                # The WAL segment holding the imported samples also holds the marker, which stays in the head (and
                # that segment on disk) until the next block persists; the imported data itself is persisted. So
                # the figure is the whole data dir (part files, sled, the log store's empty files) but the WAL,
                # which is reported beside it.
                # The head chunk log (a cache of the WAL) goes with it; persistence has emptied it by now.
                wal = dir_bytes(os.path.join(data, "wal"))
                chunk_log = dir_bytes(os.path.join(data, "head_chunks"))
                wal_left = wal[0] + chunk_log[0]
                disk = (disk[0] - wal[0] - chunk_log[0], disk[1] - wal[1] - chunk_log[1])
        stored = metric_sum(base, INGEST_COUNTER[kind]) if kind != "prometheus" else samples
        queries = {}
        for name, q in QUERIES:
            queries[name] = range_query_ms(kind, base, q, start_s, end_s - 15, runs)
        rss, hwm = proc_memory(p.pid)
        out[kind] = {"load_s": load_s, "disk": disk[0], "wal_left": wal_left if kind == "lookout" else 0, "disk_alloc": disk[1],
                     "bytes_per_sample": disk[0] / samples, "stored": stored, "queries": queries,
                     "rss_after_queries": rss, "hwm": hwm}
        log(f"  {kind}: {out[kind]}")
        procs.stop_all()
    return out


# ---------------------------------------------------------------- phase 3: remote_write


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def labels_proto(key):
    """Encoded `Label` fields (field 1 of TimeSeries) of a nodegen series key, sorted by name."""
    name, _, rest = key.partition("{")
    pairs = [("__name__", name)]
    for kv in rest.rstrip("}").split(","):
        if kv:
            k, v = kv.split("=", 1)
            pairs.append((k, v.strip('"')))
    pairs.sort()
    return b"".join(field_bytes(1, field_bytes(1, k.encode()) + field_bytes(2, v.encode())) for k, v in pairs)


def snappy_literals(data):
    """Snappy block format made only of literals: valid for every decoder, no compression."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        piece = data[i:i + 65536]
        n = len(piece) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += piece
    return bytes(out)


def snappy_block(data):
    try:
        import cramjam
        return bytes(cramjam.snappy.compress_raw(data))
    except ImportError:
        return snappy_literals(data)


def remote_write_requests(path, shards):
    """Snappy WriteRequests of the whole dataset for `shards` connections, as a Prometheus queue builds them: every
    series belongs to one shard (so its samples arrive in order), each shard's requests are time-major (one sample
    per live series per scrape step) with RW_SAMPLES_PER_REQUEST samples each. Returns (bodies per shard, samples)."""
    from array import array
    index, labels, times, values = {}, [], [], []
    for key, value, ts in read_dataset_lines(path):
        i = index.get(key)
        if i is None:
            i = index[key] = len(labels)
            labels.append(labels_proto(key))
            times.append(array("q"))
            values.append(array("d"))
        times[i].append(ts)
        values[i].append(float(value))
    # Scrape steps count from the earliest sample, so a series born later (pod churn) is sent at its own time,
    # not with the first scrape: series with offset o send their k-th sample at step o + k.
    t0 = min(t[0] for t in times)
    offsets = [(t[0] - t0) // 15000 for t in times]
    steps = max(o + len(t) for o, t in zip(offsets, times))
    pack = struct.Struct("<d").pack
    out, total = [], 0
    for shard in range(shards):
        members = range(shard, len(labels), shards)
        bodies, batch = [], []
        for g in range(steps):
            for i in members:
                k = g - offsets[i]
                if k < 0 or k >= len(times[i]):
                    continue
                sample = b"\x09" + pack(values[i][k]) + b"\x10" + varint(times[i][k])
                ts_msg = labels[i] + b"\x12" + varint(len(sample)) + sample
                batch.append(b"\x0a" + varint(len(ts_msg)) + ts_msg)
                if len(batch) == RW_SAMPLES_PER_REQUEST:
                    bodies.append(snappy_block(b"".join(batch)))
                    total += len(batch)
                    batch = []
        if batch:
            bodies.append(snappy_block(b"".join(batch)))
            total += len(batch)
        out.append(bodies)
    return out, total


def remote_write_phase(procs, workroot, shards, samples):
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
               "X-Prometheus-Remote-Write-Version": "0.1.0"}
    out = {}
    for kind in SERVERS:
        log(f"remote_write: {kind}")
        wd = os.path.join(workroot, f"rw-{kind}")
        os.makedirs(wd, exist_ok=True)
        cfg = None
        if kind != "victoriametrics":
            cfg = os.path.join(wd, "empty.yml")
            with open(cfg, "w") as f:
                f.write("scrape_configs: []\n")
        p, base, _ = start_server(procs, kind, wd, cfg, remote_write_receiver=True)
        errors = []

        def sender(bodies):
            conn = http_conn(base)
            try:
                for body in bodies:
                    post(conn, "/api/v1/write", body, headers)
            except Exception as e:
                errors.append(str(e))
            finally:
                conn.close()

        cpu0 = proc_cpu_seconds(p.pid)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=sender, args=(b,)) for b in shards]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=1200)
        secs = time.perf_counter() - t0
        cpu = proc_cpu_seconds(p.pid) - cpu0
        if kind == "victoriametrics":
            http_get(base + "/internal/force_flush")
        stored = wait_until(f"{kind} counter", lambda: metric_sum(base, INGEST_COUNTER[kind]), 30)
        rss, hwm = proc_memory(p.pid)
        out[kind] = {"seconds": secs, "samples_per_s": samples / secs, "cpu": cpu,
                     "cpu_per_m": cpu / samples * 1e6, "stored": stored, "errors": errors[:3],
                     "hwm": hwm, "rss": rss}
        log(f"  {kind}: {out[kind]}")
        procs.stop_all()
    return out


# ---------------------------------------------------------------- report


def mib(b):
    return b / (1 << 20)


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "n/a"


def report(args, live, imp, rw, samples, rw_bytes):
    lines = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores; "
             f"command: `{' '.join(sys.argv)}`", ""]
    L, P, V = SERVERS
    for hosts, res in live.items():
        lines += [f"### Live scrape, {hosts} hosts ({hosts * 109:,} series + each server's own per-target series; 15 s, "
                  f"{args.minutes[list(live).index(hosts)]} min, steady window after warm-up)", "",
                  "| | Lookout | Prometheus 2.42 | VictoriaMetrics 1.79 | Lookout / Prometheus | Lookout / VM |",
                  "|---|---:|---:|---:|---:|---:|"]
        for label, key, fmt in [("RSS at end (MiB)", "rss", mib), ("mean RSS, steady window (MiB)", "rss_mean", mib),
                                ("peak RSS VmHWM (MiB)", "hwm", mib),
                                ("CPU s per M samples", "cpu_per_m", lambda x: x),
                                ("samples ingested per scrape", "samples_per_scrape", lambda x: x)]:
            a, b, c = (fmt(res[k][key]) for k in SERVERS)
            lines.append(f"| {label} | {a:,.1f} | {b:,.1f} | {c:,.1f} | {ratio(a, b)} | {ratio(a, c)} |")
        if "head_bytes" in res[L]:
            lines.append(f"| Lookout head estimate at end (MiB, `lookout_tsdb_head_bytes`) | "
                         f"{mib(res[L]['head_bytes']):,.1f} | | | | |")
        lines.append("")
    if imp:
        lines += [f"### Imported dataset ({samples:,} samples, 2 h × 15 s; {os.path.basename(args.dataset or 'nodegen-100.om')})", "",
                  "| | Lookout | Prometheus 2.42 | VictoriaMetrics 1.79 | Lookout / Prometheus | Lookout / VM |",
                  "|---|---:|---:|---:|---:|---:|"]
        a, b, c = (imp[k]["bytes_per_sample"] for k in SERVERS)
        lines.append(f"| on-disk bytes/sample (apparent) | {a:.3f} | {b:.3f} | {c:.3f} | {ratio(a, b)} | {ratio(a, c)} |")
        lines.append(f"| (Lookout: the whole data dir but the WAL; the WAL segment still holding the marker sample adds "
                     f"{imp[L]['wal_left'] / samples:.2f} bytes/sample until the next block persists) | | | | | |")
        a, b, c = (imp[k]["disk_alloc"] / samples for k in SERVERS)
        lines.append(f"| on-disk bytes/sample (allocated) | {a:.3f} | {b:.3f} | {c:.3f} | {ratio(a, b)} | {ratio(a, c)} |")
        a, b, c = (imp[k]["load_s"] for k in SERVERS)
        lines.append(f"| load time s (import API; promtool for Prometheus) | {a:.1f} | {b:.1f} | {c:.1f} | "
                     f"{ratio(a, b)} | {ratio(a, c)} |")
        for name, q in QUERIES:
            (a, sa), (b, sb), (c, sc) = (imp[k]["queries"][name] for k in SERVERS)
            lines.append(f"| range `{q}` median ms (series {sa}/{sb}/{sc}) | {a:.1f} | {b:.1f} | {c:.1f} | "
                         f"{ratio(a, b)} | {ratio(a, c)} |")
        med = [statistics.median(v[0] for v in imp[k]["queries"].values()) for k in SERVERS]
        lines.append(f"| median of the query medians (ms) | {med[0]:.1f} | {med[1]:.1f} | {med[2]:.1f} | "
                     f"{ratio(med[0], med[1])} | {ratio(med[0], med[2])} |")
        # The geometric mean of each server's per-query latency ratio to Prometheus (Prometheus itself is 1).
        geo = [statistics.geometric_mean(imp[k]["queries"][n][0] / imp["prometheus"]["queries"][n][0]
                                         for n, _ in QUERIES) for k in SERVERS]
        lines.append(f"| geometric mean of the per-query latency ratios to Prometheus | {geo[0]:.2f} | {geo[1]:.2f} | "
                     f"{geo[2]:.2f} | | |")
        lines.append("")
    if rw:
        lines += [f"### remote_write ingest ({samples:,} samples, {len(rw_bytes)} requests of "
                  f"{RW_SAMPLES_PER_REQUEST} samples, {sum(rw_bytes) / len(rw_bytes) / 1024:.0f} KiB snappy each, "
                  f"{args.rw_connections} connections)", "",
                  "| | Lookout | Prometheus 2.42 | VictoriaMetrics 1.79 | Lookout / Prometheus | Lookout / VM |",
                  "|---|---:|---:|---:|---:|---:|"]
        a, b, c = (rw[k]["samples_per_s"] / 1e6 for k in SERVERS)
        lines.append(f"| M samples/s (wall, client on the same 2 cores) | {a:.2f} | {b:.2f} | {c:.2f} | "
                     f"{ratio(a, b)} | {ratio(a, c)} |")
        a, b, c = (rw[k]["cpu_per_m"] for k in SERVERS)
        lines.append(f"| server CPU s per M samples | {a:.2f} | {b:.2f} | {c:.2f} | {ratio(a, b)} | {ratio(a, c)} |")
        a, b, c = (mib(rw[k]["hwm"]) for k in SERVERS)
        lines.append(f"| peak RSS (MiB) | {a:.0f} | {b:.0f} | {c:.0f} | {ratio(a, b)} | {ratio(a, c)} |")
        a, b, c = (rw[k]["stored"] for k in SERVERS)
        lines.append(f"| samples stored (own counter) | {a:,.0f} | {b:,.0f} | {c:,.0f} | | |")
        errs = {k: rw[k]["errors"] for k in SERVERS if rw[k]["errors"]}
        if errs:
            lines.append(f"\nErrors: {errs}")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 1000], help="hosts per live phase")
    ap.add_argument("--minutes", type=float, nargs="*", default=[4, 7], help="minutes per live phase")
    ap.add_argument("--dataset", help="nodegen dataset file (default: generated, 100 hosts, ending 2 h ago)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    ap.add_argument("--rw-connections", type=int, default=2)
    ap.add_argument("--skip", nargs="*", default=[], choices=["live", "import", "rw"])
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--out", help="also write the markdown report here")
    args = ap.parse_args()
    if len(args.minutes) < len(args.sizes):
        args.minutes += [args.minutes[-1]] * (len(args.sizes) - len(args.minutes))
    if not os.path.exists(LOOKOUT):
        sys.exit(f"{LOOKOUT} is missing: cargo build --release -p lookout")
    for tool in ("prometheus", "promtool", "victoria-metrics"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (Debian packages prometheus and victoria-metrics)")
    workroot = tempfile.mkdtemp(prefix="lookout-sbs-", dir=args.workdir)
    procs = Processes()
    # SIGTERM/SIGHUP unwind like Ctrl-C so the finally below stops every server.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    live, imp, rw, rw_bytes, samples = {}, {}, {}, [], 0
    try:
        if "live" not in args.skip:
            for hosts, minutes in zip(args.sizes, args.minutes):
                live[hosts] = live_phase(procs, workroot, hosts, minutes)
        if "import" not in args.skip or "rw" not in args.skip:
            dataset = args.dataset
            if not dataset:
                end = int(time.time()) // 7200 * 7200 - 7200
                dataset = os.path.join(workroot, "nodegen-100.om")
                log(f"generating {dataset}")
                with open(dataset, "w") as f:
                    subprocess.run([sys.executable, NODEGEN, "dataset", "--hosts", "100", "--hours", "2",
                                    "--step", "15", "--end", str(end)], stdout=f, check=True, timeout=1200)
            first_ms = next(read_dataset_lines(dataset))[2]
            start_s = first_ms // 1000 // 15 * 15
            end_s = start_s + 7200
            samples = sum(1 for _ in read_dataset_lines(dataset))
            if "import" not in args.skip:
                imp = import_phase(procs, workroot, dataset, samples, start_s, end_s, args.runs)
            if "rw" not in args.skip:
                log("encoding remote_write requests")
                shards, rw_samples = remote_write_requests(dataset, args.rw_connections)
                assert rw_samples == samples, (rw_samples, samples)
                rw_bytes = [len(b) for bodies in shards for b in bodies]
                rw = remote_write_phase(procs, workroot, shards, samples)
    finally:
        procs.stop_all()
    text = report(args, live, imp, rw, samples, rw_bytes)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    shutil.rmtree(workroot, ignore_errors=True)


if __name__ == "__main__":
    main()
