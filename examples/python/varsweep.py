"""A variation sweep: the weight axis of a variable font, rendered and measured in one engine call.

Run from anywhere after installing the package (hosts/python/README.md, "Install"):

    python examples/python/varsweep.py

Renders "A" at 1000 px on a 3000×1200 canvas at 81 weights of Inter (the repository's test
subset), with StreamingSession.sweep(format="metrics"): no pixels leave the engine, only the ink
metrics of each point. Prints the axis (from font_info), the density curve and the time taken.
"""

from __future__ import annotations

import time
from pathlib import Path

import haforu

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")


def main() -> None:
    info = haforu.font_info(INTER)
    (axis,) = [a for a in info["axes"] if a["tag"] == "wght"]
    lo, hi = axis["min"], axis["max"]
    print(f"{info['familyName']}: axis wght ({axis['name']}) {lo:g}..{hi:g}, default {axis['default']:g}")

    n = 81
    coords = [{"wght": lo + (hi - lo) * i / (n - 1)} for i in range(n)]
    with haforu.StreamingSession() as s:
        s.warm_up(INTER)
        t0 = time.perf_counter()
        points = s.sweep(INTER, "A", 1000, 3000, 1200, coords)
        dt = time.perf_counter() - t0

    densities = [p.metrics.density for p in points if p.metrics is not None]
    assert len(densities) == n, [p.error for p in points if p.error]
    top = max(densities)
    print(f"{n} points, 'A' at 1000 px on 3000x1200, in {dt * 1000:.0f} ms ({dt * 1000 / n:.2f} ms per point)")
    print("   wght  density")
    for p in points[::5]:
        assert p.metrics is not None
        bar = "#" * round(50 * p.metrics.density / top)
        print(f"  {p.variations['wght']:5.0f}  {p.metrics.density:.5f}  {bar}")
    rising = all(b >= a for a, b in zip(densities, densities[1:]))
    print(f"density {densities[0]:.5f} -> {densities[-1]:.5f} ({densities[-1] / densities[0]:.1f}x), "
          f"rises with weight at every step: {rising}")


if __name__ == "__main__":
    main()
