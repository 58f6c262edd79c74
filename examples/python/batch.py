"""Batch rendering with haforu.process_jobs: a weight sweep of a variable font, in parallel.

Run from anywhere after installing the package (hosts/python/README.md, "Install"):

    python examples/python/batch.py

Uses only the repository's test fonts. Prints one line per job (sorted by id) and a summary.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import haforu

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")  # variable font, one axis: wght 100..900


def main() -> None:
    # 1. Jobs as dicts: metrics of a word at nine weights, plus one PGM image per extreme.
    jobs = [
        {
            "id": f"metrics-wght{w}",
            "font": {"path": INTER, "size": 48, "variations": {"wght": w}},
            "text": {"content": "Hamburgefonstiv"},
            "rendering": {"format": "metrics", "width": 600, "height": 80},
        }
        for w in range(100, 901, 100)
    ]
    for w in (100, 900):
        jobs.append({
            "id": f"image-wght{w}",
            "font": {"path": INTER, "size": 48, "variations": {"wght": w}},
            "text": {"content": "Hamburgefonstiv"},
            "rendering": {"format": "pgm", "width": 600, "height": 80},
        })

    # Results stream back in completion order; each carries its id. Two engine instances render
    # in parallel threads; the glyph cache of each keeps at most 4096 glyphs.
    results = {}
    for line in haforu.process_jobs(jobs, workers=2, max_glyphs=4096):
        result = json.loads(line)
        results[result["id"]] = result

    print(f"{len(results)} results, all succeeded: {all(r['status'] == 'success' for r in results.values())}")
    print(f"{'job':<18} {'density':>8} {'ink bbox (x, y, w, h)':>24}")
    densities = []
    for w in range(100, 901, 100):
        m = results[f"metrics-wght{w}"]["metrics"]
        densities.append(m["density"])
        print(f"metrics-wght{w:<6} {m['density']:>8.4f} {str(tuple(m['bbox'])):>24}")
    increasing = all(a < b for a, b in zip(densities, densities[1:]))
    print(f"ink density grows with weight: {increasing}")

    for w in (100, 900):
        r = results[f"image-wght{w}"]["rendering"]
        pgm = base64.b64decode(r["data"])
        header = b"P5\n%d %d\n255\n" % (r["width"], r["height"])
        pixels = pgm[len(header):]
        inked = sum(1 for p in pixels if p < 128)
        print(f"image-wght{w}: PGM {r['width']}x{r['height']}, {len(pgm)} bytes, {inked} dark pixels")

    # 2. The same API takes a job list as text too: a {"version": "1.0", "jobs": [...]} batch
    #    object (the haforu 2.x job file format) or JSONL, one job per line.
    jsonl = "\n".join(json.dumps(j) for j in jobs[:3])
    ids = sorted(json.loads(line)["id"] for line in haforu.process_jobs(jsonl, workers=1))
    print(f"from JSONL text: {ids}")

    # 3. A bad job yields an error result; the rest of the batch goes on.
    bad = dict(jobs[0], id="missing-font", font={"path": "no/such/font.ttf", "size": 48})
    for line in haforu.process_jobs([bad, jobs[1]], workers=1):
        r = json.loads(line)
        print(f"{r['id']}: {r['status']}" + (f" ({r['error_kind']})" if r["status"] == "error" else ""))


if __name__ == "__main__":
    main()
