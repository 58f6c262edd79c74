#!/usr/bin/env python3
"""The benchmark's peer: HarfBuzz (uharfbuzz) + FreeType (freetype-py) driven from Python, with
the same geometry as the golden references (tests/tools/reference_render.py, imported, not
copied), but with fonts loaded once and cached.

    from peer import Peer
    p = Peer()                      # repo root = parent of bench/
    px = p.render(job)              # HxW uint8 numpy array (0 = ink, 255 = paper)
    m = p.metrics(job)              # {"density", "beam", "bbox"}
    out = p.run(job)                # what the job's format asks for: PGM bytes, PNG bytes,
                                    # raw bytes, or the metrics dict

    python bench/peer.py [--rounds 7] [--iters N] [--workloads bench/workloads.jsonl]

prints, per workload, the median over rounds of the mean µs per job (each round = N runs of
Peer.run). Per call the peer shapes with a cached hb.Font and renders with a cached FreeType
face; compositing touches only the union of the glyph boxes (see reference_render.rasterize).
"""
import argparse
import io
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import reference_render as rr  # noqa: E402


class Peer:
    def __init__(self, repo_root=ROOT, jobs=()):
        self.repo_root = repo_root
        self._fonts = {}
        self._features = {}
        for job in jobs:  # preload
            self._font(job)

    def _font(self, job):
        f = job["font"]
        path = f["path"]
        if not os.path.isabs(path):
            path = os.path.join(self.repo_root, path)
        key = (path, int(f.get("face_index", 0)))
        font = self._fonts.get(key)
        if font is None:
            font = self._fonts[key] = rr.LoadedFont.from_path(*key)
        return font

    def _feats(self, text):
        key = tuple(text.get("features") or ())
        d = self._features.get(key)
        if d is None:
            d = self._features[key] = rr.features_dict(key)
        return d

    def _render(self, job):
        font = self._font(job)
        applied = rr.resolve_variations(font, job["font"])
        font.set_coords(applied)
        size = float(job["font"]["size"])
        font.set_size(size)
        r = job["rendering"]
        width, height = int(r["width"]), int(r["height"])
        infos, positions = rr.shape_loaded(font, job["text"], self._feats(job["text"]))
        origins = rr.glyph_origins_64(infos, positions, size / font.upem, height)
        return rr.rasterize(font, origins, width, height, return_box=True)

    def render(self, job):
        return self._render(job)[0]

    def metrics(self, job):
        px, box = self._render(job)
        return rr.metrics(px, box)

    def run(self, job):
        fmt = job["rendering"]["format"]
        if fmt == "metrics":
            return self.metrics(job)
        px = self.render(job)
        if fmt == "pgm":
            return rr.pgm_bytes(px)
        if fmt == "raw":
            return px.tobytes()
        if fmt == "png":
            from PIL import Image
            b = io.BytesIO()
            Image.fromarray(px).save(b, format="PNG")
            return b.getvalue()
        raise ValueError("unsupported format %r" % fmt)


def cold_variants(job, count=997):
    """Cold workloads (`"bench_cold": true`): the same job at `count` different wght values, so
    every run is a new location (no cache of any engine helps). Same values as benches/engine.rs."""
    out = []
    for k in range(count):
        j = json.loads(json.dumps(job))
        j["font"]["variations"] = {"wght": 100 + (k * 389) % 800 + 0.25}
        out.append(j)
    return out


def serve():
    """Line protocol for `cargo bench --bench engine` (which interleaves us with the Rust side):
    stdin `ID N` → run workload ID N times → stdout `µs_per_job`. One line `ready` at start."""
    with open(os.path.join(HERE, "workloads.jsonl"), encoding="utf-8") as f:
        jobs = {j["id"]: j for j in (json.loads(l) for l in f if l.strip())}
    peer = Peer(jobs=jobs.values())
    for job in jobs.values():
        peer.run(job)
    print("ready", flush=True)
    cold = {wid: cold_variants(job) for wid, job in jobs.items() if job.get("bench_cold")}
    turn = 0
    for line in sys.stdin:
        wid, n = line.split()
        job, n = jobs[wid], int(n)
        variants = cold.get(wid)
        t0 = time.perf_counter()
        for _ in range(n):
            if variants:
                turn += 1
                job = variants[turn % len(variants)]
            peer.run(job)
        print("%.3f" % ((time.perf_counter() - t0) / n * 1e6), flush=True)


def main():
    if "--serve" in sys.argv:
        return serve()
    ap = argparse.ArgumentParser()
    ap.add_argument("--workloads", default=os.path.join(HERE, "workloads.jsonl"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iters", type=int, default=0, help="runs per round (default: ~0.2 s worth)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per workload")
    args = ap.parse_args()
    with open(args.workloads, encoding="utf-8") as f:
        jobs = [json.loads(l) for l in f if l.strip()]
    peer = Peer(jobs=jobs)
    if not args.json:
        print("%-8s %10s %10s %8s %6s" % ("id", "median_us", "min_us", "iters", "rounds"))
    for job in jobs:
        for _ in range(3):  # warm up (caches, coords, char size)
            peer.run(job)
        n = args.iters
        if not n:
            t0 = time.perf_counter()
            peer.run(job)
            n = max(5, min(2000, int(0.2 / max(time.perf_counter() - t0, 1e-6))))
        per_round = []
        for _ in range(max(args.rounds, 5)):
            t0 = time.perf_counter()
            for _ in range(n):
                peer.run(job)
            per_round.append((time.perf_counter() - t0) / n * 1e6)
        med = statistics.median(per_round)
        if args.json:
            print(json.dumps({"id": job["id"], "median_us": round(med, 1), "min_us": round(min(per_round), 1),
                              "iters": n, "rounds": len(per_round)}))
        else:
            print("%-8s %10.1f %10.1f %8d %6d" % (job["id"], med, min(per_round), n, len(per_round)))


if __name__ == "__main__":
    main()
