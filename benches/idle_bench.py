#!/usr/bin/env python3
"""Idle footprint of the README's run command (the embedded default configuration: Lookout scrapes itself and the
built-in host collector every 15 s) beside what it replaces on a host, Debian's prometheus-node-exporter scraped
every 15 s by Prometheus 2.42 (which also scrapes itself), in one run, on 127.0.0.1 only.

After a warm-up, each process's VmRSS is sampled every second over the window (mean and maximum) and its CPU
seconds (utime+stime from /proc/<pid>/stat) are read at both ends; the report gives RSS and CPU seconds per minute
for Lookout alone and for node_exporter + Prometheus together, and their ratio.

Usage: benches/idle_bench.py [--warmup-s 60] [--minutes 5] [--out FILE]
Needs: target/release/lookout (cargo build --release -p lookout), /usr/bin/prometheus and
/usr/bin/prometheus-node-exporter (Debian).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side as sbs  # noqa: E402  (shared process, HTTP and /proc helpers)


def start_lookout(procs, workdir):
    """The README's run command (no --config, so the embedded default) on a free loopback port."""
    port = sbs.free_port()
    data = os.path.join(workdir, "data")
    p = procs.start("lookout", [sbs.LOOKOUT, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                    cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    sbs.wait_until("lookout ready", lambda: p.poll() is None and sbs.http_get(base + "/-/ready", timeout=5), 60)
    return p, base


def start_peers(procs, workdir):
    """node_exporter (default collectors) and Prometheus scraping it and itself every 15 s."""
    ne_port = sbs.free_port()
    ne = procs.start("node_exporter", ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{ne_port}"],
                     cwd=workdir)
    sbs.wait_until("node_exporter ready",
                   lambda: ne.poll() is None and sbs.http_get(f"http://127.0.0.1:{ne_port}/metrics", timeout=5), 30)
    config = os.path.join(workdir, "prometheus.yml")
    prom_port = sbs.free_port()
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\nscrape_configs:\n"
                f"  - job_name: prometheus\n    static_configs: [{{targets: ['127.0.0.1:{prom_port}']}}]\n"
                f"  - job_name: node\n    static_configs: [{{targets: ['127.0.0.1:{ne_port}']}}]\n")
    data = os.path.join(workdir, "data")
    prom = procs.start("prometheus", ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
                                      f"--web.listen-address=127.0.0.1:{prom_port}"], cwd=workdir)
    base = f"http://127.0.0.1:{prom_port}"
    sbs.wait_until("prometheus ready", lambda: prom.poll() is None and sbs.http_get(base + "/-/ready", timeout=5), 60)
    return ne, prom, base


def up_count(base, job):
    """How many `up{job=…}` series are 1 (checks that each server really scrapes its host metrics)."""
    import json
    import urllib.parse
    q = urllib.parse.quote(f'up{{job="{job}"}} == 1')
    body = json.loads(sbs.http_get(f"{base}/api/v1/query?query={q}", timeout=10))
    return len(body["data"]["result"])


def mb(b):
    return f"{sbs.mib(b):.1f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup-s", type=int, default=60)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args()
    if not os.access(sbs.LOOKOUT, os.X_OK):
        sys.exit(f"{sbs.LOOKOUT} is missing: cargo build --release -p lookout")
    procs = sbs.Processes()
    root = tempfile.mkdtemp(prefix="lookout-idle-")
    try:
        os.makedirs(os.path.join(root, "lookout"))
        os.makedirs(os.path.join(root, "peers"))
        lo, lo_base = start_lookout(procs, os.path.join(root, "lookout"))
        ne, prom, prom_base = start_peers(procs, os.path.join(root, "peers"))
        sbs.log(f"warm-up {args.warmup_s} s")
        time.sleep(args.warmup_s)
        for base, job in ((lo_base, "node"), (lo_base, "lookout"), (prom_base, "node"), (prom_base, "prometheus")):
            if up_count(base, job) != 1:
                raise RuntimeError(f"{base}: up{{job=\"{job}\"}} is not 1 after the warm-up")
        pids = {"lookout": lo.pid, "node_exporter": ne.pid, "prometheus": prom.pid}
        cpu0 = {k: sbs.proc_cpu_seconds(p) for k, p in pids.items()}
        rss = {k: [] for k in pids}
        window = args.minutes * 60
        sbs.log(f"measuring for {args.minutes} min")
        start = time.time()
        while time.time() - start < window:
            for k, p in pids.items():
                rss[k].append(sbs.proc_memory(p)[0])
            time.sleep(1)
        elapsed_min = (time.time() - start) / 60
        cpu = {k: (sbs.proc_cpu_seconds(p) - cpu0[k]) / elapsed_min for k, p in pids.items()}
        hwm = {k: sbs.proc_memory(p)[1] for k, p in pids.items()}
    finally:
        procs.stop_all()

    mean = {k: statistics.mean(v) for k, v in rss.items()}
    peak = {k: max(v) for k, v in rss.items()}
    peers_mean = mean["node_exporter"] + mean["prometheus"]
    peers_peak = peak["node_exporter"] + peak["prometheus"]
    peers_cpu = cpu["node_exporter"] + cpu["prometheus"]
    lines = [
        f"Idle footprint, {args.minutes:g} min after a {args.warmup_s} s warm-up, 15 s scrapes of the host and self",
        "",
        "| figure | Lookout (default config) | node_exporter | Prometheus | node_exporter + Prometheus | ratio |",
        "|---|---|---|---|---|---|",
        f"| RSS, mean | {mb(mean['lookout'])} | {mb(mean['node_exporter'])} | {mb(mean['prometheus'])}"
        f" | {mb(peers_mean)} | {sbs.ratio(mean['lookout'], peers_mean)} |",
        f"| RSS, max over the window | {mb(peak['lookout'])} | {mb(peak['node_exporter'])}"
        f" | {mb(peak['prometheus'])} | {mb(peers_peak)} | {sbs.ratio(peak['lookout'], peers_peak)} |",
        f"| VmHWM (whole run) | {mb(hwm['lookout'])} | {mb(hwm['node_exporter'])}"
        f" | {mb(hwm['prometheus'])} | {mb(hwm['node_exporter'] + hwm['prometheus'])} | – |",
        f"| CPU seconds per minute | {cpu['lookout']:.3f} | {cpu['node_exporter']:.3f} | {cpu['prometheus']:.3f}"
        f" | {peers_cpu:.3f} | {sbs.ratio(cpu['lookout'], peers_cpu)} |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
