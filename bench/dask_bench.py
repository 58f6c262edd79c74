#!/usr/bin/env python3
"""``make bench-dask``: haforu.dask on a 2-worker ``LocalCluster`` (processes, one thread each)
against ``process_jobs`` in one process (workers=2 and workers=1), on W1 (DejaVu Sans "Hamburgefonstiv"
at 48 px on 800x100, bench/workloads.jsonl) as ``metrics`` and as ``pgm`` (107 KB results).

    target/venv-py/bin/python bench/dask_bench.py [--jobs 20000] [--npartitions N] [--quick]

Every measurement runs in a fresh child process (its peak RSS is its own); the cluster's start-up
and a warm-up batch are timed apart from the throughput. Targets (issue 13): the cluster at
>= 0.8x the in-process workers=2 throughput and >= 1.7x workers=1, on metrics. For pgm the
cluster is measured three ways, to say where the time goes: results reduced on the workers
(render only), results streamed to the client partition by partition (render + transfer), and
``haforu.dask.render`` (everything gathered into one list); and the same pixels as numpy arrays
(``render_numpy_bag`` of the jobs as ``raw``, streamed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def w1_jobs(n: int, fmt: str) -> List[Dict[str, Any]]:
    with open(os.path.join(HERE, "workloads.jsonl"), encoding="utf-8") as f:
        w1 = next(json.loads(line) for line in f if '"W1"' in line)
    w1["font"]["path"] = os.path.join(ROOT, w1["font"]["path"])
    w1["rendering"]["format"] = fmt
    return [dict(w1, id=f"W1-{i}") for i in range(n)]


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def child_inprocess(n: int, fmt: str, workers: int) -> Dict[str, Any]:
    import haforu
    from haforu._runtime import get_runtime

    jobs = w1_jobs(n, fmt)
    get_runtime()
    c0 = time.process_time()
    t0 = time.perf_counter()
    count = ok = size = 0
    for r in haforu.process_jobs(jobs, workers=workers):
        count += 1
        ok += '"status":"success"' in r[:40]
        size += len(r)
    dt = time.perf_counter() - t0
    return {"jobs": count, "ok": ok, "seconds": dt, "jobs_per_s": count / dt, "result_mb": size / 2**20,
            "cpu_s": time.process_time() - c0, "peak_rss_mb": peak_rss_mb()}


def _worker_rss() -> float:
    return peak_rss_mb()


def _worker_cpu() -> float:
    return time.process_time()


def child_dask(n: int, fmt: str, npartitions: int, n_workers: int, threads: int, modes: List[str]) -> Dict[str, Any]:
    from distributed import Client, LocalCluster

    import haforu.dask as hd

    jobs = w1_jobs(n, fmt)
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True, dashboard_address=None)
    client = Client(cluster)
    t1 = time.perf_counter()
    client.register_plugin(hd.HaforuPlugin(fonts=[jobs[0]["font"]["path"]]))
    hd.render(jobs[:200], npartitions=4, client=client)  # warm-up: imports, glyph caches
    t2 = time.perf_counter()
    out: Dict[str, Any] = {"cluster_start_s": t1 - t0, "plugin_and_warmup_s": t2 - t1}
    for mode in modes:
        w0 = sum(client.run(_worker_cpu).values())
        c0 = time.process_time()
        t0 = time.perf_counter()
        if mode == "gather":  # haforu.dask.render: one list in the client
            results = hd.render(jobs, npartitions=npartitions or None, client=client)
            count, ok = len(results), sum('"status":"success"' in r[:40] for r in results)
            size = sum(len(r) for r in results)
            del results
        elif mode == "stream":  # partition by partition, each released once read
            bag = hd.render_bag(jobs, npartitions=npartitions or None)
            futures = client.compute(bag.to_delayed())
            count = ok = size = 0
            for f in futures:
                part = f.result()
                count += len(part)
                ok += sum('"status":"success"' in r[:40] for r in part)
                size += sum(len(r) for r in part)
                f.release()
            del futures
        elif mode == "reduce":  # render only: the workers keep the text, send back its length
            bag = hd.render_bag(jobs, npartitions=npartitions or None)
            stats = bag.map_partitions(lambda rs: [(len(rs), sum('"status":"success"' in r[:40] for r in rs),
                                                    sum(len(r) for r in rs))]).compute()
            count, ok, size = (sum(s[i] for s in stats) for i in range(3))
        elif mode == "numpy":  # render_numpy_bag of the same jobs as raw: arrays, no base64 or JSON
            raw = [dict(j, rendering=dict(j["rendering"], format="raw")) for j in jobs]
            futures = client.compute(hd.render_numpy_bag(raw, npartitions=npartitions or None).to_delayed())
            count = ok = size = 0
            for f in futures:
                part = f.result()
                count += len(part)
                ok += sum(getattr(a, "shape", None) == (100, 800) for a in part)
                size += sum(getattr(a, "nbytes", 0) for a in part)
                f.release()
            del futures
        else:
            raise ValueError(mode)
        dt = time.perf_counter() - t0
        client_cpu = time.process_time() - c0
        workers_cpu = sum(client.run(_worker_cpu).values()) - w0
        out[mode] = {"jobs": count, "ok": ok, "seconds": dt, "jobs_per_s": count / dt, "result_mb": size / 2**20,
                     "client_cpu_s": client_cpu, "workers_cpu_s": workers_cpu}
    out["worker_peak_rss_mb"] = sorted(client.run(_worker_rss).values())
    out["client_peak_rss_mb"] = peak_rss_mb()
    client.close()
    cluster.close()
    return out


def run_child(args: List[str]) -> Dict[str, Any]:
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{p.stderr[-4000:]}")
    result: Dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--npartitions", type=int, default=0, help="0: haforu.dask's default")
    ap.add_argument("--quick", action="store_true", help="2,000 jobs")
    ap.add_argument("--child", nargs="*")
    a = ap.parse_args()
    if a.child is not None:
        kind, *rest = a.child
        if kind == "inprocess":
            res = child_inprocess(int(rest[0]), rest[1], int(rest[2]))
        else:
            res = child_dask(int(rest[0]), rest[1], int(rest[2]), int(rest[3]), int(rest[4]), rest[5].split(","))
        print(json.dumps(res))
        return
    n = 2000 if a.quick else a.jobs
    parts = a.npartitions or max(8, -(-n // 2048))  # haforu.dask's default on 2 one-thread workers
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"haforu.dask benchmark (load average {load} at the start): {n} W1 jobs (DejaVu Sans 48 px 'Hamburgefonstiv', 800x100), "
          f"{parts} partitions; {os.cpu_count()} CPUs")
    for fmt in ("metrics", "pgm"):
        one = run_child(["inprocess", str(n), fmt, "1"])
        two = run_child(["inprocess", str(n), fmt, "2"])
        modes = "gather" if fmt == "metrics" else "reduce,stream,gather,numpy"
        d = run_child(["dask", str(n), fmt, str(parts) if a.npartitions else "0", "2", "1", modes])
        print(f"\n== {fmt} ({one['result_mb'] * 1024 / n:.1f} KB per result, {one['result_mb']:.0f} MB in all)")
        print(f"process_jobs(workers=1)      {one['jobs_per_s']:8.0f} jobs/s  {one['seconds']:6.2f} s  "
              f"CPU {one['cpu_s']:5.2f} s  peak RSS {one['peak_rss_mb']:.0f} MB")
        print(f"process_jobs(workers=2)      {two['jobs_per_s']:8.0f} jobs/s  {two['seconds']:6.2f} s  "
              f"CPU {two['cpu_s']:5.2f} s  peak RSS {two['peak_rss_mb']:.0f} MB")
        labels = {"gather": "dask render() -> list", "stream": "dask, streamed by partition",
                  "reduce": "dask, reduced on workers", "numpy": "dask render_numpy_bag (raw)"}
        for mode in modes.split(","):
            m = d[mode]
            assert m["jobs"] == n and m["ok"] == n, m
            print(f"{labels[mode]:<28} {m['jobs_per_s']:8.0f} jobs/s  {m['seconds']:6.2f} s  "
                  f"CPU {m['client_cpu_s'] + m['workers_cpu_s']:5.2f} s (client + scheduler {m['client_cpu_s']:.2f}, "
                  f"workers {m['workers_cpu_s']:.2f})  = {m['jobs_per_s'] / two['jobs_per_s']:.2f}x workers=2, "
                  f"{m['jobs_per_s'] / one['jobs_per_s']:.2f}x workers=1")
        print(f"  cluster start {d['cluster_start_s']:.2f} s, plugin + warm-up batch {d['plugin_and_warmup_s']:.2f} s "
              f"(not in the throughput); peak RSS per worker "
              f"{', '.join(f'{r:.0f}' for r in d['worker_peak_rss_mb'])} MB, client {d['client_peak_rss_mb']:.0f} MB")
        main_mode = d["gather"]
        if fmt == "metrics":
            r2 = main_mode["jobs_per_s"] / two["jobs_per_s"]
            r1 = main_mode["jobs_per_s"] / one["jobs_per_s"]
            print(f"  targets: >= 0.8x workers=2: {r2:.2f}x {'met' if r2 >= 0.8 else 'NOT met'}; "
                  f">= 1.7x workers=1: {r1:.2f}x {'met' if r1 >= 1.7 else 'NOT met'}")
        else:
            red, st, ga = d["reduce"]["seconds"], d["stream"]["seconds"], d["gather"]["seconds"]
            print(f"  where the time goes: rendering on the workers {red:.2f} s; moving "
                  f"{main_mode['result_mb']:.0f} MB of results to the client adds {st - red:.2f} s streamed, "
                  f"{ga - red:.2f} s gathered into one list; the same pixels as arrays "
                  f"({d['numpy']['result_mb']:.0f} MB, streamed) take {d['numpy']['seconds']:.2f} s in all")


if __name__ == "__main__":
    main()
