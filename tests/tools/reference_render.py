#!/usr/bin/env python3
"""Reference renderer for haforu golden data: uharfbuzz (shaping) + freetype-py (raster).

This is NOT the haforu engine. It implements the geometry of /SPEC.md §3 independently so that
the engine's output can be compared with it:

* scale = size / unitsPerEm. HarfBuzz shapes in font units (hb.Font scale left at upem).
* The pen starts at (0, 0) in font units. Each glyph's origin in font units is
  (pen_x + x_offset, pen_y + y_offset); then pen += (x_advance, y_advance).
* In pixels: origin_px_x = origin_x * scale, origin_px_y_down = 0.75 * height - origin_y * scale
  (baseline 0.75 x height from the top; the canvas y axis points down).
* Each origin is quantised to 1/64 px: ox64 = round(origin_px_x * 64),
  oy64 = round(origin_px_y_down * 64), rounding half away from zero.
* FreeType: set_char_size(round(size * 64)) at 72 dpi (ppem = size; FreeType 2.13 keeps a
  fractional ppem for unhinted loads, also for TrueType fonts with head.flags bit 3), load with
  FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP, variable fonts via set_var_design_coords with the same
  clamped user coordinates given to HarfBuzz. The fractional part of the origin (ox64 & 63,
  oy64 & 63) goes into FT_Set_Transform's delta as (+fx, -fy) (FreeType's y axis points up), and
  the bitmap lands at (floor(ox64/64) + bitmap_left, floor(oy64/64) - bitmap_top).
* Coverage a = bitmap / 255 is composited onto a float64 canvas with ink = ink + a * (1 - ink);
  whatever falls outside the canvas is clipped. Final pixel = round(255 * (1 - ink)) (half up),
  uint8: 0 = full ink, 255 = paper.
* Unmapped characters: HarfBuzz gives glyph 0, which is drawn like any glyph.

Public API:
  render(job, repo_root=ROOT) -> (pixels HxW uint8, applied_variations dict)
  shape(job, repo_root=ROOT)  -> [(gid, cluster, x_adv, y_adv, x_off, y_off), ...]  (font units,
                                 clusters = UTF-8 byte offsets)
  metrics(pixels) -> {"density", "beam", "bbox"}                                   (SPEC §3)
  parse_feature(str) -> (tag, value, start, end)            (hb_feature_from_string semantics)
Lower-level pieces (used by bench/peer.py, which caches LoadedFont objects):
  LoadedFont, resolve_variations, shape_loaded, glyph_origins_64, rasterize
"""
import ctypes
import io
import math
import os

import freetype
import numpy as np
import uharfbuzz as hb
from fontTools.ttLib import TTFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

LOAD_FLAGS = freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP | freetype.FT_LOAD_RENDER
GLOBAL_START = 0
GLOBAL_END = 0xFFFFFFFF


# ----------------------------------------------------------------------------------------------
# feature strings (a port of hb_feature_from_string)

def _isalnum(c):
    return c.isascii() and (c.isalnum() or c == "_")


def parse_feature(s):
    """Parse a HarfBuzz feature string into (tag, value, start, end).

    Accepts `liga`, `+liga`, `-liga`, `liga=0`, `liga=off`, `liga=on`, `aalt=2`, `kern[3:5]`,
    `kern[3]`, `kern[3:]`, `kern[:5]`, `kern[]`, quoted tags ('liga'), CSS style `"liga" 0`.
    Raises ValueError on anything hb_feature_from_string would reject.
    """
    p, n = 0, len(s)

    def skip_space():
        nonlocal p
        while p < n and s[p] in " \t\n\v\f\r":
            p += 1

    def char(c):
        nonlocal p
        skip_space()
        if p < n and s[p] == c:
            p += 1
            return True
        return False

    def uint():
        nonlocal p
        skip_space()
        q = p
        while q < n and s[q].isascii() and s[q].isdigit():
            q += 1
        if q == p:
            return None
        v = int(s[p:q])
        if v > 0xFFFFFFFF:
            return None
        p = q
        return v

    # prefix
    value = 1
    if char("-"):
        value = 0
    else:
        char("+")
    # tag
    skip_space()
    quote = None
    if p < n and s[p] in "'\"":
        quote = s[p]
        p += 1
    q = p
    while p < n and _isalnum(s[p]):
        p += 1
    raw = s[q:p]
    if not raw or (quote and len(raw) != 4):
        raise ValueError("bad feature tag in %r" % s)
    if quote:
        if p >= n or s[p] != quote:
            raise ValueError("unterminated quote in %r" % s)
        p += 1
    tag = (raw[:4] + "    ")[:4]
    # indices
    start, end = GLOBAL_START, GLOBAL_END
    if char("["):
        st = uint()
        if st is not None:
            start = st
        if char(":") or char(";"):
            e = uint()
            if e is not None:
                end = e
        elif st is not None:
            end = st + 1
        if not char("]"):
            raise ValueError("bad feature range in %r" % s)
    # value postfix
    had_equal = char("=")
    v = uint()
    if v is None:
        skip_space()
        q = p
        while p < n and s[p].isascii() and s[p].isalpha():
            p += 1
        word = s[q:p].lower()
        if word == "on":
            v = 1
        elif word == "off":
            v = 0
        elif word:
            raise ValueError("bad feature value in %r" % s)
    if had_equal and v is None:
        raise ValueError("missing feature value in %r" % s)
    if v is not None:
        value = v
    skip_space()
    if p != n:
        raise ValueError("trailing characters in feature %r" % s)
    return tag, value, start, end


def features_dict(feature_strings):
    """Feature strings -> the mapping uharfbuzz.shape takes: {tag: [(start, end, value), ...]}.

    Entries for the same tag keep their order (a later one wins where ranges overlap, as in
    hb_shape); different tags do not interact, so the dict order does not matter.
    """
    out = {}
    for f in feature_strings or []:
        tag, value, start, end = parse_feature(f)
        out.setdefault(tag, []).append((start, end, value))
    return out


# ----------------------------------------------------------------------------------------------
# fonts

class LoadedFont:
    """One face of one font file: hb.Face/hb.Font, a FreeType face and the fvar data."""

    def __init__(self, data, face_index=0, path=None):
        self.path = path
        self.data = bytes(data)
        self.face_index = face_index
        tt = TTFont(io.BytesIO(self.data), fontNumber=face_index, lazy=True)
        self.upem = tt["head"].unitsPerEm
        if not self.upem:
            raise ValueError("font has unitsPerEm 0: %s" % path)
        self.axes = []  # (tag, min, default, max)
        self.instances = []  # (subfamily name, {tag: value})
        if "fvar" in tt:
            self.axes = [(a.axisTag, a.minValue, a.defaultValue, a.maxValue) for a in tt["fvar"].axes]
            name = tt["name"]
            for inst in tt["fvar"].instances:
                nm = name.getDebugName(inst.subfamilyNameID) or ""
                self.instances.append((nm, dict(inst.coordinates)))
        self.hb_face = hb.Face(hb.Blob(self.data), face_index)
        self.hb_font = hb.Font(self.hb_face)  # scale = upem: positions in font units
        self.ft_face = freetype.Face(io.BytesIO(self.data), face_index)
        self._coords = None
        self._char_size = None

    @classmethod
    def from_path(cls, path, face_index=0):
        with open(path, "rb") as f:
            return cls(f.read(), face_index, path)

    def set_coords(self, applied):
        """Apply user-space coordinates (already clamped) to both HarfBuzz and FreeType."""
        if not self.axes:
            return
        full = [applied.get(tag, default) for tag, _mn, default, _mx in self.axes]
        if full == self._coords:
            return
        self._coords = full
        self.hb_font.set_variations({tag: v for (tag, _a, _b, _c), v in zip(self.axes, full)})
        self.ft_face.set_var_design_coords(full)

    def set_size(self, size):
        cs = int(round_half_away(size * 64))
        if cs != self._char_size:
            self.ft_face.set_char_size(0, cs, 72, 72)
            self._char_size = cs


def resolve_variations(font, job_font):
    """SPEC §3: named instance first, then explicit variations; unknown axes dropped; each value
    clamped to the axis range. Returns the applied {tag: float} (empty for a static font)."""
    if not font.axes:
        return {}
    ranges = {tag: (mn, mx) for tag, mn, _d, mx in font.axes}
    coords = {}
    inst = job_font.get("instance")
    if inst is not None:
        match = [c for nm, c in font.instances if nm == inst] or \
                [c for nm, c in font.instances if nm.lower() == str(inst).lower()]
        if not match:
            raise ValueError("unknown named instance %r (have %s)" % (inst, [n for n, _ in font.instances]))
        coords.update(match[0])
    for tag, v in (job_font.get("variations") or {}).items():
        if tag in ranges:
            coords[tag] = float(v)
    return {tag: float(min(max(v, ranges[tag][0]), ranges[tag][1])) for tag, v in coords.items()}


# ----------------------------------------------------------------------------------------------
# shaping and geometry

def round_half_away(x):
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def shape_loaded(font, text_spec, features=None):
    """Shape with an already configured LoadedFont. Returns (infos, positions)."""
    buf = hb.Buffer()
    buf.add_utf8(text_spec["content"].encode("utf-8"))  # clusters = UTF-8 byte offsets
    if text_spec.get("direction"):
        buf.direction = text_spec["direction"]
    if text_spec.get("script"):
        buf.script = text_spec["script"]
    if text_spec.get("language"):
        buf.language = text_spec["language"]
    buf.guess_segment_properties()
    if features is None:
        features = features_dict(text_spec.get("features"))
    hb.shape(font.hb_font, buf, features)
    return buf.glyph_infos, buf.glyph_positions


def glyph_origins_64(infos, positions, scale, height):
    """SPEC placement: [(gid, ox64, oy64)] with the canvas y axis pointing down."""
    out = []
    pen_x = pen_y = 0
    base = 0.75 * height
    for info, pos in zip(infos, positions):
        ox = pen_x + pos.x_offset
        oy = pen_y + pos.y_offset
        px = ox * scale
        py = base - oy * scale
        out.append((info.codepoint, round_half_away(px * 64), round_half_away(py * 64)))
        pen_x += pos.x_advance
        pen_y += pos.y_advance
    return out


def _glyph_bitmap(face, gid, fx, fy):
    """Render glyph gid with a sub-pixel shift of (fx, fy)/64 px (canvas axes: y down).
    Returns (array rows x width uint8, left, top) or None for an empty glyph."""
    delta = freetype.FT_Vector(fx, -fy)
    freetype.FT_Set_Transform(face._FT_Face, None, ctypes.byref(delta))
    face.load_glyph(gid, LOAD_FLAGS)
    slot = face.glyph
    bm = slot.bitmap._FT_Bitmap
    rows, width, pitch = bm.rows, bm.width, bm.pitch
    if rows == 0 or width == 0:
        return None
    if bm.pixel_mode != freetype.FT_PIXEL_MODE_GRAY:
        raise RuntimeError("unexpected pixel mode %d" % bm.pixel_mode)
    raw = ctypes.string_at(bm.buffer, abs(pitch) * rows)
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(rows, abs(pitch))[:, :width]
    if pitch < 0:
        arr = arr[::-1]
    return arr, slot.bitmap_left, slot.bitmap_top


def rasterize(font, origins, width, height, return_box=False):
    """Composite the glyphs at their 1/64 px origins. Work is limited to the union of the glyph
    boxes (clipped to the canvas); the rest of the canvas is paper. With return_box=True returns
    (pixels, (x0, y0, x1, y1) or None): a box that holds all ink (for metrics(pixels, box))."""
    face = font.ft_face
    pieces = []
    bx0, by0, bx1, by1 = width, height, 0, 0
    for gid, ox64, oy64 in origins:
        got = _glyph_bitmap(face, gid, ox64 & 63, oy64 & 63)
        if got is None:
            continue
        arr, left, top = got
        x = (ox64 >> 6) + left
        y = (oy64 >> 6) - top
        h, w = arr.shape
        # clip to canvas
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, width), min(y + h, height)
        if x0 >= x1 or y0 >= y1:
            continue
        pieces.append((arr[y0 - y:y1 - y, x0 - x:x1 - x], x0, y0, x1, y1))
        bx0, by0, bx1, by1 = min(bx0, x0), min(by0, y0), max(bx1, x1), max(by1, y1)
    freetype.FT_Set_Transform(face._FT_Face, None, None)
    out = np.full((height, width), 255, dtype=np.uint8)
    if not pieces:
        return (out, None) if return_box else out
    if len(pieces) == 1:
        # one glyph on fresh paper: ink = a exactly, and round(255 * (1 - k/255)) == 255 - k for
        # every k in 0..255 (checked exhaustively), so this shortcut gives the same bytes
        arr, x0, y0, x1, y1 = pieces[0]
        np.subtract(255, arr, out=out[y0:y1, x0:x1])
        return (out, (bx0, by0, bx1, by1)) if return_box else out
    ink = np.zeros((by1 - by0, bx1 - bx0), dtype=np.float64)
    for arr, x0, y0, x1, y1 in pieces:
        region = ink[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0]
        t = 1.0 - region          # ink += a * (1 - ink), a = coverage / 255
        t *= arr * (1.0 / 255.0)
        region += t
    out[by0:by1, bx0:bx1] = np.floor(255.0 * (1.0 - ink) + 0.5).astype(np.uint8)
    return (out, (bx0, by0, bx1, by1)) if return_box else out


# ----------------------------------------------------------------------------------------------
# job-level API

def _font_path(job, repo_root):
    p = job["font"]["path"]
    return p if os.path.isabs(p) else os.path.join(repo_root, p)


def load_job_font(job, repo_root=ROOT):
    return LoadedFont.from_path(_font_path(job, repo_root), int(job["font"].get("face_index", 0)))


def render_loaded(font, job, features=None):
    """Render a job with a LoadedFont. Returns (pixels, applied_variations)."""
    applied = resolve_variations(font, job["font"])
    font.set_coords(applied)
    size = float(job["font"]["size"])
    font.set_size(size)
    width, height = int(job["rendering"]["width"]), int(job["rendering"]["height"])
    infos, positions = shape_loaded(font, job["text"], features)
    origins = glyph_origins_64(infos, positions, size / font.upem, height)
    return rasterize(font, origins, width, height), applied


def render(job, repo_root=ROOT):
    """Render one SPEC job (font.path relative to repo_root). -> (HxW uint8, applied variations)"""
    return render_loaded(load_job_font(job, repo_root), job)


def shape(job, repo_root=ROOT):
    """Shape one SPEC job: [(gid, cluster, x_adv, y_adv, x_off, y_off)] in font units."""
    font = load_job_font(job, repo_root)
    font.set_coords(resolve_variations(font, job["font"]))
    infos, positions = shape_loaded(font, job["text"])
    return [(i.codepoint, i.cluster, p.x_advance, p.y_advance, p.x_offset, p.y_offset)
            for i, p in zip(infos, positions)]


def metrics(pixels, box=None):
    """SPEC §3 metrics of a HxW uint8 image (c = 255 - pixel, N = W*H).

    box = (x0, y0, x1, y1), if given, must contain every pixel with c > 0 (rasterize(...,
    return_box=True) gives one); the work is then limited to it. The result is the same."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape
    n = w * h
    if box is None:
        box = (0, 0, w, h)
    x0, y0, x1, y1 = box
    sub = pixels[y0:y1, x0:x1]
    total = 255 * sub.size - int(sub.sum(dtype=np.uint64))  # sum of c = 255 - pixel
    inked = sub != 255  # c > 0
    if not inked.any():
        return {"density": 0.0, "beam": 0.0, "bbox": [0, 0, 0, 0]}
    density = total / (255.0 * n)
    # runs in the row-major buffer: they may continue from one row into the next only when the
    # box spans the full width; otherwise a paper column separates the rows.
    if x0 == 0 and x1 == w:
        flat = inked.ravel()
    else:
        flat = np.concatenate([inked, np.zeros((inked.shape[0], 1), dtype=bool)], axis=1).ravel()
    padded = np.zeros(flat.size + 2, dtype=np.int8)
    padded[1:-1] = flat
    d = np.diff(padded)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    beam = int((ends - starts).max()) / n
    rows = np.flatnonzero(inked.any(axis=1))
    cols = np.flatnonzero(inked.any(axis=0))
    bbox = [int(cols[0]) + x0, int(rows[0]) + y0, int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    return {"density": density, "beam": beam, "bbox": bbox}


def pgm_bytes(pixels):
    h, w = pixels.shape
    head = b"P5\n%d %d\n255\n" % (w, h)
    buf = bytearray(len(head) + w * h)
    buf[:len(head)] = head
    np.frombuffer(buf, dtype=np.uint8, offset=len(head)).reshape(h, w)[:] = pixels
    return bytes(buf)


def read_pgm(data):
    """Parse a binary P5 PGM (as written by pgm_bytes / the engine)."""
    parts = data.split(b"\n", 3)
    if parts[0] != b"P5" or parts[2] != b"255":
        raise ValueError("not a P5 8-bit PGM")
    w, h = map(int, parts[1].split())
    return np.frombuffer(parts[3], dtype=np.uint8, count=w * h).reshape(h, w)


if __name__ == "__main__":
    import json
    import sys
    job = json.loads(sys.argv[1])
    px, applied = render(job)
    print(json.dumps({"metrics": metrics(px), "variations": applied}))
    if len(sys.argv) > 2:
        from PIL import Image
        Image.fromarray(px).save(sys.argv[2])
