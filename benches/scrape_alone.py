#!/usr/bin/env python3
"""Lookout alone scraping a nodegen target: RSS every 15 s, and CPU seconds per million samples appended.

    benches/scrape_alone.py --hosts 1000 --minutes 4            # the figures of BENCHMARKS.md, "Scrape RSS"
    benches/scrape_alone.py --hosts 1000 --minutes 4 --heaptrack /tmp/heap-lookout   # the heap breakdown
    MALLOC_MMAP_THRESHOLD_=33554432 benches/scrape_alone.py ...  # the allocator settings compared there

One nodegen (`../shared/bench/nodegen.py serve --hosts N`) and `target/release/lookout serve --memory-limit 1GiB` on
a fresh data dir scraping it every 15 s (the live phase of side_by_side.py without the peers, so a change can be
measured in a few minutes). CPU is counted over the run after a 60 s warm-up. Every process is stopped at the end.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side as sbs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=4)
    ap.add_argument("--heaptrack", metavar="OUT", help="run the server under heaptrack, writing OUT.zst")
    args = ap.parse_args()
    procs = sbs.Processes()
    try:
        wd = tempfile.mkdtemp(prefix="lookout-scrape-alone-")
        tport = sbs.free_port()
        gen = procs.start("nodegen", [sys.executable, sbs.NODEGEN, "serve", "--hosts", str(args.hosts),
                                      "--port", str(tport)], cwd=wd)
        sbs.wait_until("nodegen", lambda: gen.poll() is None and sbs.http_get(
            f"http://127.0.0.1:{tport}/metrics", timeout=60), 120, every_s=1)
        cfg = os.path.join(wd, "scrape.yml")
        sbs.scrape_config(cfg, f"127.0.0.1:{tport}")
        port = sbs.free_port()
        data = os.path.join(wd, "data")
        os.makedirs(data)
        argv = [sbs.LOOKOUT, "serve", "--config", cfg, "--data-dir", data, "--listen", f"127.0.0.1:{port}",
                "--memory-limit", "1GiB"]
        if args.heaptrack:
            argv = ["heaptrack", "-o", args.heaptrack] + argv
        p = procs.start("lookout", argv, cwd=wd)
        base = f"http://127.0.0.1:{port}"
        sbs.wait_until("lookout", lambda: sbs.http_get(base + "/-/ready", timeout=5) is not None, 120)
        pid = p.pid
        if args.heaptrack:  # the server is heaptrack's child
            out = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
            pid = int(out[0])
        time.sleep(60)
        counter = sbs.INGEST_COUNTER["lookout"]
        cpu0, n0 = sbs.proc_cpu_seconds(pid), sbs.metric_sum(base, counter)
        deadline = time.time() + args.minutes * 60
        while time.time() < deadline:
            time.sleep(15)
            rss, hwm = sbs.proc_memory(pid)
            head = sbs.metric_sum(base, "lookout_tsdb_head_bytes")
            print(f"{time.strftime('%H:%M:%S')} RSS {rss / 2**20:.1f} MiB, VmHWM {hwm / 2**20:.1f} MiB, "
                  f"head estimate {head / 2**20:.1f} MiB", flush=True)
        cpu1, n1 = sbs.proc_cpu_seconds(pid), sbs.metric_sum(base, counter)
        print(f"CPU {cpu1 - cpu0:.1f} s for {n1 - n0:.0f} samples: "
              f"{(cpu1 - cpu0) / max(n1 - n0, 1) * 1e6:.2f} CPU s per M samples", flush=True)
        os.kill(pid, signal.SIGTERM)
        p.wait(timeout=120)
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
