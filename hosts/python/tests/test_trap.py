"""A guest trap becomes an error result (kind ``internal``), the instance is rebuilt and the
session goes on. The real engine is not expected to trap, so a stand-in module that implements
the ABI and traps on ``haforu_run`` is used, in a subprocess (the runtime is per process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import wasmtime

TRAPPING_WAT = """
(module
  (memory (export "memory") 4)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "haforu_abi_version") (result i32) i32.const 1)
  (func (export "haforu_alloc") (param i32) (result i32) (local i32)
    global.get $bump local.set 1
    global.get $bump local.get 0 i32.add i32.const 7 i32.add i32.const -8 i32.and global.set $bump
    local.get 1)
  (func (export "haforu_free") (param i32 i32))
  (func (export "haforu_font_register") (param i32 i32) (result i32) i32.const 1)
  (func (export "haforu_font_drop") (param i32) (result i32) i32.const 1)
  (func (export "haforu_run") (param i32 i32 i32 i32 i32) (result i32) unreachable)
  (func (export "haforu_run_batch") (param i32 i32 i32) (result i32) unreachable)
  (func (export "haforu_split") (param i32 i32) (result i32) i32.const 999999999)
  (func (export "haforu_info") (result i32) unreachable)
  (func (export "haforu_cache_clear"))
  (func (export "haforu_cache_config") (param i32 i32) (result i32) i32.const 1)
)
"""


def test_trap_gives_internal_error_and_rebuild(tmp_path: Path) -> None:
    wasm = tmp_path / "trap.wasm"
    wasm.write_bytes(wasmtime.wat2wasm(TRAPPING_WAT))
    font = tmp_path / "f.ttf"
    font.write_bytes(b"\0\1\0\0" + b"\0" * 100)
    code = textwrap.dedent(f"""
        import json, haforu
        s = haforu.StreamingSession()
        job = json.dumps({{"id": "t", "font": {{"path": {str(font)!r}, "size": 10}},
                           "text": {{"content": "a"}}, "rendering": {{"format": "raw", "width": 4, "height": 4}}}})
        for i in range(3):
            r = json.loads(s.render(job))
            assert r["status"] == "error" and r["error_kind"] == "internal" and r["id"] == "t", r
            assert "unreachable" in r["error"] and "rebuilt" in r["error"], r
        try:
            s.render_to_numpy({str(font)!r}, "a", 10, 4, 4)
        except haforu.RenderError as e:
            assert e.kind == "internal"
        else:
            raise AssertionError("no error")
        assert s.ping()
        st = s.cache_stats.__self__._renderer.stats()
        assert st["instance_rebuilds"] == 4 and st["traps"] == 4, st
        # an out-of-bounds descriptor is refused, not dereferenced
        from haforu._instance import Trapped
        try:
            s._renderer.inst.split(b"x")
        except Trapped as t:
            assert "out-of-bounds" in t.message
        else:
            raise AssertionError("no error")
        print("OK")
    """)
    env = dict(os.environ, HAFORU_WASM=str(wasm), HAFORU_CACHE_DIR="")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "OK"
