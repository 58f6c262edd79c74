#!/usr/bin/env python3
"""Write tests/golden/truncation/cases.json: FreeType's verdict on real fonts cut short.

Each test font is cut to its first N bytes at many points (0.1 % … 99.9 % of its length). For
every cut, FreeType (freetype-py, not the engine) judges it as a font renderer would:

- ``"fails"``: FreeType cannot open the face, or a character of the text that the whole font
  maps no longer maps (the cmap is gone or broken), or a glyph of the text cannot be loaded
  (``FT_Load_Glyph`` fails);
- ``"renders"``: every glyph of the text loads. ``ink`` is then the sum of FreeType's coverage
  of the glyphs HarfBuzz (uharfbuzz) shapes the text to with the cut font (unhinted, each
  glyph rendered alone, 1.0 = one fully covered pixel), which the test compares with the
  engine's ink on a canvas that holds the whole text.

The engine must fail with ``font_parse`` exactly where FreeType fails, and render the same ink
where it renders (tests/reference/truncation.rs), with one stricter rule of its own: a
*required* table (head, maxp, hhea, hmtx, cmap, glyf/loca, CFF, CFF2) whose directory entry
extends past the end of the cut is ``font_parse`` naming that table, even where FreeType clamps
the entry and renders what is left. Such cuts carry ``"required_cut": TAG``. The cut files are not stored: the test cuts
the fonts in tests/fonts/ at the same lengths.

    target/venv-py/bin/python tests/tools/make_truncations.py
"""
import io
import json
import os
import struct

import freetype
import uharfbuzz as hb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "truncation", "cases.json")

#: (font, text, size): each face renders its text at the size; the canvas of the job is made
#: big enough to hold all of it (see the test).
FONTS = [
    ("tests/fonts/DejaVuSans-subset.ttf", "Hamburgefonstiv", 32),
    ("tests/fonts/Inter-VF-subset.ttf", "Hamburgefonstiv", 32),
    ("tests/fonts/NotoSansArabic-subset.ttf", "نص حكيم له سر", 32),
    ("tests/fonts/EBGaramond12-subset.otf", "Hamburgefonstiv", 32),
    ("tests/fonts/SourceSans3VF-subset.otf", "Hamburgefonstiv", 32),
]

#: Where to cut, as fractions of the file length.
FRACTIONS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
             0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]

FLAGS = freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP | freetype.FT_LOAD_RENDER


REQUIRED = ("head", "maxp", "hhea", "hmtx", "cmap", "glyf", "loca", "CFF ", "CFF2")


def required_cut(whole, n):
    """The first required table (in directory order) whose entry extends past byte ``n``."""
    if n < 12:
        return None
    num = struct.unpack(">H", whole[4:6])[0]
    for i in range(num):
        at = 12 + 16 * i
        if at + 16 > n:
            return None  # the directory itself is cut: nothing to read
        tag = whole[at:at + 4].decode("latin-1")
        offset, length = struct.unpack(">II", whole[at + 8:at + 16])
        if tag in REQUIRED and offset + length > n:
            return tag.strip()
    return None


def judge(data, full, text, size):
    """("renders", ink) or ("fails", why) for the bytes ``data``."""
    try:
        face = freetype.Face(io.BytesIO(data))
        face.set_char_size(0, int(size * 64), 72, 72)
    except freetype.FT_Exception as e:
        return "fails", f"FreeType cannot open the face: {e}"
    for ch in sorted(set(text) - {" "}):
        if full.get_char_index(ch) and not face.get_char_index(ch):
            return "fails", f"U+{ord(ch):04X} no longer maps (cmap)"
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(hb.Blob(data))), buf)
    ink = 0.0
    for info in buf.glyph_infos:
        try:
            face.load_glyph(info.codepoint, FLAGS)
        except freetype.FT_Exception as e:
            return "fails", f"glyph {info.codepoint} does not load: {e}"
        ink += sum(face.glyph.bitmap.buffer) / 255.0
    return "renders", ink


def main():
    cases = []
    for path, text, size in FONTS:
        with open(os.path.join(ROOT, path), "rb") as f:
            whole = f.read()
        full = freetype.Face(io.BytesIO(whole))
        full.set_char_size(0, int(size * 64), 72, 72)
        cuts = sorted({max(1, int(len(whole) * q)) for q in FRACTIONS})
        for n in cuts:
            verdict, detail = judge(whole[:n], full, text, size)
            case = {"font": path, "cut": n, "of": len(whole), "text": text, "size": size,
                    "freetype": verdict}
            if verdict == "renders":
                case["ink"] = round(detail, 3)
                cut_table = required_cut(whole, n)
                if cut_table:
                    case["required_cut"] = cut_table
            else:
                case["why"] = detail
            cases.append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]\n")
    fails = sum(c["freetype"] == "fails" for c in cases)
    strict = sum("required_cut" in c for c in cases)
    print(f"{len(cases)} cuts: FreeType fails on {fails}, renders {len(cases) - fails} "
          f"({strict} of them with a required table cut); wrote {OUT}")


if __name__ == "__main__":
    main()
