"""Writes the soak's healthy and hostile job lines (bench/soak.sh): OUT_DIR/healthy.jsonl and
OUT_DIR/hostile.jsonl. Healthy jobs name fonts with `font.name` (the server's --fonts dir is
tests/fonts); hostile ones are what an untrusted client sends."""

import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)


def job(i: str, font: dict, text: str, fmt: str, w: int, h: int, **extra: object) -> str:
    j = {"id": i, "font": font, "text": {"content": text}, "rendering": {"format": fmt, "width": w, "height": h}}
    j.update(extra)
    return json.dumps(j, separators=(",", ":"))


dejavu = {"name": "DejaVuSans-subset.ttf", "size": 48}
healthy = [
    job("w1-metrics", dejavu, "Hamburgefonstiv", "metrics", 800, 100),
    job("w1-pgm", dejavu, "Hamburgefonstiv", "pgm", 800, 100),
    job("w1-png", dejavu, "Hamburgefonstiv", "png", 800, 100),
    job("inter-wght", {"name": "Inter-VF-subset.ttf", "size": 64, "variations": {"wght": 700}}, "Hamburg", "metrics", 600, 100),
    job("arabic", {"name": "NotoSansArabic-subset.ttf", "size": 40}, "مرحبا بالعالم", "metrics", 600, 100),
    job("glyph-a", {"name": "Inter-VF-subset.ttf", "size": 200, "variations": {"wght": 400}}, "A", "metrics", 300, 300),
    # The matching workload: one glyph at 1000 px on 3000x1200 (a 3.6 Mpx coverage canvas).
    job("match-a", {"name": "Inter-VF-subset.ttf", "size": 1000, "variations": {"wght": 600}}, "A", "metrics", 3000, 1200),
]
cut = (ROOT / "tests/fonts/DejaVuSans-subset.ttf").read_bytes()[:5000]
hostile = [
    '{"id": "malformed", "font": {"name": "DejaVuSans-subset.ttf"',
    "[" * 100_000,
    '{"id":"deep","x":' + "{\"a\":" * 50_000 + "1" + "}" * 50_000 + "}",
    job("broken-data", {"data": base64.b64encode(cut).decode(), "size": 48}, "Hamburgefonstiv", "metrics", 800, 100),
    job("giant-canvas", {"name": "DejaVuSans-subset.ttf", "size": 2000}, "W", "pgm", 10000, 5000),
    job("huge-size", {"name": "DejaVuSans-subset.ttf", "size": 10000}, "W" * 50, "metrics", 3000, 1200),
    job("traversal", {"name": "../../../../etc/passwd", "size": 48}, "x", "metrics", 100, 100),
    '"slow-client"',
]
(out / "healthy.jsonl").write_text("\n".join(healthy) + "\n")
(out / "hostile.jsonl").write_text("\n".join(hostile) + "\n")
