"""A guest trap becomes an error result (kind ``internal``), the instance is rebuilt and the
session goes on. The real engine is not expected to trap, so a stand-in module that implements
the ABI and traps on ``haforu_run`` is used, in a subprocess (the runtime is per process). The
error result still comes from the module (``haforu_result_error``), with the host's message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import wasmtime

from conftest import stand_in_wat

#: Traps in ``haforu_run``; ``haforu_split`` answers an out-of-bounds descriptor.
TRAPPING_WAT = stand_in_wat(haforu_split="i32.const 999999999")


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
