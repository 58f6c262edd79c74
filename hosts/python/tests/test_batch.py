"""process_jobs: envelopes, streaming, workers, error results."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

import haforu
from conftest import BROKEN, DEJAVU, INTER, dumps, job


def results(spec: Any, **kw: Any) -> List[Dict[str, Any]]:
    return [json.loads(r) for r in haforu.process_jobs(spec, **kw)]


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   \n\n",
        "{not json at all",
        "{\n  \"version\": \"1.0\",\n  \"jobs\": [\n",
        '{"version": "2.0", "jobs": [{"id": "a"}]}',
        '{"version": 1.0, "jobs": [{"id": "a"}]}',
        '{"version": "1.0", "jobs": []}',
        '{"version": "1.0"}',
        '{"jobs": [{"id": "a"}]}',
        "[1, 2, 3]",
        "hello",
    ],
)
def test_invalid_envelope_raises_value_error_at_call(spec: str) -> None:
    with pytest.raises(ValueError):
        haforu.process_jobs(spec)  # raised before iteration starts


def test_batch_object_and_jsonl_give_same_results() -> None:
    jobs = [job(f"b{i}", fmt="metrics", text="Hamburgefonstiv"[: i + 1]) for i in range(10)]
    batch = json.dumps({"version": "1.0", "jobs": jobs})
    jsonl = "\n".join(dumps(j) for j in jobs) + "\n\n"
    a = {r["id"]: r["metrics"] for r in results(batch, workers=1)}
    b = {r["id"]: r["metrics"] for r in results(jsonl, workers=2)}
    assert a == b and len(a) == 10
    assert all(r["status"] == "success" for r in results(batch.encode()))


def test_bad_jobs_become_error_results_with_line_ids() -> None:
    lines = [
        dumps(job("ok1", fmt="metrics")),
        "{broken",
        "",
        dumps({"font": {"path": str(DEJAVU), "size": 48}}),
        dumps(job("nf", font="/missing.ttf")),
        dumps(job("ok2", fmt="metrics")),
    ]
    out = {r["id"]: r for r in results("\n".join(lines))}
    assert out["ok1"]["status"] == "success" and out["ok2"]["status"] == "success"
    assert out["line-2"]["error_kind"] == "bad_json"
    assert out["line-4"]["status"] == "error"
    assert out["nf"]["error_kind"] == "font_not_found"
    assert all("timing" in r for r in out.values())


def test_batch_object_line_numbers() -> None:
    spec = json.dumps({"version": "1.0", "jobs": [job("a", fmt="metrics"), 42, {"id": ""}]})
    out = {r["id"]: r for r in results(spec)}
    assert out["a"]["status"] == "success"
    assert out["line-2"]["status"] == "error" and out["line-3"]["status"] == "error"


@pytest.mark.parametrize("workers", [1, 2, 3, None])
def test_workers_all_results_once(workers: Any) -> None:
    jobs = [job(f"w{i}", font=INTER if i % 2 else DEJAVU, fmt="metrics") for i in range(101)]
    out = results("\n".join(dumps(j) for j in jobs), workers=workers)
    assert sorted(r["id"] for r in out) == sorted(f"w{i}" for i in range(101))
    assert all(r["status"] == "success" for r in out)


def test_broken_fonts_in_batch_do_not_stop_it() -> None:
    jobs = [job(f"x{i}", font=str(p)) for i, p in enumerate(sorted(BROKEN.iterdir()))]
    jobs.append(job("last", fmt="metrics"))
    out = {r["id"]: r for r in results("\n".join(dumps(j) for j in jobs), workers=2)}
    assert out["last"]["status"] == "success"
    assert len(out) == len(jobs)


def test_early_close_of_generator_stops_workers() -> None:
    jobs = "\n".join(dumps(job(f"e{i}", fmt="metrics")) for i in range(500))
    gen = haforu.process_jobs(jobs, workers=2)
    first = next(iter(gen))
    assert json.loads(first)["status"] == "success"
    gen.close()  # type: ignore[attr-defined]


def test_options_validated_at_call() -> None:
    with pytest.raises(ValueError):
        haforu.process_jobs(dumps(job("a")), workers=0)
    with pytest.raises(ValueError):
        haforu.process_jobs(dumps(job("a")), timeout_ms=-5)
    with pytest.raises(ValueError):
        haforu.process_jobs(dumps(job("a")), max_fonts=0)


def test_timeout_in_batch() -> None:
    slow = job("slow", text="AAAAAAAAAA", size=2000, width=10000, height=5000)
    spec = "\n".join([dumps(slow), dumps(job("fast", fmt="metrics"))])
    out = {r["id"]: r for r in results(spec, timeout_ms=1, workers=1)}
    assert out["slow"]["error_kind"] == "resource_limit"
    assert out["fast"]["status"] == "success" or out["fast"]["error_kind"] == "resource_limit"


def test_python_envelope_matches_engine_split() -> None:
    """The Python envelope parser must agree with the engine's haforu_split."""
    from haforu._envelope import parse_envelope
    from haforu._renderer import Renderer

    r = Renderer()
    specs = [
        json.dumps({"version": "1.0", "jobs": [job("a"), job("b", text="ü\u2028x")]}),
        dumps(job("a")) + "\n\n" + dumps(job("b")) + "\r\n" + "{bad\n",
        '{"version": "1.0", "jobs": [{"id": "x", "n": 1.5e3}]}',
    ]
    for spec in specs:
        status, out = r.split_check(spec.encode())
        assert status == 0
        engine = [(int(n), json.loads(t) if t.startswith("{") and not t.startswith("{bad") else t)
                  for n, t in (line.split("\t", 1) for line in out.decode().split("\n") if line)]
        count, it = parse_envelope(spec)
        ours = [(n, json.loads(t) if t.startswith("{") and not t.startswith("{bad") else t) for n, t in it]
        assert ours == engine and count == len(engine)
    for bad in ('{"version": "2.0", "jobs": [{"id": "a"}]}', '{"version": "1.0", "jobs": []}'):
        status, _ = r.split_check(bad.encode())
        assert status == 1
        with pytest.raises(ValueError):
            parse_envelope(bad)
    r.close()
