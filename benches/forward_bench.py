#!/usr/bin/env python3
"""Forwarding cost: `lookout agent` beside `prometheus --enable-feature=agent` (Debian's 2.42), in one run, on
127.0.0.1 only.

Each agent scrapes its own `nodegen.py serve --hosts H` target (H=920: ~100,000 node_exporter-like series) every
15 s and forwards everything with remote_write 1.0 to its own VictoriaMetrics receiver. After a warm-up, over the
window: samples forwarded (each agent's own counter: `prometheus_remote_storage_samples_total`, Lookout uses the
same name), forwarding throughput, CPU seconds per million forwarded samples (scraping included, the same work for
both), RSS (mean and max of 1 s samples), and the receivers' sample counts at the end (everything scraped arrived).

The Lookout agent runs with `--memory-limit` (default 320MiB): its forwarding share must hold every series (about
1 KB each with the scrape cache); on its 64 MiB default it forwards the ~21,000 series that fit and refuses the rest,
counted (tests `agent_memory`). Prometheus has no limit.

Usage: benches/forward_bench.py [--hosts 920] [--minutes 5] [--warmup-s 90] [--lookout-memory-limit 320MiB] [--out FILE]
Needs: target/release/lookout (cargo build --release -p lookout), /usr/bin/prometheus and /usr/bin/victoria-metrics
(Debian).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side as sbs  # noqa: E402  (shared process, HTTP and /proc helpers)

AGENTS = ("lookout", "prometheus")


def start_receiver(procs, workdir):
    port = sbs.free_port()
    data = os.path.join(workdir, "vm-data")
    p = procs.start("victoria-metrics", ["victoria-metrics", f"-storageDataPath={data}",
                                         f"-httpListenAddr=127.0.0.1:{port}", "-retentionPeriod=100y"], cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    sbs.wait_until("victoria-metrics ready", lambda: p.poll() is None and sbs.http_get(base + "/health", timeout=5), 60)
    return base


def start_agent(procs, kind, workdir, target, receiver, memory_limit):
    port = sbs.free_port()
    config = os.path.join(workdir, "agent.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n"
                "scrape_configs:\n  - job_name: node\n    honor_labels: true\n"
                f"    static_configs: [{{targets: ['{target}']}}]\n"
                f"remote_write:\n  - url: {receiver}/api/v1/write\n")
    data = os.path.join(workdir, "data")
    if kind == "lookout":
        argv = [sbs.LOOKOUT, "agent", "--config", config, "--data-dir", data, "--listen", f"127.0.0.1:{port}",
                "--memory-limit", memory_limit]
    else:
        argv = ["prometheus", "--enable-feature=agent", f"--config.file={config}", f"--storage.agent.path={data}",
                f"--web.listen-address=127.0.0.1:{port}"]
    p = procs.start(f"{kind}-agent", argv, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    sbs.wait_until(f"{kind} agent ready", lambda: p.poll() is None and sbs.http_get(base + "/-/ready", timeout=5), 60)
    return p, base


def receiver_samples(base):
    """Samples the receiver holds for job="node" (VictoriaMetrics' series export, counted)."""
    q = urllib.parse.urlencode({"match[]": '{job="node"}'})
    n = 0
    body = sbs.http_get(f"{base}/api/v1/export?{q}", timeout=600).decode()
    for line in body.splitlines():
        if line:
            n += len(json.loads(line)["values"])
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=920)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--warmup-s", type=int, default=90)
    ap.add_argument("--lookout-memory-limit", default="320MiB")
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args()
    if not os.access(sbs.LOOKOUT, os.X_OK):
        sys.exit(f"{sbs.LOOKOUT} is missing: cargo build --release -p lookout")
    procs = sbs.Processes()
    root = tempfile.mkdtemp(prefix="lookout-forward-")
    started = {}
    try:
        for kind in AGENTS:
            wd = os.path.join(root, kind)
            os.makedirs(wd)
            tport = sbs.free_port()
            gen = procs.start(f"nodegen-{kind}", [sys.executable, sbs.NODEGEN, "serve", "--hosts", str(args.hosts),
                                                  "--port", str(tport)], cwd=wd)
            sbs.wait_until("nodegen target", lambda: gen.poll() is None and sbs.http_get(
                f"http://127.0.0.1:{tport}/metrics", timeout=60), 120, every_s=1)
            receiver = start_receiver(procs, wd)
            p, base = start_agent(procs, kind, wd, f"127.0.0.1:{tport}", receiver, args.lookout_memory_limit)
            started[kind] = (p, base, receiver)
        sbs.log(f"warm-up {args.warmup_s} s")
        time.sleep(args.warmup_s)
        first = {k: (sbs.proc_cpu_seconds(p.pid), sbs.metric_sum(b, "prometheus_remote_storage_samples_total"))
                 for k, (p, b, _) in started.items()}
        rss = {k: [] for k in started}
        t0 = time.time()
        while time.time() - t0 < args.minutes * 60:
            for k, (p, _, _) in started.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{k} exited with {p.returncode} (see its log under {root})")
                rss[k].append(sbs.proc_memory(p.pid)[0])
            time.sleep(1)
        elapsed = time.time() - t0
        out = {}
        for k, (p, b, receiver) in started.items():
            cpu1, n1 = sbs.proc_cpu_seconds(p.pid), sbs.metric_sum(b, "prometheus_remote_storage_samples_total")
            cpu0, n0 = first[k]
            out[k] = {"samples": n1 - n0, "per_s": (n1 - n0) / elapsed, "cpu_per_m": (cpu1 - cpu0) / max(n1 - n0, 1) * 1e6,
                      "rss_mean": statistics.mean(rss[k]), "rss_max": max(rss[k]), "hwm": sbs.proc_memory(p.pid)[1]}
        # Let the last batches land, then count what each receiver holds.
        time.sleep(20)
        for k, (_, b, receiver) in started.items():
            out[k]["sent_total"] = sbs.metric_sum(b, "prometheus_remote_storage_samples_total")
            out[k]["received"] = receiver_samples(receiver)
            out[k]["refused"] = sbs.metric_sum(b, "lookout_scrape_samples_rejected_total") if k == "lookout" else 0
    finally:
        procs.stop_all()
    lo, pr = out["lookout"], out["prometheus"]

    def mb(b):
        return f"{sbs.mib(b):.1f} MiB"

    lines = [
        f"Forwarding {args.hosts} nodegen hosts every 15 s, {args.minutes:g} min after a {args.warmup_s} s warm-up"
        f" (Lookout agent --memory-limit {args.lookout_memory_limit})",
        "",
        "| figure | Lookout agent | Prometheus 2.42 agent | ratio |",
        "|---|---|---|---|",
        f"| samples forwarded per second | {lo['per_s']:,.0f} | {pr['per_s']:,.0f} | {sbs.ratio(lo['per_s'], pr['per_s'])} |",
        f"| CPU seconds per million forwarded samples (scrape included) | {lo['cpu_per_m']:.2f} | {pr['cpu_per_m']:.2f}"
        f" | {sbs.ratio(lo['cpu_per_m'], pr['cpu_per_m'])} |",
        f"| RSS, mean | {mb(lo['rss_mean'])} | {mb(pr['rss_mean'])} | {sbs.ratio(lo['rss_mean'], pr['rss_mean'])} |",
        f"| RSS, max over the window | {mb(lo['rss_max'])} | {mb(pr['rss_max'])} | {sbs.ratio(lo['rss_max'], pr['rss_max'])} |",
        f"| VmHWM (whole run) | {mb(lo['hwm'])} | {mb(pr['hwm'])} | – |",
        f"| samples sent in all / held by the receiver | {lo['sent_total']:,.0f} / {lo['received']:,} |"
        f" {pr['sent_total']:,.0f} / {pr['received']:,} | – |",
        f"| scraped samples refused (memory share full) | {lo['refused']:,.0f} | – | – |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
