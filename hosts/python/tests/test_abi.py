"""The ABI as this package writes it down (haforu._abi) is the documented one (wasm/README.md's
*Exports* table) and the shipped module's: no imports, exactly the listed exports, same arities."""

from __future__ import annotations

import re
import struct
from typing import Dict, Tuple

import pytest
import wasmtime

from conftest import ROOT
from haforu import _abi
from haforu._runtime import get_runtime, wasm_path

README = ROOT / "wasm" / "README.md"


def readme_exports() -> Dict[str, Tuple[int, bool]]:
    """name -> (parameter count, has a result) from the README's Exports table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Exports", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    out: Dict[str, Tuple[int, bool]] = {}
    for m in re.finditer(r"^\| `(\w+)` \| (`[^|]*`|memory) \|", section, re.M):
        name, sig = m.group(1), m.group(2).strip("`")
        if sig == "memory":
            out[name] = (-1, False)
            continue
        params, _, result = sig.partition("->")
        inner = params.strip().strip("()").strip()
        out[name] = (len(inner.split(",")) if inner else 0, bool(result.strip()))
    return out


@pytest.mark.skipif(not README.is_file(), reason="wasm/README.md is not here (tests run outside the repository)")
def test_export_list_is_the_documented_one() -> None:
    documented = readme_exports()
    assert documented.pop("memory") == (-1, False)
    assert list(documented) == list(_abi.EXPORTS), "haforu._abi.EXPORTS must list the README's exports, in order"
    for name, (nparams, _) in documented.items():
        assert _abi.EXPORTS[name] == nparams, name
    text = README.read_text(encoding="utf-8")
    assert f"currently `{_abi.ABI_VERSION}`" in text
    # The descriptor table: seven u32 fields at offsets 0..24, the NamedTuple's order.
    fields = re.findall(r"^\| (\d+) \| `(\w+)` \|", text, re.M)
    assert [(int(o), f) for o, f in fields] == [(4 * i, f) for i, f in enumerate(_abi.Descriptor._fields)]
    assert _abi.DESCRIPTOR_SIZE == 28
    # The flags of haforu_run.
    for flag, value in (("DATA_OUT_OF_BAND", 1), ("VALIDATE_ONLY", 2), ("POINTS_OUT_OF_BAND", 4),
                        ("SPLICE_DATA", 8), ("NO_HANDLES", 16), ("NAMED_FONTS", 32)):
        assert getattr(_abi, flag) == value and f"`{flag}`" in text, flag


def test_module_has_exactly_these_exports() -> None:
    module = get_runtime().module
    assert list(module.imports) == []
    exports = {e.name: e.type for e in module.exports}
    funcs = {name for name, ty in exports.items() if isinstance(ty, wasmtime.FuncType)}
    assert funcs == set(_abi.EXPORTS), funcs ^ set(_abi.EXPORTS)
    assert isinstance(exports["memory"], wasmtime.MemoryType)
    for name, nparams in _abi.EXPORTS.items():
        ty = exports[name]
        assert isinstance(ty, wasmtime.FuncType), name
        assert len(ty.params) == nparams, name
        want = "f64" if name == "haforu_result_timing" else "i32"
        assert all(str(p) == want for p in ty.params), (name, ty.params)
        assert len(ty.results) == (0 if name in ("haforu_free", "haforu_cache_clear") else 1), name
    assert wasm_path().read_bytes()[:4] == b"\0asm"


def test_descriptor_reads_named_fields() -> None:
    raw = struct.pack("<7I", 1, 2, 3, 4, 2, 1, 7)
    d = _abi.unpack_descriptor(raw)
    assert (d.json_ptr, d.json_len, d.data_ptr, d.data_len, d.status, d.kind, d.splice_at) == (1, 2, 3, 4, 2, 1, 7)


def test_error_kinds_and_limits_come_from_the_engine() -> None:
    from haforu._renderer import engine_facts

    facts = engine_facts()
    assert facts.error_kinds[:8] == ("bad_json", "bad_job", "font_not_found", "font_parse", "limit_exceeded",
                                     "resource_limit", "internal", "overloaded")
    assert facts.code("font_not_found") == 3 and facts.kind(5) == "limit_exceeded"
    assert facts.max_font_bytes > 0 and facts.max_job_bytes > facts.max_font_bytes
    if README.is_file():
        text = " ".join(README.read_text(encoding="utf-8").split())
        for code, name in enumerate(facts.error_kinds, 1):
            assert f"`{code}` `{name}`" in text, name


def test_compiled_cache_roundtrip(tmp_path: object) -> None:
    rt = get_runtime()
    assert rt.cache_status in ("hit", "miss", "off")
    assert isinstance(rt.engine, wasmtime.Engine) and len(rt.wasm_sha256) == 64
