"""haforu on Dask: a weight sweep of a variable font rendered by a 2-worker cluster.

Needs the Dask extra (hosts/python/README.md, "Dask"):

    pip install "haforu[dask-dataframe]"     # haforu[dask] without the DataFrame part
    python examples/python/dask_render.py

Starts a LocalCluster of two worker processes on this machine; against a real cluster pass its
scheduler's address to Client() instead (see the README). Uses only the repository's test fonts.
"""

from __future__ import annotations

import json
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
from distributed import Client, LocalCluster

import haforu
import haforu.dask as hd

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")  # variable font, one axis: wght 100..900


def main() -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        # One warm engine session per worker process, with the font already bound.
        client.register_plugin(hd.HaforuPlugin(fonts=[INTER]))

        # 1. A job list -> result JSON strings, in input order (a dask.bag underneath).
        jobs = [{"id": f"w{w}", "font": {"path": INTER, "size": 48, "variations": {"wght": w}},
                 "text": {"content": "Hamburgefonstiv"}, "rendering": {"format": "metrics", "width": 600, "height": 80}}
                for w in range(100, 901, 50)]
        jobs.append({"id": "oops", "font": {"path": "missing.ttf", "size": 48}, "text": {"content": "x"},
                     "rendering": {"format": "metrics", "width": 60, "height": 80}})
        results = [json.loads(r) for r in hd.render(jobs, npartitions=4)]
        ok = [r for r in results if r["status"] == "success"]
        print(f"{len(results)} results, {len(ok)} succeeded; {results[-1]['id']}: {results[-1]['error_kind']}")
        densities = [r["metrics"]["density"] for r in ok]
        print(f"density grows with weight: {densities == sorted(densities)} "
              f"({densities[0]:.4f} at wght 100, {densities[-1]:.4f} at wght 900)")
        with haforu.StreamingSession() as s:
            local = [json.loads(r) for r in s.render_many(jobs)]
        same = all({k: v for k, v in a.items() if k != "timing"} == {k: v for k, v in b.items() if k != "timing"}
                   for a, b in zip(results, local))
        print(f"same as a local session: {same}")

        # 2. A DataFrame of jobs, one column per job field -> a DataFrame of results.
        frame = pd.DataFrame({"id": [f"d{w}" for w in (300, 500, 700)], "font.path": INTER, "font.size": 36.0,
                              "font.variations": [json.dumps({"wght": w}) for w in (300, 500, 700)],
                              "text.content": "Hamb", "rendering.format": "metrics",
                              "rendering.width": 200, "rendering.height": 60})
        out = hd.render_dataframe(dd.from_pandas(frame, npartitions=2)).compute()
        print(out[["id", "status", "density", "bbox"]].to_string(index=False))

        # 3. A sweep split across the workers: 81 weights, one engine call per worker.
        points = hd.sweep_bag(INTER, "A", 200, 240, 240, [{"wght": 100 + 10 * i} for i in range(81)]).compute()
        best = max(points, key=lambda p: p.metrics.density if p.metrics else 0.0)
        print(f"sweep: {len(points)} points, the darkest at wght {best.variations['wght']:.0f}")


if __name__ == "__main__":  # the worker processes import this file: start the cluster only here
    main()
