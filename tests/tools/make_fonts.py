#!/usr/bin/env python3
"""Build the test fonts in tests/fonts/ (and src/default_font/) from system / npm fonts.

Run from the repository root with the tools venv:
    target/venv/bin/python tests/tools/make_fonts.py [--source-sans-dir DIR]

Sources (see tests/fonts/README.md for versions):
  Debian fonts-dejavu-core, fonts-inter-variable, fonts-ebgaramond, fonts-noto-core
  npm source-sans (VF/SourceSans3VF-Upright.otf); fetched with `npm pack source-sans`
  into a temp dir when --source-sans-dir is not given.

Every subset is made with fontTools' pyftsubset (the exact command is printed and
recorded in tests/fonts/README.md). The output is deterministic for a given
fontTools version and source files.
"""
import argparse
import io
import os
import random
import shlex
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

from fontTools.ttLib import TTCollection, TTFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FONTS = os.path.join(ROOT, "tests", "fonts")
DEFAULT_FONT_DIR = os.path.join(ROOT, "src", "default_font")
PY = sys.executable

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
INTER = "/usr/share/fonts/truetype/inter-vf/Inter-roman.var.ttf"
GARAMOND = "/usr/share/fonts/opentype/ebgaramond/EBGaramond12-Regular.otf"
NOTO = "/usr/share/fonts/truetype/noto/"

COMMON = ["--layout-features=*", "--notdef-outline", "--name-IDs=*", "--name-languages=*",
          "--name-legacy", "--glyph-names", "--no-prune-unicode-ranges"]
LATIN_DIGITS_SPACE = "U+0020,U+0030-0039,U+00A0"

# (output name, source, unicodes, licence file name)
SUBSETS = [
    ("DejaVuSans-subset.ttf", DEJAVU,
     "U+0020-007E,U+00A0-00FF,U+0391-03A9,U+03B1-03C9,U+0410-044F,U+FB01-FB02", "LICENSE-DejaVu.txt"),
    ("DejaVuSans-Bold-subset.ttf", DEJAVU_BOLD,
     "U+0020-007E,U+00A0-00FF,U+0391-03A9,U+03B1-03C9,U+0410-044F,U+FB01-FB02", "LICENSE-DejaVu.txt"),
    ("Inter-VF-subset.ttf", INTER, "U+0020-007E,U+00A0-00BF", "OFL-Inter.txt"),
    ("EBGaramond12-subset.otf", GARAMOND, "U+0020-007E,U+00A0-00FF,U+FB00-FB06", "OFL-EBGaramond.txt"),
    ("SourceSans3VF-subset.otf", None, "U+0020-007E,U+00A0-00BF", "OFL-SourceSans3.txt"),
    ("NotoSansArabic-subset.ttf", NOTO + "NotoSansArabic-Regular.ttf",
     LATIN_DIGITS_SPACE + ",U+060C,U+061B,U+061F,U+0621-064A,U+064B-0652,U+0660-0669,U+0670,U+200C-200D,U+25CC",
     "OFL-Noto.txt"),
    ("NotoSansDevanagari-subset.ttf", NOTO + "NotoSansDevanagari-Regular.ttf",
     LATIN_DIGITS_SPACE + ",U+0900-097F,U+200C-200D,U+25CC", "OFL-Noto.txt"),
    ("NotoSansHebrew-subset.ttf", NOTO + "NotoSansHebrew-Regular.ttf",
     LATIN_DIGITS_SPACE + ",U+0591-05C7,U+05D0-05EA,U+05F0-05F4,U+25CC", "OFL-Noto.txt"),
    ("NotoSansThai-subset.ttf", NOTO + "NotoSansThai-Regular.ttf",
     LATIN_DIGITS_SPACE + ",U+0E01-0E3A,U+0E3F-0E5B,U+25CC", "OFL-Noto.txt"),
]
# copyright lines where the font's name ID 0 is not one (from the Debian copyright files)
COPYRIGHT = {
    "OFL-EBGaramond.txt": "Copyright 2010-2012 Georg Duffner (http://www.georgduffner.at)",
    "OFL-SourceSans3.txt": "Copyright 2010-2024 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'. "
                           "All Rights Reserved. Source is a trademark of Adobe in the United States and/or other countries.",
    "OFL-Noto.txt": "Copyright 2010,2012-2020 Google Inc.; 2015-2020 Google LLC. (Noto fonts)",
}
DEFAULT_FONT = ("Inter-VF-Latin.ttf", INTER, "U+0020-007E,U+00A0-00FF,U+0100-017F")


def run(cmd):
    print("+", " ".join(shlex.quote(c) for c in cmd))
    subprocess.run(cmd, check=True)


def subset(src, out, unicodes):
    run([PY, "-m", "fontTools.subset", src, "--output-file=" + out, "--unicodes=" + unicodes] + COMMON)


def ofl_body():
    # canonical OFL 1.1 text, taken from the Source Sans package's LICENSE.md
    with open(os.path.join(ROOT, "tests", "tools", "OFL-1.1.txt"), encoding="utf-8") as f:
        return f.read()


def write_licence(name, src_font):
    path = os.path.join(FONTS, name)
    if name == "LICENSE-DejaVu.txt":
        with open("/usr/share/doc/fonts-dejavu-core/copyright", encoding="utf-8") as f:
            lines = f.read().split("\n")
        # the Files: * stanza (Bitstream Vera licence); DejaVu changes are public domain
        start = next(i for i, l in enumerate(lines) if l.startswith("Files: *"))
        end = next(i for i, l in enumerate(lines) if l.startswith("Files: debian"))
        text = "DejaVu fonts (from Debian fonts-dejavu-core, /usr/share/doc/fonts-dejavu-core/copyright)\n\n"
        text += "\n".join(lines[start:end]).rstrip() + "\n"
    else:
        copyright_ = COPYRIGHT.get(name) or TTFont(src_font, lazy=True)["name"].getDebugName(0) or ""
        text = copyright_.strip() + "\n\nThis Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n" + ofl_body()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def source_sans(dir_):
    if dir_:
        return os.path.join(dir_, "VF", "SourceSans3VF-Upright.otf")
    tmp = tempfile.mkdtemp(prefix="source-sans-")
    run(["npm", "pack", "source-sans@3.52.0", "--pack-destination", tmp])
    tgz = [p for p in os.listdir(tmp) if p.endswith(".tgz")][0]
    with tarfile.open(os.path.join(tmp, tgz)) as t:
        t.extractall(tmp)
    return os.path.join(tmp, "package", "VF", "SourceSans3VF-Upright.otf")


def table_range(data, tag):
    num = struct.unpack(">H", data[4:6])[0]
    for i in range(num):
        rec = data[12 + 16 * i: 28 + 16 * i]
        if rec[:4] == tag:
            _, _, off, length = struct.unpack(">4sIII", rec)
            return off, length
    raise KeyError(tag)


def checksum(b):
    b = b + b"\0" * (-len(b) % 4)
    return sum(struct.unpack(">%dI" % (len(b) // 4), b)) & 0xFFFFFFFF


def make_broken():
    d = os.path.join(FONTS, "broken")
    os.makedirs(d, exist_ok=True)
    src = open(os.path.join(FONTS, "DejaVuSans-subset.ttf"), "rb").read()
    open(os.path.join(d, "truncated.ttf"), "wb").write(src[:1000])
    rng = random.Random(20251125)
    open(os.path.join(d, "random.bin"), "wb").write(bytes(rng.getrandbits(8) for _ in range(4096)))
    open(os.path.join(d, "empty.ttf"), "wb").write(b"")
    # head.unitsPerEm (offset 18 in head) := 0, by patching bytes; head table checksum fixed
    # (checkSumAdjustment left stale), so only the value itself is wrong.
    b = bytearray(src)
    off, length = table_range(b, b"head")
    b[off + 18: off + 20] = b"\0\0"
    head = bytes(b[off: off + length])
    head_for_sum = head[:8] + b"\0\0\0\0" + head[12:]  # checkSumAdjustment counts as 0
    num = struct.unpack(">H", b[4:6])[0]
    for i in range(num):
        r = 12 + 16 * i
        if b[r: r + 4] == b"head":
            b[r + 4: r + 8] = struct.pack(">I", checksum(head_for_sum))
    open(os.path.join(d, "upem0.ttf"), "wb").write(bytes(b))
    # 64 distinct bytes inverted (xor 0xFF) at fixed-seed positions inside glyf, chosen within the
    # outlines of the glyphs of "Hamburgefonstiv" and "A" so that rendering them meets the damage
    b = bytearray(src)
    off, length = table_range(b, b"glyf")
    tt = TTFont(os.path.join(FONTS, "DejaVuSans-subset.ttf"))
    loca = tt["loca"]
    cmap = tt.getBestCmap()
    order = tt.getGlyphOrder()
    spans = []
    for ch in sorted(set("HamburgefonstivA")):
        gid = order.index(cmap[ord(ch)])
        spans.extend(range(off + loca[gid], off + loca[gid + 1]))
    rng = random.Random(64)
    for pos in sorted(rng.sample(spans, 64)):
        b[pos] ^= 0xFF
    open(os.path.join(d, "bitflip.ttf"), "wb").write(bytes(b))
    make_bad_loca(d, src)


def make_bad_loca(d, src):
    """badloca.ttf: the DejaVu subset with the loca entry that ends glyph "H" pointing past the
    end of glyf (long loca offsets); every table is intact, but that one outline cannot be read
    (FreeType: FT_Load_Glyph fails)."""
    b = bytearray(src)
    off, _ = table_range(b, b"loca")
    _, glyf_len = table_range(b, b"glyf")
    tt = TTFont(io.BytesIO(src))
    gid = tt.getGlyphOrder().index(tt.getBestCmap()[ord("H")])
    if tt["head"].indexToLocFormat == 1:
        b[off + 4 * (gid + 1): off + 4 * (gid + 2)] = struct.pack(">I", glyf_len + 4096)
    else:
        b[off + 2 * (gid + 1): off + 2 * (gid + 2)] = struct.pack(">H", min(0xFFFF, glyf_len // 2 + 2048))
    open(os.path.join(d, "badloca.ttf"), "wb").write(bytes(b))


# tests/fonts/limits/budgets.ttf: the DejaVu subset plus glyphs and lookups that break the
# engine's work budgets (src/limits.rs), one per character:
#   U+E000 a composite chain 70 deep (MAX_COMPOSITE_DEPTH is 64)
#   U+E001 a composite chain 60 deep (within the budget: renders like "H")
#   U+E002 a composite that is its own component
#   U+E003 64 components of 64 components of "H": 4,160 references (MAX_COMPOSITE_COMPONENTS 2,048)
#   U+E004 40 components of a 2,000-point glyph: 80,000 points (MAX_OUTLINE_POINTS 65,536)
#   U+E005 12,000 far-off control points: over 2,000,000 segments at 10,000 px (MAX_SEGMENTS_PER_GLYPH)
#   U+E006 2,000 tall steep edges: over 4,000,000 raster cells at 10,000 px on a 10,000×5,000 canvas
#          (MAX_CELLS_PER_GLYPH)
#   "1"    calt: a contextual lookup applying 4 lookups that each apply 4 …, 12 levels: 4^12
#          lookup applications (HarfRust's operation budget is 65,536 for a short text)
#   "2"    calt: a chain of 70 contextual lookups each applying the next (nesting limit 64)
# Every other character is the DejaVu subset's own (its GSUB is replaced by these lookups).
LIMIT_CHAIN_DEEP = 70
LIMIT_CHAIN_OK = 60
LIMIT_FAN = 64
LIMIT_POINTS_GLYPH = 2000
LIMIT_POINTS_COPIES = 40
LIMIT_OPS_LEVELS = 12
LIMIT_CELL_EDGES = 2000
LIMIT_NEST_LEVELS = 70


def make_limit_fonts():
    from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib.tables import ttProgram
    from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent, GlyphCoordinates

    d = os.path.join(FONTS, "limits")
    os.makedirs(d, exist_ok=True)
    tt = TTFont(os.path.join(FONTS, "DejaVuSans-subset.ttf"), recalcTimestamp=False)
    # A self-referencing composite cannot have its bounds or maxp recomputed.
    tt.recalcBBoxes = False
    glyf, hmtx = tt["glyf"], tt["hmtx"]
    order = list(tt.getGlyphOrder())
    cmap = tt.getBestCmap()
    base = cmap[ord("H")]
    adv = hmtx[base][0]
    new = {}

    def composite(name, parts):
        g = Glyph()
        g.numberOfContours = -1
        g.components = []
        for part in parts:
            c = GlyphComponent()
            c.glyphName, c.x, c.y, c.flags = part, 0, 0, 0
            g.components.append(c)
        h = glyf[base]
        g.xMin, g.yMin, g.xMax, g.yMax = h.xMin, h.yMin, h.xMax, h.yMax
        new[name] = g

    for prefix, n in (("deep", LIMIT_CHAIN_DEEP), ("ok", LIMIT_CHAIN_OK)):
        for i in range(n):
            composite("%s%d" % (prefix, i), [base if i == n - 1 else "%s%d" % (prefix, i + 1)])
    composite("selfref", ["selfref"])
    composite("fan0", ["fan1"] * LIMIT_FAN)
    composite("fan1", [base] * LIMIT_FAN)
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    for i in range(1, LIMIT_POINTS_GLYPH):
        pen.lineTo((100 + i % 2 * 20 + i // 2 % 2, 700 * i // LIMIT_POINTS_GLYPH))
    pen.closePath()
    many = pen.glyph()
    many.recalcBounds(None)
    new["manypoints"] = many
    composite("points", ["manypoints"] * LIMIT_POINTS_COPIES)
    # 12,000 off-curve points zig-zagging 2,200 units: at 10,000 px each curve wants more
    # than MAX_SEGMENTS_PER_CURVE (256) segments, over 3 million in all.
    g = Glyph()
    g.numberOfContours = 1
    g.coordinates = GlyphCoordinates([(i % 1000, 1800 if i % 2 else -400) for i in range(12000)])
    g.flags = bytearray([0] * 12000)
    g.endPtsOfContours = [11999]
    g.program = ttProgram.Program()
    g.program.fromBytecode(b"")
    g.recalcBounds(None)
    new["segments"] = g
    # 2,000 steep edges 1,400 units tall (6,800 px at 10,000 px per em on 2048 units): each
    # crosses ~3,750 canvas rows, ~7.5 million raster cells (MAX_CELLS_PER_GLYPH 4,000,000).
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    for i in range(1, LIMIT_CELL_EDGES):
        pen.lineTo((i, 1400 if i % 2 else 0))
    pen.closePath()
    new["cells"] = pen.glyph()
    new["cells"].recalcBounds(None)
    for name, g in new.items():
        glyf.glyphs[name] = g
        hmtx[name] = (adv, getattr(g, "xMin", 0))  # lsb = xMin, as in any glyf font
        order.append(name)
    glyf.glyphOrder = order
    tt.setGlyphOrder(order)
    tt["maxp"].numGlyphs = len(order)
    for table in tt["cmap"].tables:
        if table.isUnicode():
            table.cmap.update({0xE000: "deep0", 0xE001: "ok0", 0xE002: "selfref",
                               0xE003: "fan0", 0xE004: "points",
                               0xE005: "segments", 0xE006: "cells"})
    one, two = cmap[ord("1")], cmap[ord("2")]
    fea = ["languagesystem DFLT dflt;", "languagesystem latn dflt;",
           "lookup ops%d { sub %s by %s; } ops%d;" % (LIMIT_OPS_LEVELS, one, one, LIMIT_OPS_LEVELS)]
    for i in range(LIMIT_OPS_LEVELS - 1, -1, -1):
        fea.append("lookup ops%d { sub %s' %s; } ops%d;"
                   % (i, one, " ".join(["lookup ops%d" % (i + 1)] * 4), i))
    fea.append("lookup nest%d { sub %s by %s; } nest%d;" % (LIMIT_NEST_LEVELS, two, two, LIMIT_NEST_LEVELS))
    for i in range(LIMIT_NEST_LEVELS - 1, -1, -1):
        fea.append("lookup nest%d { sub %s' lookup nest%d; } nest%d;" % (i, two, i + 1, i))
    fea.append("feature calt { lookup ops0; lookup nest0; } calt;")
    del tt["GSUB"]
    addOpenTypeFeaturesFromString(tt, "\n".join(fea), tables=["GSUB"])
    out = os.path.join(d, "budgets.ttf")
    tt.save(out)
    print("wrote", os.path.relpath(out, ROOT))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-sans-dir", help="extracted npm source-sans package dir")
    ap.add_argument("--limits-only", action="store_true",
                    help="only write tests/fonts/limits/ (from the DejaVu subset already here)")
    args = ap.parse_args()
    if args.limits_only:
        make_limit_fonts()
        return
    os.makedirs(FONTS, exist_ok=True)
    os.makedirs(DEFAULT_FONT_DIR, exist_ok=True)
    for out, src, uni, lic in SUBSETS:
        tmp = None
        if src is None:
            src = source_sans(args.source_sans_dir)
            if not args.source_sans_dir:
                tmp = os.path.dirname(os.path.dirname(os.path.dirname(src)))
        subset(src, os.path.join(FONTS, out), uni)
        write_licence(lic, src)
        if tmp:
            shutil.rmtree(tmp)
    # collection: face 0 = DejaVu Sans subset, face 1 = DejaVu Sans Bold subset
    ttc = TTCollection()
    ttc.fonts = [TTFont(os.path.join(FONTS, "DejaVuSans-subset.ttf"), recalcTimestamp=False),
                 TTFont(os.path.join(FONTS, "DejaVuSans-Bold-subset.ttf"), recalcTimestamp=False)]
    ttc.save(os.path.join(FONTS, "Collection-subset.ttc"))
    os.remove(os.path.join(FONTS, "DejaVuSans-Bold-subset.ttf"))
    make_broken()
    make_limit_fonts()
    # default font embedded by the engine
    name, src, uni = DEFAULT_FONT
    subset(src, os.path.join(DEFAULT_FONT_DIR, name), uni)
    with open(os.path.join(DEFAULT_FONT_DIR, "OFL.txt"), "w", encoding="utf-8") as f:
        f.write(open(os.path.join(FONTS, "OFL-Inter.txt"), encoding="utf-8").read())
    for d in (FONTS, os.path.join(FONTS, "broken"), os.path.join(FONTS, "limits"), DEFAULT_FONT_DIR):
        for p in sorted(os.listdir(d)):
            fp = os.path.join(d, p)
            if os.path.isfile(fp):
                print("%8d  %s" % (os.path.getsize(fp), os.path.relpath(fp, ROOT)))


if __name__ == "__main__":
    main()
