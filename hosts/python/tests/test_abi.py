"""The shipped module matches the documented ABI (wasm/README.md): no imports, the listed exports."""

from __future__ import annotations

import wasmtime

from haforu._runtime import get_runtime, wasm_path

DOCUMENTED = {
    "memory", "haforu_abi_version", "haforu_alloc", "haforu_free", "haforu_font_register",
    "haforu_font_drop", "haforu_run", "haforu_run_batch", "haforu_split", "haforu_info",
    "haforu_cache_clear",
}


def test_zero_imports_and_documented_exports() -> None:
    module = get_runtime().module
    assert list(module.imports) == []
    names = {e.name for e in module.exports}
    assert DOCUMENTED <= names, DOCUMENTED - names
    assert wasm_path().read_bytes()[:4] == b"\0asm"


def test_compiled_cache_roundtrip(tmp_path: object) -> None:
    rt = get_runtime()
    assert rt.cache_status in ("hit", "miss", "off")
    assert isinstance(rt.engine, wasmtime.Engine) and len(rt.wasm_sha256) == 64
