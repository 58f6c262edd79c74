#!/usr/bin/env python3
"""Write tests/golden/shaping/cases.jsonl: HarfBuzz (uharfbuzz) glyph runs for the engine's shaper.

    target/venv/bin/python tests/tools/make_shaping_goldens.py

One case per line:
  {"id", "font", "face_index"?, "text", "size", "script"?, "direction"?, "language"?,
   "features"?: [..], "variations"?: {..}, "position_tolerance"?: int,
   "expected": "gid=cluster@x_off,y_off+x_adv,y_adv|..."}
gid/cluster exact; clusters are UTF-8 byte offsets; positions in font units (no scale).
"position_tolerance" (default 0) is the allowed |difference| of each position value in font units
(set to 1 where harfrust is known to differ from HarfBuzz by rounding: variable fonts, vertical
text in fonts without vertical metrics). The HarfBuzz version is recorded in the README.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_render as rr  # noqa: E402

D = "tests/fonts/DejaVuSans-subset.ttf"
I = "tests/fonts/Inter-VF-subset.ttf"
G = "tests/fonts/EBGaramond12-subset.otf"
S = "tests/fonts/SourceSans3VF-subset.otf"
A = "tests/fonts/NotoSansArabic-subset.ttf"
V = "tests/fonts/NotoSansDevanagari-subset.ttf"
H = "tests/fonts/NotoSansHebrew-subset.ttf"
T = "tests/fonts/NotoSansThai-subset.ttf"
C = "tests/fonts/Collection-subset.ttc"
W = "Hamburgefonstiv"


def case(id, font, text, size=48, **kw):
    c = {"id": id, "font": font, "text": text, "size": size}
    c.update(kw)
    return c


CASES = [
    case("dejavu_avatar", D, "AVATAR"),
    case("dejavu_toyota", D, "Toyota"),
    case("dejavu_avatar_kern_off", D, "AVATAR", features=["-kern"]),
    case("dejavu_avatar_kern_range_on", D, "AVATAR", features=["-kern", "kern[1:3]"]),
    case("dejavu_avatar_kern_range_off", D, "AVATAR", features=["kern[1:3]=0"]),
    case("dejavu_kern_plus", D, "Toyota", features=["+kern"]),
    case("dejavu_notdef", D, "A\u4e2dB"),
    case("dejavu_greek_cyrillic", D, "Αλφα Привет"),
    case("dejavu_ttb", D, "Hamburg", direction="ttb", position_tolerance=1),
    case("ttc_face1", C, W, face_index=1),
    case("garamond_office", G, "office"),
    case("garamond_office_minus_liga", G, "office", features=["-liga"]),
    case("garamond_office_liga0", G, "office", features=["liga=0"]),
    case("garamond_office_liga_off", G, "office", features=["liga=off"]),
    case("garamond_fifty", G, "fifty"),
    case("garamond_fifty_minus_liga", G, "fifty", features=["-liga"]),
    case("arabic_sentence", A, "نص حكيم له سر قاطع وذو شأن عظيم", script="Arab", direction="rtl", language="ar"),
    case("arabic_auto", A, "مرحبا بالعالم"),
    case("devanagari_hindi", V, "हिन्दी"),
    case("devanagari_kshatriya", V, "क्षत्रिय"),
    case("hebrew_shalom_nikud", H, "שָׁלוֹם עוֹלָם"),
    case("hebrew_bereshit", H, "בְּרֵאשִׁית", script="hebr", language="he"),
    case("thai_hello", T, "สวัสดีชาวโลก"),
    case("thai_language", T, "ภาษาไทย", script="Thai", language="th"),
    case("inter_wght100", I, W, variations={"wght": 100}, position_tolerance=1),
    case("inter_wght400", I, W, variations={"wght": 400}, position_tolerance=1),
    case("inter_wght700", I, W, variations={"wght": 700}, position_tolerance=1),
    case("inter_wght900", I, W, variations={"wght": 900}, position_tolerance=1),
    case("inter_wght_clamped", I, W, variations={"wght": 5000}, position_tolerance=1),
    case("sourcesans_wght300", S, W, variations={"wght": 300}, position_tolerance=1),
    case("sourcesans_wght800", S, W, variations={"wght": 800}, position_tolerance=1),
    case("sourcesans_aalt2", S, "g", features=["aalt=2"]),
    case("sourcesans_aalt1", S, "g", features=["aalt=1"]),
]


def to_job(c):
    font = {"path": c["font"], "size": c["size"]}
    for k in ("face_index", "variations"):
        if k in c:
            font[k] = c[k]
    text = {"content": c["text"]}
    for k in ("script", "direction", "language", "features"):
        if k in c:
            text[k] = c[k]
    return {"id": c["id"], "font": font, "text": text, "rendering": {"format": "glyphs", "width": 1, "height": 1}}


def serialize(run):
    return "|".join("%d=%d@%d,%d+%d,%d" % (g, cl, xo, yo, xa, ya) for g, cl, xa, ya, xo, yo in run)


def main():
    out = os.path.join(rr.ROOT, "tests", "golden", "shaping", "cases.jsonl")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    ids = [c["id"] for c in CASES]
    assert len(set(ids)) == len(ids)
    with open(out, "w", encoding="utf-8") as f:
        for c in CASES:
            c = dict(c, expected=serialize(rr.shape(to_job(c))))
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
            print(c["id"], c["expected"][:100])


if __name__ == "__main__":
    main()
