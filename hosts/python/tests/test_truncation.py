"""Real fonts cut short, through the Python package (tests/golden/truncation/cases.json, FreeType's
verdict written by tests/tools/make_truncations.py; the same rule as tests/reference/truncation.rs):
where FreeType fails, the call raises ``FontParseError``-kind errors (``kind == "font_parse"``);
where it renders, the ink matches within 1.5 %; a required table cut short is ``font_parse``
naming it. Never a blank success."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import haforu

ROOT = Path(__file__).resolve().parents[3]


def test_cut_fonts_follow_freetype(session: haforu.StreamingSession) -> None:
    cases = json.loads((ROOT / "tests/golden/truncation/cases.json").read_text(encoding="utf-8"))
    assert len(cases) >= 80
    fonts: Dict[str, bytes] = {}
    wrong: List[str] = []
    for c in cases:
        whole = fonts.setdefault(c["font"], (ROOT / c["font"]).read_bytes())
        cut = whole[: c["cut"]]
        w, h = 40 * len(c["text"]), int(3 * c["size"])
        label = f"{c['font']} cut at {c['cut']}"
        try:
            m = session.metrics(None, c["text"], c["size"], w, h, font_bytes=cut)
        except haforu.HaforuError as exc:
            if exc.kind != "font_parse":
                wrong.append(f"{label}: {exc.kind}: {exc}")
            elif "required_cut" in c and f"the {c['required_cut']} table" not in str(exc):
                wrong.append(f"{label}: does not name the {c['required_cut']} table: {exc}")
            elif c["freetype"] == "renders" and "required_cut" not in c:
                wrong.append(f"{label}: FreeType renders, the engine raised {exc}")
            continue
        if c["freetype"] == "fails" or "required_cut" in c:
            wrong.append(f"{label}: FreeType fails ({c.get('why')}), the engine rendered {m}")
        elif abs(m.density * w * h - c["ink"]) > 0.015 * c["ink"]:
            wrong.append(f"{label}: ink {m.density * w * h}, FreeType {c['ink']}")
    assert not wrong, "\n".join(wrong)
