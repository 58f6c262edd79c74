"""Font matching: find the instance of a variable font whose rendering best matches a target.

Run from anywhere after installing the package (hosts/python/README.md, "Install"):

    python examples/python/match.py

The target is "A" at 1000 px on 3000×1200 rendered from a static font (DejaVu Sans). The search
runs over every axis of the variable font (Inter) that font_info reports among wght, wdth and
opsz: a coarse grid, evaluated in one sweep, then a coordinate descent with a golden-section
search per axis. Every evaluation is a sweep with `target`, so the engine renders and compares in
its own memory and only the comparison numbers come back. The search keeps the best point it has
evaluated and returns it, so the refined result is never worse than the coarse grid's best.

A second run matches a target rendered from Inter itself at a known weight, which the search
must find again.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

import haforu

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")
DEJAVU = str(FONTS / "DejaVuSans-subset.ttf")
TEXT, SIZE, WIDTH, HEIGHT = "A", 1000, 3000, 1200
AXES = ("wght", "wdth", "opsz")
GOLDEN = (math.sqrt(5) - 1) / 2

Coords = Dict[str, float]


class Matcher:
    """Evaluates coordinates against one target (each batch of points = one engine call), keeps
    every result, and knows the best point evaluated so far."""

    def __init__(self, session: haforu.StreamingSession, font: str, target: "np.ndarray") -> None:
        self.session, self.font, self.target = session, font, target
        self.seen: Dict[Tuple[Tuple[str, float], ...], float] = {}
        self.best: Optional[Tuple[float, Coords]] = None
        self.calls = 0

    @staticmethod
    def key(c: Coords) -> Tuple[Tuple[str, float], ...]:
        return tuple(sorted((k, round(v, 6)) for k, v in c.items()))

    def evaluate(self, coords: List[Coords]) -> List[float]:
        todo = [c for c in coords if self.key(c) not in self.seen]
        if todo:
            self.calls += 1
            points = self.session.sweep(self.font, TEXT, SIZE, WIDTH, HEIGHT, todo, target=self.target)
            for c, p in zip(todo, points):
                if p.error is not None or p.compare is None:
                    raise p.error or RuntimeError("no comparison")
                delta = p.compare.pixel_delta
                self.seen[self.key(c)] = delta
                if self.best is None or delta < self.best[0]:
                    self.best = (delta, dict(c))
        return [self.seen[self.key(c)] for c in coords]

    @property
    def evaluations(self) -> int:
        return len(self.seen)


def grid(ranges: Dict[str, Tuple[float, float]], per_axis: int) -> List[Coords]:
    points: List[Coords] = [{}]
    for tag, (lo, hi) in ranges.items():
        points = [dict(p, **{tag: lo + (hi - lo) * i / (per_axis - 1)}) for p in points for i in range(per_axis)]
    return points


def golden_section(m: Matcher, base: Coords, tag: str, lo: float, hi: float, tol: float) -> None:
    """Minimise along one axis on [lo, hi]; every point evaluated updates ``m.best``."""
    a, b = lo, hi
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = m.evaluate([dict(base, **{tag: c}), dict(base, **{tag: d})])
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - GOLDEN * (b - a)
            (fc,) = m.evaluate([dict(base, **{tag: c})])
        else:
            a, c, fc = c, d, fd
            d = a + GOLDEN * (b - a)
            (fd,) = m.evaluate([dict(base, **{tag: d})])


def match(session: haforu.StreamingSession, font: str, target: "np.ndarray") -> Tuple[Matcher, float, Coords]:
    info = session.font_info(font)
    ranges = {a["tag"]: (float(a["min"]), float(a["max"])) for a in info["axes"] if a["tag"] in AXES}
    m = Matcher(session, font, target)
    per_axis = {1: 9, 2: 5}.get(len(ranges), 4)
    m.evaluate(grid(ranges, per_axis))  # one engine call for the whole grid
    assert m.best is not None
    coarse_delta = m.best[0]
    for _ in range(1 if len(ranges) == 1 else 2):  # coordinate descent: each axis in turn, around the best so far
        for tag, (lo, hi) in ranges.items():
            step = (hi - lo) / (per_axis - 1)
            centre = m.best[1][tag]
            golden_section(m, m.best[1], tag, max(lo, centre - step), min(hi, centre + step), tol=0.5)
    return m, coarse_delta, m.best[1]


def run(session: haforu.StreamingSession, label: str, target: "np.ndarray") -> Tuple[Coords, float]:
    t0 = time.perf_counter()
    m, coarse, best = match(session, INTER, target)
    dt = time.perf_counter() - t0
    assert m.best is not None
    delta = m.best[0]
    where = ", ".join(f"{k}={v:.1f}" for k, v in best.items())
    print(f"{label}")
    print(f"  optimum {where}: pixel_delta {delta:.4f} (coarse grid best {coarse:.4f})")
    print(f"  {m.evaluations} evaluations in {m.calls} engine calls, {dt * 1000:.0f} ms")
    print(f"  refined never worse than the coarse best: {delta <= coarse}")
    return best, delta


def main() -> None:
    with haforu.StreamingSession() as s:
        axes = [a["tag"] for a in s.font_info(INTER)["axes"]]
        print(f"variable font: {Path(INTER).name}, axes {axes}; target text {TEXT!r} at {SIZE} px on {WIDTH}x{HEIGHT}")
        s.warm_up(INTER)
        target = s.render_to_numpy(DEJAVU, TEXT, SIZE, WIDTH, HEIGHT)
        run(s, f"target: {Path(DEJAVU).name} (static)", target)
        known = 637.0
        target = s.render_to_numpy(INTER, TEXT, SIZE, WIDTH, HEIGHT, {"wght": known})
        best, delta = run(s, f"target: {Path(INTER).name} at wght={known:g}", target)
        print(f"  found the known weight again: {abs(best['wght'] - known) <= 2 and delta < 0.05}")


if __name__ == "__main__":
    main()
