#!/usr/bin/env python3
"""Rule evaluation cost: 1,000 recording rules over ~100,000 series, Lookout beside Prometheus 2.42, in one run, on
127.0.0.1 only.

Each server scrapes its own `nodegen.py serve --hosts H` target (H=920: ~100,000 node_exporter-like series) every
15 s and evaluates the same rule file: --rules recording rules (aggregations of every nodegen metric by instance, by
job, without labels, rates of the counters) in --groups groups at a 30 s interval. After a warm-up, each server's
own gauge of its groups' last evaluation time (`lookout_rule_group_last_duration_seconds`,
`prometheus_rule_group_last_duration_seconds`) is summed over the groups and sampled once per interval; the report
gives the mean and the maximum of that sum (the evaluation cost per interval), the samples the rules wrote per
interval, and each process's CPU seconds per interval over the window (scraping included, the same for both).

Usage: benches/rules_bench.py [--hosts 920] [--rules 1000] [--groups 10] [--minutes 5] [--out FILE]
Needs: target/release/lookout (cargo build --release -p lookout), /usr/bin/prometheus (Debian).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side as sbs  # noqa: E402  (shared process, HTTP and /proc helpers)

INTERVAL_S = 30
DURATION_GAUGE = {
    "lookout": "lookout_rule_group_last_duration_seconds",
    "prometheus": "prometheus_rule_group_last_duration_seconds",
}
SAMPLES_GAUGE = {
    "lookout": "lookout_rule_group_last_evaluation_samples",
    "prometheus": "prometheus_rule_group_last_evaluation_samples",
}


def metric_names(target):
    """(name, kind) of every metric the nodegen target exposes (it writes no # TYPE lines: counters end in _total,
    histogram series in _bucket/_sum/_count, the rest are gauges)."""
    names = set()
    for line in sbs.http_get(f"http://{target}/metrics", timeout=120).decode().splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("{", 1)[0].split(" ", 1)[0])
    out = []
    for n in sorted(names):
        kind = "counter" if n.endswith(("_total", "_bucket", "_sum", "_count")) else "gauge"
        out.append((n, kind))
    if not out:
        raise RuntimeError(f"{target} exposes no metrics")
    return out


def rule_file(path, families, rules, groups):
    """`rules` recording rules over the families, round-robin over aggregation shapes, in `groups` groups."""
    shapes = [
        ("sum_by_instance", "sum by (instance) ({x})"),
        ("avg_by_job", "avg by (job) ({x})"),
        ("max", "max({x})"),
        ("count_by_instance", "count by (instance) ({x})"),
        ("min_by_instance", "min by (instance) ({x})"),
        ("sum_without_instance", "sum without (instance) ({x})"),
        ("quantile_09", "quantile(0.9, {x})"),
        ("stddev_by_job", "stddev by (job) ({x})"),
    ]
    exprs = []
    for name, kind in families:
        sel = f"rate({name}[1m])" if kind == "counter" else name
        for tag, shape in shapes:
            exprs.append((f"bench:{name}:{tag}", shape.format(x=sel)))
    if len(exprs) < rules:
        # More shapes than families: vary the rate window to make distinct rules.
        base = list(exprs)
        k = 2
        while len(exprs) < rules:
            exprs += [(f"{r}_{k}", e.replace("[1m]", f"[{k}m]")) for r, e in base]
            k += 1
    exprs = exprs[:rules]
    per = (rules + groups - 1) // groups
    with open(path, "w") as f:
        f.write("groups:\n")
        for g in range(groups):
            f.write(f"  - name: bench-{g}\n    interval: {INTERVAL_S}s\n    rules:\n")
            for rec, expr in exprs[g * per:(g + 1) * per]:
                f.write(f"      - record: {rec}\n        expr: '{expr}'\n")
    return len(exprs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=920)
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--warmup-s", type=float, default=90)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--out")
    a = ap.parse_args()
    if not os.path.exists(sbs.LOOKOUT):
        sys.exit(f"{sbs.LOOKOUT} missing: cargo build --release -p lookout")
    work = a.workdir or tempfile.mkdtemp(prefix="lookout-rules-bench-")
    procs = sbs.Processes()
    try:
        servers = {}
        n_rules = None
        for kind in ("lookout", "prometheus"):
            wd = os.path.join(work, kind)
            os.makedirs(wd, exist_ok=True)
            tport = sbs.free_port()
            gen = procs.start(f"nodegen-{kind}", [sys.executable, sbs.NODEGEN, "serve", "--hosts", str(a.hosts),
                                                  "--port", str(tport)], cwd=wd)
            target = f"127.0.0.1:{tport}"
            sbs.wait_until("nodegen target", lambda: gen.poll() is None and sbs.http_get(
                f"http://{target}/metrics", timeout=120), 300, every_s=1)
            rules_path = os.path.join(wd, "rules.yml")
            n_rules = rule_file(rules_path, metric_names(target), a.rules, a.groups)
            cfg = os.path.join(wd, "config.yml")
            with open(cfg, "w") as f:
                f.write(
                    "global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n"
                    f"  evaluation_interval: {INTERVAL_S}s\nrule_files: [rules.yml]\n"
                    "scrape_configs:\n  - job_name: node\n    honor_labels: true\n"
                    f"    static_configs:\n      - targets: ['{target}']\n"
                )
            servers[kind] = sbs.start_server(procs, kind, wd, cfg)
        sbs.log(f"{n_rules} rules in {a.groups} groups; warming up {a.warmup_s:.0f} s")
        time.sleep(a.warmup_s)
        cpu0 = {k: sbs.proc_cpu_seconds(p.pid) for k, (p, _, _) in servers.items()}
        t0 = time.time()
        durations = {k: [] for k in servers}
        samples = {k: [] for k in servers}
        while time.time() < t0 + a.minutes * 60:
            for k, (p, base, _) in servers.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{k} exited with {p.returncode} (see its log in {work})")
                durations[k].append(sbs.metric_sum(base, DURATION_GAUGE[k]))
                samples[k].append(sbs.metric_sum(base, SAMPLES_GAUGE[k]))
            time.sleep(INTERVAL_S)
        elapsed = time.time() - t0
        cpu = {k: sbs.proc_cpu_seconds(p.pid) - cpu0[k] for k, (p, _, _) in servers.items()}
    finally:
        procs.stop_all()
    intervals = elapsed / INTERVAL_S
    lines = [
        f"{n_rules} recording rules in {a.groups} groups every {INTERVAL_S} s over nodegen --hosts {a.hosts} "
        f"(scraped every 15 s); {len(durations['lookout'])} samples over {elapsed / 60:.1f} min after "
        f"{a.warmup_s:.0f} s warm-up",
        "",
        "| figure | Lookout | Prometheus 2.42 | Lookout / Prometheus |",
        "|---|---|---|---|",
    ]
    mean = {k: statistics.mean(v) for k, v in durations.items()}
    peak = {k: max(v) for k, v in durations.items()}
    lines.append(f"| evaluation time per interval, all groups (mean) | {mean['lookout'] * 1000:.0f} ms | "
                 f"{mean['prometheus'] * 1000:.0f} ms | {mean['lookout'] / mean['prometheus']:.2f} |")
    lines.append(f"| evaluation time per interval, all groups (max) | {peak['lookout'] * 1000:.0f} ms | "
                 f"{peak['prometheus'] * 1000:.0f} ms | {peak['lookout'] / peak['prometheus']:.2f} |")
    smp = {k: statistics.mean(v) for k, v in samples.items()}
    lines.append(f"| samples written by the rules per interval | {smp['lookout']:.0f} | {smp['prometheus']:.0f} | – |")
    cpi = {k: v / intervals for k, v in cpu.items()}
    lines.append(f"| process CPU seconds per interval (scraping included) | {cpi['lookout']:.2f} | "
                 f"{cpi['prometheus']:.2f} | {cpi['lookout'] / cpi['prometheus']:.2f} |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
