#!/usr/bin/env python3
"""Compare engine output with the golden raster references (tolerances of tests/golden/README.md).

    target/venv/bin/python tests/tools/golden_compare.py DIR

DIR holds the engine's images for the cases, named <id>.pgm (binary P5). Prints one line per
case and exits 1 if any case is missing or out of tolerance. Importable: compare(ref, got, tol).
"""
import gzip
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference_render as rr  # noqa: E402

GOLDEN = os.path.join(rr.ROOT, "tests", "golden", "raster")
DEFAULT_TOLERANCE = {"mean_abs": 1.0, "iou": 0.99}
INK_THRESHOLD = 32  # IoU counts a pixel as ink when c = 255 - pixel >= 32


def load_reference(case_id):
    with gzip.open(os.path.join(GOLDEN, case_id + ".pgm.gz"), "rb") as f:
        px = rr.read_pgm(f.read())
    with open(os.path.join(GOLDEN, case_id + ".metrics.json"), encoding="utf-8") as f:
        return px, json.load(f)


def compare(ref, got, tolerance=None):
    """-> dict(ok, mean_abs, iou, reason). Same shape required."""
    tol = dict(DEFAULT_TOLERANCE, **(tolerance or {}))
    if ref.shape != got.shape:
        return {"ok": False, "reason": "shape %s != %s" % (got.shape, ref.shape)}
    mean_abs = float(np.abs(ref.astype(np.int32) - got.astype(np.int32)).mean())
    a = (255 - ref.astype(np.int32)) >= INK_THRESHOLD
    b = (255 - got.astype(np.int32)) >= INK_THRESHOLD
    union = int((a | b).sum())
    iou = 1.0 if union == 0 else int((a & b).sum()) / union
    ok = mean_abs <= tol["mean_abs"] and iou >= tol["iou"]
    return {"ok": ok, "mean_abs": mean_abs, "iou": iou,
            "reason": "" if ok else "mean_abs %.3f (max %.3f), iou %.4f (min %.4f)" % (
                mean_abs, tol["mean_abs"], iou, tol["iou"])}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    bad = 0
    with open(os.path.join(GOLDEN, "cases.jsonl"), encoding="utf-8") as f:
        cases = [json.loads(l) for l in f if l.strip()]
    for case in cases:
        p = os.path.join(d, case["id"] + ".pgm")
        if not os.path.exists(p):
            print("MISSING %s" % case["id"])
            bad += 1
            continue
        with open(p, "rb") as f:
            got = rr.read_pgm(f.read())
        ref, _ = load_reference(case["id"])
        r = compare(ref, got, case.get("tolerance"))
        bad += not r["ok"]
        print("%s %-32s %s" % ("ok  " if r["ok"] else "FAIL", case["id"],
                               r["reason"] or "mean_abs %.3f iou %.4f" % (r["mean_abs"], r["iou"])))
    print("%d passed, %d failed" % (len(cases) - bad, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
