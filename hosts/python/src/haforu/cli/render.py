"""``render``: one text to an image, its metrics or its glyphs (hb-view style flags)."""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
from typing import Any, Dict, Optional, Sequence, Tuple

from .._runtime import default_font_path
from .common import EXIT_JOB_ERRORS, EXIT_OK, OutputError, UsageError, _base_dir, _err, _read_image, _session

#: Every format ``render`` can produce, and what an output file's extension means.
_FORMATS = ("png", "pgm", "raw", "metrics", "glyphs")
_EXTENSIONS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    ".png": ("png", ("png",)),
    ".pgm": ("pgm", ("pgm",)),
    ".raw": ("raw", ("raw",)),
    ".json": ("metrics", ("metrics", "glyphs")),
}

def _canvas_limits() -> Tuple[int, int]:
    """The engine's canvas limits (side, pixels), for the fitted ``render`` canvas."""
    from .._renderer import engine_facts

    limits = engine_facts().limits
    return int(limits["max_canvas_side"]), int(limits["max_canvas_pixels"])


def choose_format(fmt: Optional[str], output: Optional[str]) -> str:
    """``--format``, else the format the extension of ``-o`` names, else png. An unknown
    extension, or a ``--format`` that disagrees with it, is a UsageError (exit 2)."""
    if fmt is not None and fmt not in _FORMATS:
        raise UsageError(f"--format {fmt}: not one of png, pgm, raw, metrics, glyphs")
    if output is None or output == "-":
        return fmt or "png"
    ext = os.path.splitext(output)[1].lower()
    if ext not in _EXTENSIONS:
        raise UsageError(
            f"-o {output}: unknown extension; use .png, .pgm, .raw or .json (metrics, or glyphs with --format glyphs)"
        )
    default, fits = _EXTENSIONS[ext]
    if fmt is None:
        return default
    if fmt not in fits:
        raise UsageError(f"--format {fmt} disagrees with -o {output} (that extension means {' or '.join(fits)})")
    return fmt


def _parse_variations(items: Sequence[str]) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for item in items:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            tag, sep, value = part.partition("=")
            if not sep:
                tag, sep, value = part.partition(":")
            if not sep:
                raise UsageError(f"--variations: `{part}` is not TAG=VALUE")
            try:
                out[tag.strip()] = float(value.strip())
            except ValueError:
                raise UsageError(f"--variations: `{value}` is not a number") from None
    return out


def _render_font(args: argparse.Namespace) -> str:
    """The font file for ``render``: ``-f`` (resolved against ``--base-dir``), else the bundled
    font. One that cannot be read is a usage error, as in the Rust CLI."""
    if args.font is None:
        font = default_font_path()
        if font is None:
            raise UsageError("this build has no bundled font; pass -f FONT")
        return str(font)
    path: str = args.font
    base = _base_dir(args)
    if base is not None:
        real_base = os.path.realpath(base)
        path = os.path.realpath(os.path.join(real_base, path))
        if not (path + os.sep).startswith(real_base.rstrip(os.sep) + os.sep):
            raise UsageError(f"font path '{args.font}' resolves outside --base-dir {real_base}")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot use font file {args.font}: {exc.strerror or exc}") from None
    return path


def _fitted_width(metrics: Dict[str, Any], probe_width: int, size: float) -> int:
    """The canvas width that holds the ink of a ``metrics`` probe, plus a quarter em."""
    margin = math.ceil(size / 4.0)
    bbox = (metrics.get("metrics") or {}).get("bbox") or [0, 0, 0, 0]
    right = int(bbox[0]) + int(bbox[2])
    if right == 0:
        return max(1, min(math.ceil(size), probe_width))
    return max(1, min(right + margin, _canvas_limits()[0]))


def cmd_render(args: argparse.Namespace) -> int:
    if args.text is not None and args.text_arg is not None:
        raise UsageError("give the text as -t TEXT or as TEXT, not both")
    text = args.text if args.text is not None else args.text_arg
    if text is None:
        raise UsageError("no text: pass -t TEXT")
    to_file = args.output is not None and args.output != "-"
    if args.method is not None and args.compare is None:
        raise UsageError("--method needs --compare TARGET")
    # With --compare alone only the comparison is wanted: no pixels need to come back.
    fmt = "metrics" if args.compare is not None and args.format is None and not to_file else \
        choose_format(args.format, args.output)
    compare: Optional[Dict[str, Any]] = None
    if args.compare is not None:
        target = _read_image(args.compare)
        compare = {"target": base64.b64encode(target).decode("ascii"), "method": args.method or "center"}
    font_path = _render_font(args)
    font_obj: Dict[str, Any] = {"path": font_path, "size": args.size, "face_index": args.face_index}
    variations = _parse_variations(args.variations)
    if variations:
        font_obj["variations"] = variations
    if args.instance is not None:
        font_obj["instance"] = args.instance
    text_obj: Dict[str, Any] = {"content": text}
    for key in ("script", "language", "direction"):
        value = getattr(args, key)
        if value is not None:
            text_obj[key] = value
    if args.features is not None:
        text_obj["features"] = [f.strip() for f in args.features.split(",") if f.strip()]
    size = float(args.size)
    vertical = args.direction in ("ttb", "btt")
    side_max, area_max = _canvas_limits()
    line = int(max(1, min(math.ceil(size * 4.0 / 3.0), side_max)))
    long = int(max(1, min(math.ceil((len(text) + 2.0) * size * 1.3), side_max)))

    def job(f: str, w: int, h: int, extra: Optional[Dict[str, Any]] = None) -> str:
        j: Dict[str, Any] = {"id": "render", "font": font_obj, "text": text_obj,
                             "rendering": {"format": f, "width": w, "height": h}}
        if extra is not None:
            j["compare"] = extra
        return json.dumps(j, ensure_ascii=False)

    with _session(args) as s:
        if vertical:
            width, height = args.width or line, args.height or long
        else:
            height = args.height or line
            width = args.width
            if width is None:
                wide = max(1, min(long, area_max // max(height, 1)))
                width = _fitted_width(json.loads(s.render(job("metrics", wide, height))), wide, size)
        result_text, data, status = s._r().render_out_of_band(job(fmt, width, height, compare))
    if status != 0:
        print(result_text, file=sys.stderr)
        return EXIT_JOB_ERRORS
    image = fmt in ("png", "pgm", "raw")
    if args.json:
        print(result_text, file=sys.stderr)
    payload = data if image else (result_text + "\n").encode("utf-8")
    if to_file:
        try:
            with open(args.output, "wb") as f:
                f.write(payload)
        except OSError as exc:
            raise OutputError(f"cannot write {args.output}: {exc}") from None
        if image and not args.json and compare is None:
            _err(f"wrote {args.output} ({width}×{height} {fmt}, {len(payload)} bytes)")
    if compare is not None:  # the result line holds the engine's comparison
        print(result_text)
        return EXIT_OK
    if to_file:
        return EXIT_OK
    if image and sys.stdout.isatty():
        raise UsageError("not writing an image to a terminal; pass -o FILE")
    sys.stdout.flush()
    sys.stdout.buffer.write(payload)
    sys.stdout.buffer.flush()
    return EXIT_OK
