"""A long-lived StreamingSession: fonts stay registered and caches warm between renders.

Run from anywhere after installing the package (hosts/python/README.md, "Install"):

    python examples/python/streaming.py

Uses only the repository's test fonts. Prints results, cache statistics and timings.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import haforu

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")
DEJAVU = str(FONTS / "DejaVuSans-subset.ttf")


def job(job_id: str, font: str, text: str, wght: float = 400, fmt: str = "metrics") -> dict:
    return {
        "id": job_id,
        "font": {"path": font, "size": 64, "variations": {"wght": wght} if font == INTER else {}},
        "text": {"content": text},
        "rendering": {"format": fmt, "width": 500, "height": 90},
    }


def main() -> None:
    print(f"engine available: {haforu.StreamingSession.is_available()}")
    # cache_size: fonts kept registered (2.x name); max_glyphs: the glyph coverage cache.
    with haforu.StreamingSession(cache_size=8, max_glyphs=2048) as session:
        session.warm_up(INTER)  # registers the font and renders once

        # One job at a time, as a dict or as JSON text; the result is JSON text.
        first = json.loads(session.render(job("dict-job", INTER, "Streaming", 700)))
        second = json.loads(session.render(json.dumps(job("text-job", INTER, "Streaming", 700))))
        print(f"{first['id']}: {first['status']}, density {first['metrics']['density']:.4f}")
        print(f"{second['id']}: {second['status']}, same metrics: {first['metrics'] == second['metrics']}")

        # Many jobs, results in input order as soon as each is done: a generator...
        weights = range(100, 901, 200)
        for line in session.render_many(job(f"w{w}", INTER, "Streaming", w) for w in weights):
            r = json.loads(line)
            print(f"  {r['id']:<5} density {r['metrics']['density']:.4f}")

        # ...or a text file object with one job per line (here an in-memory JSONL file).
        jsonl = io.StringIO("\n".join(json.dumps(job(f"file-{i}", DEJAVU, t)) for i, t in enumerate(["AVATAR", "Toyota"])))
        print("from a JSONL file:", [json.loads(line)["id"] for line in session.render_many(jsonl)])

        # Warm caches: the same render again is served from the glyph cache.
        t0 = time.perf_counter()
        for i in range(200):
            session.render(job(f"repeat-{i}", INTER, "Hamburgefonstiv", 550))
        per_job_us = (time.perf_counter() - t0) / 200 * 1e6
        print(f"200 repeated renders: {per_job_us:.0f} us per job")

        stats = session.cache_stats()
        print("cache:", {k: stats[k] for k in ("capacity", "entries", "glyph_capacity", "glyph_entries", "glyph_hits")})

        # Resize the caches (2.x names): fonts beyond the capacity and glyphs beyond the new
        # glyph capacity are evicted now; 0 turns the glyph cache off. Pixels never change.
        session.set_cache_size(1)
        session.set_glyph_cache_size(16)
        stats = session.cache_stats()
        print(f"after set_cache_size(1), set_glyph_cache_size(16): {stats['entries']} font(s), "
              f"{stats['glyph_entries']} glyph(s) cached (capacity {stats['glyph_capacity']})")
        session.set_glyph_cache_size(0)
        again = json.loads(session.render(job("cache-off", INTER, "Streaming", 700)))
        print(f"glyph cache off: {session.cache_stats()['glyph_entries']} glyphs cached, "
              f"same metrics as before: {again['metrics'] == first['metrics']}")
    print(f"session closed: {session.closed}")


if __name__ == "__main__":
    main()
