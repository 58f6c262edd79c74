"""Identical results to the engine's golden references.

- ``tests/golden/raster/cases.jsonl``: each case rendered through the Python host must match the
  FreeType reference within the case's tolerance (tests/tools/golden_compare.py decides).
- ``tests/golden/parity.json``: job id → sha256 of the result payload produced by the native
  core; the Python host (wasm in wasmtime-py) must give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import sys
from typing import Any, Dict, List

import numpy as np
import pytest

import haforu
from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
CASES = GOLDEN / "raster" / "cases.jsonl"
PARITY = GOLDEN / "parity.json"


def _cases() -> List[Dict[str, Any]]:
    if not CASES.is_file():
        return []
    return [json.loads(l) for l in CASES.read_text(encoding="utf-8").splitlines() if l.strip()]


@pytest.fixture(scope="module")
def repo_session() -> Any:
    with haforu.StreamingSession(base_dir=ROOT) as s:
        yield s


def _pixels(result: Dict[str, Any]) -> "np.ndarray[Any, np.dtype[np.uint8]]":
    r = result["rendering"]
    data = base64.b64decode(r["data"])
    w, h = r["width"], r["height"]
    if r["format"] == "pgm":
        header = f"P5\n{w} {h}\n255\n".encode()
        assert data.startswith(header)
        data = data[len(header):]
    return np.frombuffer(data, np.uint8).reshape(h, w)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_raster_golden(case: Dict[str, Any], repo_session: haforu.StreamingSession) -> None:
    pytest.importorskip("freetype")  # golden_compare imports the reference renderer
    sys.path.insert(0, str(ROOT / "tests" / "tools"))
    import golden_compare  # type: ignore[import-not-found]

    job = {k: v for k, v in case.items() if k != "tolerance"}
    result = json.loads(repo_session.render(json.dumps(job)))
    assert result["status"] == "success", result
    ref, ref_metrics = golden_compare.load_reference(case["id"])
    got = _pixels(result)
    verdict = golden_compare.compare(ref, got, case.get("tolerance"))
    assert verdict["ok"], verdict["reason"]


def _same_metrics(got: Dict[str, Any], want: Dict[str, Any]) -> bool:
    """bbox exactly; density and beam within 2 ulp. The engine's own text is exact, but
    tests/reference/parity.rs writes parity.json after re-parsing it with serde_json's default float
    parser, which is not correctly rounded (no `float_roundtrip` feature): 7 entries are 1 ulp
    off. Tighten to == once parity.json is re-blessed with exact floats."""
    if got.get("bbox") != want.get("bbox") or set(got) != set(want):
        return False
    return all(abs(got[k] - want[k]) <= 2 * math.ulp(want[k]) for k in ("density", "beam"))


def test_parity_with_native_core(repo_session: haforu.StreamingSession) -> None:
    """parity.json: per golden job, the sha256 of the native core's PGM bytes (header included)
    and its metrics. The Python host (the wasm in wasmtime-py) must give the same bytes."""
    if not PARITY.is_file():
        pytest.skip("tests/golden/parity.json not generated yet")
    parity: Dict[str, Dict[str, Any]] = json.loads(PARITY.read_text())
    cases = {c["id"]: c for c in _cases()}
    missing = [k for k in parity if k not in cases]
    assert not missing, f"parity ids without a job in cases.jsonl: {missing}"
    assert parity, "parity.json is empty"
    bad = []
    for job_id, want in parity.items():
        job = {k: v for k, v in cases[job_id].items() if k != "tolerance"}
        job["rendering"] = dict(job["rendering"], format="pgm")
        result = json.loads(repo_session.render(json.dumps(job)))
        assert result["status"] == "success", result
        pgm = base64.b64decode(result["rendering"]["data"])
        if hashlib.sha256(pgm).hexdigest() != want["pgm_sha256"]:
            bad.append(f"{job_id}: pgm bytes differ")
        job["rendering"]["format"] = "metrics"
        got = json.loads(repo_session.render(json.dumps(job)))["metrics"]
        if not _same_metrics(got, want["metrics"]):
            bad.append(f"{job_id}: metrics {got} != {want['metrics']}")
        # The numpy path gives the same pixels as the JSON path.
        w, h = job["rendering"]["width"], job["rendering"]["height"]
        header = f"P5\n{w} {h}\n255\n".encode()
        assert pgm[: len(header)] == header
        f = job["font"]
        t = job["text"]
        arr = repo_session.render_to_numpy(
            str(ROOT / f["path"]), t["content"], f["size"], w, h, variations=f.get("variations"),
            script=t.get("script"), direction=t.get("direction"), language=t.get("language"),
            features=t.get("features"), face_index=f.get("face_index", 0), instance=f.get("instance"))
        if arr.tobytes() != pgm[len(header):]:
            bad.append(f"{job_id}: render_to_numpy differs from the JSON pgm")
    assert not bad, bad
