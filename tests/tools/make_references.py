#!/usr/bin/env python3
"""Write the golden raster references from tests/golden/raster/cases.jsonl.

For each case <id>: tests/golden/raster/<id>.pgm.gz (binary P5 PGM, gzip with mtime 0 so the
bytes are reproducible) and tests/golden/raster/<id>.metrics.json
({"density", "beam", "bbox", "applied_variations"}), rendered by reference_render.py
(uharfbuzz + FreeType), not by the engine.

    target/venv/bin/python tests/tools/make_references.py [--png DIR] [ID ...]

--png DIR also writes <id>.png previews there (for looking at them).
"""
import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_render as rr  # noqa: E402

GOLDEN = os.path.join(rr.ROOT, "tests", "golden", "raster")


def load_cases(path=os.path.join(GOLDEN, "cases.jsonl")):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--png", help="also write PNG previews to this directory")
    ap.add_argument("ids", nargs="*")
    args = ap.parse_args()
    cases = load_cases()
    ids = [c["id"] for c in cases]
    if len(set(ids)) != len(ids):
        sys.exit("duplicate ids in cases.jsonl")
    for case in cases:
        if args.ids and case["id"] not in args.ids:
            continue
        px, applied = rr.render(case)
        m = rr.metrics(px)
        m["applied_variations"] = applied
        base = os.path.join(GOLDEN, case["id"])
        with open(base + ".pgm.gz", "wb") as f:
            f.write(gzip.compress(rr.pgm_bytes(px), compresslevel=9, mtime=0))
        with open(base + ".metrics.json", "w", encoding="utf-8") as f:
            json.dump(m, f, sort_keys=True)
            f.write("\n")
        if args.png:
            from PIL import Image
            os.makedirs(args.png, exist_ok=True)
            Image.fromarray(px).save(os.path.join(args.png, case["id"] + ".png"))
        print("%-32s %5dx%-5d density=%.5f bbox=%s %s" % (
            case["id"], px.shape[1], px.shape[0], m["density"], m["bbox"], applied or ""))


if __name__ == "__main__":
    main()
