"""Shared fixtures. The tests import the *installed* ``haforu`` (the wheel, via ``make
test-python``); ``HAFORU_WASM`` may point at another module for development."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import haforu

ROOT = Path(__file__).resolve().parents[3]
FONTS = ROOT / "tests" / "fonts"
DEJAVU = FONTS / "DejaVuSans-subset.ttf"
INTER = FONTS / "Inter-VF-subset.ttf"
ARABIC = FONTS / "NotoSansArabic-subset.ttf"
BROKEN = FONTS / "broken"


def job(
    job_id: str = "j",
    *,
    font: Any = None,
    text: str = "Hamburgefonstiv",
    size: float = 48,
    fmt: str = "raw",
    width: int = 800,
    height: int = 100,
    **extra: Any,
) -> Dict[str, Any]:
    """A SPEC job as a dict (``font`` may be a path or a full font object)."""
    font_obj = font if isinstance(font, dict) else {"path": str(font or DEJAVU), "size": size}
    j: Dict[str, Any] = {
        "id": job_id,
        "font": font_obj,
        "text": {"content": text},
        "rendering": {"format": fmt, "width": width, "height": height},
    }
    j.update(extra)
    return j


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Keep the compiled-module cache of the test run out of the user's home.
    os.environ.setdefault("HAFORU_CACHE_DIR", str(tmp_path_factory.mktemp("haforu-cache")))


@pytest.fixture()
def session() -> Iterator[haforu.StreamingSession]:
    with haforu.StreamingSession() as s:
        yield s


# -- stand-in modules --------------------------------------------------------------------------

#: What a stand-in module's ``haforu_info`` answers (the real engine's keys that the host reads).
STAND_IN_INFO = json.dumps({
    "version": "stand-in", "abi_version": 2,
    "limits": {"max_font_bytes": 1 << 20, "max_job_json_bytes": 1 << 20, "max_sweep_points": 4096,
               "max_canvas_side": 10000, "max_canvas_pixels": 50000000},
    "error_kinds": ["bad_json", "bad_job", "font_not_found", "font_parse", "limit_exceeded", "resource_limit",
                    "internal", "overloaded"],
    "cache": {},
}, separators=(",", ":"))

_ERR_PREFIX = '{"id":"t","status":"error","error":"'
_ERR_SUFFIX = '","error_kind":"internal"}'


def _wat_string(s: str) -> str:
    return "".join(c if c.isalnum() or c in "{}:,[]_ -." else f"\\{ord(c):02x}" for c in s)


def stand_in_wat(**bodies: str) -> str:
    """The text of a module that implements every export of ``haforu._abi.EXPORTS`` with
    stand-in bodies: ABI version 2, a bump allocator, ``haforu_info`` answering
    :data:`STAND_IN_INFO`, ``haforu_result_error`` writing an ``internal`` error result with id
    ``t`` and the host's message, ``haforu_result_timing`` returning that result unchanged, and
    ``unreachable`` for the job and image calls. ``bodies`` replaces the body of an export
    (``name=wat``), or drops it (``name=""``).

    Layout: descriptor at 128 (28 bytes), info JSON at 256, error prefix at 2048, suffix at
    2304, result text at 4096, the heap from 65536."""
    from haforu._abi import EXPORTS

    info = STAND_IN_INFO
    desc = ("(func $desc (param $p i32) (param $n i32) (param $status i32) (param $kind i32) (result i32)\n"
            "    (i32.store (i32.const 128) (local.get $p)) (i32.store (i32.const 132) (local.get $n))\n"
            "    (i32.store (i32.const 136) (i32.const 0)) (i32.store (i32.const 140) (i32.const 0))\n"
            "    (i32.store (i32.const 144) (local.get $status)) (i32.store (i32.const 148) (local.get $kind))\n"
            "    (i32.store (i32.const 152) (i32.const 0)) (i32.const 128))")
    p, s = len(_ERR_PREFIX), len(_ERR_SUFFIX)
    defaults = {
        "haforu_abi_version": "i32.const 2",
        "haforu_alloc": "(local $r i32) global.get $bump local.set $r\n"
                        "    global.get $bump local.get 0 i32.add i32.const 7 i32.add i32.const -8 i32.and global.set $bump\n"
                        "    local.get $r",
        "haforu_font_register": "i32.const 1", "haforu_font_register_default": "i32.const 1",
        "haforu_font_drop": "i32.const 1", "haforu_font_bind": "i32.const 1", "haforu_font_forget": "i32.const 0",
        "haforu_envelope_probe": "i32.const 0", "haforu_cache_config": "i32.const 1",
        "haforu_info": f"(call $desc (i32.const 256) (i32.const {len(info)}) (i32.const 0) (i32.const 0))",
        "haforu_result_error": (
            f"(memory.copy (i32.const 4096) (i32.const 2048) (i32.const {p}))\n"
            f"    (memory.copy (i32.const {4096 + p}) (local.get 4) (local.get 5))\n"
            f"    (memory.copy (i32.add (i32.const {4096 + p}) (local.get 5)) (i32.const 2304) (i32.const {s}))\n"
            f"    (call $desc (i32.const 4096) (i32.add (local.get 5) (i32.const {p + s})) (i32.const 1) (i32.const 7))"),
        "haforu_result_timing": "i32.const 128",
    }
    no_result = {"haforu_free", "haforu_cache_clear"}
    funcs = []
    for name, nparams in EXPORTS.items():
        body = bodies.get(name, defaults.get(name, "" if name in no_result else "unreachable"))
        if name in bodies and bodies[name] == "":
            continue
        params = " (param f64)" if name == "haforu_result_timing" else " (param i32)" * nparams
        result = "" if name in no_result else " (result i32)"
        funcs.append(f'  (func (export "{name}"){params}{result}\n    {body})')
    return "\n".join([
        "(module",
        '  (memory (export "memory") 16)',
        "  (global $bump (mut i32) (i32.const 65536))",
        f'  (data (i32.const 256) "{_wat_string(info)}")',
        f'  (data (i32.const 2048) "{_wat_string(_ERR_PREFIX)}")',
        f'  (data (i32.const 2304) "{_wat_string(_ERR_SUFFIX)}")',
        "  " + desc,
        *funcs,
        ")",
    ])
