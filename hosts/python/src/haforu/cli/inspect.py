"""``info``, ``compare``, ``version`` and ``diagnostics``."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any, Dict, List, Sequence

from .. import __version__
from .._runtime import cache_dir, default_font_path, get_runtime, wasm_path, wasmtime_version
from ..batch import default_workers
from ..errors import HaforuError
from ..matching import compare_text_on as compare_json_on
from ..session import StreamingSession
from .common import EXIT_JOB_ERRORS, EXIT_OK, UsageError, _read_file, _read_image, _session

def _num(v: Any) -> str:
    """A value as ``info --format text`` shows it: integral numbers without a fraction."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"))


def _ranges(cps: Sequence[int]) -> str:
    """Codepoints as ``U+0020..U+007E, U+00A0`` runs."""
    parts: List[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"U+{cps[i]:04X}" if i == j else f"U+{cps[i]:04X}..U+{cps[j]:04X}")
        i = j + 1
    return ", ".join(parts)


def info_text(info: Dict[str, Any]) -> str:
    """``info --format text``: the Rust CLI's text, line for line."""
    out = [f"{k}: {_num(info.get(k))}" for k in ("familyName", "styleName", "fullName", "postscriptName", "version")]
    out.append(f"faceIndex: {_num(info.get('faceIndex'))} of {_num(info.get('faceCount'))}")
    out += [f"{k}: {_num(info.get(k))}" for k in ("unitsPerEm", "glyphCount", "ascender", "descender", "lineGap",
                                                   "capHeight", "xHeight")]
    cps = [c for c in info.get("codepoints") or [] if isinstance(c, int)]
    out.append(f"codepoints: {_num(info.get('codepointCount'))} ({_ranges(cps)})")
    axes = info.get("axes") or []
    out.append(f"axes: {len(axes)}")
    for a in axes:
        hidden = " (hidden)" if a.get("hidden") is True else ""
        out.append(f"  {_num(a.get('tag'))} {_num(a.get('name'))}: min {_num(a.get('min'))}, "
                   f"default {_num(a.get('default'))}, max {_num(a.get('max'))}{hidden}")
    instances = info.get("instances") or []
    out.append(f"instances: {len(instances)}")
    for inst in instances:
        coords = inst.get("coords") or {}
        tags = [a.get("tag") for a in axes if isinstance(a.get("tag"), str)]
        pairs = ", ".join(f"{t}={_num(coords[t])}" for t in tags if coords.get(t) is not None)
        ps = f" [{inst['postscriptName']}]" if isinstance(inst.get("postscriptName"), str) else ""
        out.append(f"  {_num(inst.get('name'))}{ps}: {pairs}")
    features = info.get("features") or []
    out.append(f"features: {len(features)}")
    for f in features:
        tables = ", ".join(_num(t) for t in f.get("tables") or [])
        ui = f": {f['uiName']}" if isinstance(f.get("uiName"), str) else ""
        out.append(f"  {_num(f.get('tag'))} ({tables}){ui}")
    return "\n".join(out)


def _command_failed(line: str) -> int:
    """A failed command's error line (written by the engine) on stderr; exit 1."""
    print(line, file=sys.stderr)
    return EXIT_JOB_ERRORS


def cmd_info(args: argparse.Namespace) -> int:
    if args.face_index < 0:
        raise UsageError(f"--face-index {args.face_index}: must be 0 or more")
    path: str = args.font
    data = _read_file(path, "font file")
    with _session(args) as s:
        r = s._r()
        if not data:
            return _command_failed(r.command_error("info", path, True, "the file is empty", "font_parse"))
        try:
            info = s.font_info(data, args.face_index)
        except HaforuError as exc:
            return _command_failed(r.command_error("info", path, True, exc))
    if args.format == "text":
        print(info_text(info))
    else:
        print(json.dumps(info, indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = _read_image(args.a), _read_image(args.b)
    with _session(args) as s:
        r = s._r()
        try:
            print(compare_json_on(r, a, b, args.method).decode("utf-8"))
            return EXIT_OK
        except HaforuError as exc:
            # Name the image the engine refuses on its own (its error is then the current one).
            for path, img in ((args.a, a), (args.b, b)):
                try:
                    compare_json_on(r, img, img, args.method)
                except HaforuError as alone:
                    return _command_failed(r.command_error("compare", path, False, alone))
            try:  # both are fine alone: the comparison itself failed; make its error current again
                compare_json_on(r, a, b, args.method)
            except HaforuError as again:
                exc = again
            return _command_failed(r.command_error("compare", "", False, exc))


# -- version / diagnostics -------------------------------------------------------------------


def _version_line() -> str:
    with StreamingSession(max_glyphs=None) as s:
        info = s.info()
    return (f"haforu {__version__} (engine {info.get('version')}, ABI {info.get('abi_version')}, "
            f"wasmtime {wasmtime_version()}, Python {platform.python_version()})")


def cmd_version(args: argparse.Namespace) -> int:
    print(_version_line())
    return EXIT_OK


def _flatten(prefix: str, value: Any, out: List[str]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, str):
        out.append(f"{prefix}: {value}")
    else:
        out.append(f"{prefix}: {json.dumps(value)}")


def cmd_diagnostics(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    rt = get_runtime()
    t1 = time.perf_counter()
    with _session(args) as s:
        s.warm_up()
        t2 = time.perf_counter()
        info = s.info()
        stats = s.cache_stats()
    wp = wasm_path()
    font = default_font_path()
    report = {
        "haforu": __version__,
        "engine": info,
        "wasmtime": wasmtime_version(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "wasm": {"path": str(wp), "bytes": wp.stat().st_size if wp.is_file() else None,
                 "sha256": rt.wasm_sha256},
        "compiled_cache": {"dir": str(cache_dir()) if cache_dir() else None,
                           "file": str(rt.cache_file) if rt.cache_file else None,
                           "status": rt.cache_status},
        "sandbox": {"memory_mb": args.memory_mb, "timeout_ms": args.timeout_ms,
                    "max_fonts": args.max_fonts, "max_glyphs": args.max_glyphs},
        "default_font": str(font) if font else None,
        "cpus": default_workers(),
        "startup_ms": {"load_module": round((t1 - t0) * 1000, 2),
                       "instantiate_and_first_render": round((t2 - t1) * 1000, 2)},
        "session": stats,
    }
    if args.format == "text":
        lines: List[str] = []
        _flatten("", report, lines)
        print("\n".join(lines))
    else:
        print(json.dumps(report, indent=2))
    return EXIT_OK
