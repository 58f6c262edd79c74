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
        "{\n  \"version\": \"1.0\",\n  \"jobs\": [\n",
        '{"version": "2.0", "jobs": [{"id": "a"}]}',
        '{"version": 1.0, "jobs": [{"id": "a"}]}',
        '{"version": "1.0", "jobs": []}',
        '{"version": "1.0", "jobs": {}}',
        '{"version": "1.0"}',
        '{"jobs": [{"id": "a"}]}',
        b'{"version": "1.0", "jobs": [{"id": "\xff"}]}',
    ],
)
def test_invalid_envelope_raises_value_error_at_call(spec: Any) -> None:
    with pytest.raises(ValueError) as e:
        haforu.process_jobs(spec)  # raised before iteration starts
    # The engine's verdict (haforu_split), not a Python re-implementation of it.
    assert isinstance(e.value, haforu.InvalidJobError)
    assert e.value.kind in ("bad_json", "bad_job") and e.value.job_id == "batch"


@pytest.mark.parametrize(
    "spec, needle, kind",
    [
        ('{"version": "2.0", "jobs": [{"id": "a"}]}', '"2.0"', "bad_job"),
        ('{"version": "1.0", "jobs": []}', "empty", "bad_job"),
        ('{"jobs": [{"id": "a"}]}', "version", "bad_job"),
        ('{"version": "1.0"}', "jobs", "bad_job"),
        ("\n \n", "no jobs", "bad_job"),
        ('{\n"version": "1.0",\n"jobs": [\n', "not valid JSON", "bad_json"),
        (b"\xff\xfe", "UTF-8", "bad_json"),
    ],
)
def test_envelope_errors_carry_the_engine_message(spec: Any, needle: str, kind: str) -> None:
    from haforu._envelope import parse_envelope
    from haforu._renderer import Renderer

    r = Renderer()
    status, out = r.split(spec.encode() if isinstance(spec, str) else spec)
    r.close()
    assert status == 1
    engine = json.loads(out)
    with pytest.raises(haforu.InvalidJobError) as e:
        parse_envelope(spec)
    assert str(e.value) == engine["error"] and needle in str(e.value)
    assert e.value.kind == engine["error_kind"] == kind


@pytest.mark.parametrize("spec", ["{not json at all", "[1, 2, 3]", "hello"])
def test_text_that_is_not_a_batch_object_is_jsonl(spec: str) -> None:
    """As for the engine (and the CLI): one bad JSONL line is one error result, not an error."""
    out = results(spec)
    assert len(out) == 1 and out[0]["id"] == "line-1" and out[0]["status"] == "error"
    assert out[0]["error_kind"] in ("bad_json", "bad_job")


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


SPLIT_SPECS = [
    json.dumps({"version": "1.0", "jobs": [job("a"), job("b", text="ü\u2028x")]}),
    dumps(job("a")) + "\n\n" + dumps(job("b")) + "\r\n" + "{bad\n",
    '{"version": "1.0", "jobs": [{"id": "x", "n": 1.5e3}, 42]}',
    "\n  \n" + dumps(job("c")) + "  \n\t\n" + dumps(job("d", text="a\u2028b")) + "\n",
    "hello\n\n[1]\n",
    dumps(job("one")),
]


def _engine_jobs(spec: str) -> List[Any]:
    from haforu._renderer import Renderer

    r = Renderer()
    status, out = r.split(spec.encode())
    r.close()
    assert status == 0
    return [(int(n), t) for n, t in (line.split("\t", 1) for line in out.decode().split("\n") if line)]


@pytest.mark.parametrize("spec", SPLIT_SPECS)
def test_envelope_jobs_are_the_engine_split(spec: str) -> None:
    """Line numbers and job texts come from haforu_split as they are."""
    from haforu._envelope import parse_envelope

    engine = _engine_jobs(spec)
    count, it = parse_envelope(spec)
    assert list(it) == engine and count == len(engine)


def test_envelope_line_numbers_from_the_engine() -> None:
    from haforu._envelope import parse_envelope

    _, it = parse_envelope(SPLIT_SPECS[1])
    assert [n for n, _ in it] == [1, 3, 4]
    _, it = parse_envelope(SPLIT_SPECS[2])
    assert list(it) == [(1, '{"id":"x","n":1500.0}'), (2, "42")]


@pytest.mark.parametrize("spec", [s for s in SPLIT_SPECS if not s.lstrip().startswith('{"version"')])
def test_lazy_jsonl_walk_matches_engine_split(spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large JSONL (haforu_envelope_probe says so) is walked in Python (no copy in a wasm heap);
    it must give what the engine's split gives."""
    from haforu import _envelope

    engine = _engine_jobs(spec)
    monkeypatch.setattr(_envelope, "LAZY_MIN_BYTES", 0)
    monkeypatch.setattr(_envelope, "_engine_split", None)  # the engine must not be asked
    for data in (spec, spec.encode()):
        count, it = _envelope.parse_envelope(data)
        assert list(it) == engine and count == len(engine)


def test_lazy_path_leaves_batch_objects_to_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from haforu import _envelope

    monkeypatch.setattr(_envelope, "LAZY_MIN_BYTES", 0)
    pretty = json.dumps({"version": "1.0", "jobs": [job("a"), job("b")]}, indent=2)
    assert _envelope._probe_text(pretty) == 1 and _envelope._probe_text(dumps(job("a"))) == 0
    count, it = _envelope.parse_envelope(pretty)
    assert count == 2 and [n for n, _ in it] == [1, 2]
    with pytest.raises(ValueError, match="1.0"):
        _envelope.parse_envelope('{"version": "2.0",\n "jobs": [{"id": "a"}]}\n')
    # a one-line batch object followed by another line: the probe sends it to the engine's
    # split (which reads it as JSONL)
    spec = '{"version": "1.0", "jobs": []}\n' + dumps(job("z")) + "\n"
    assert _envelope._probe_text(spec) == 1
    assert [n for n, _ in _envelope.parse_envelope(spec)[1]] == [1, 2]
    assert [n for n, _ in _engine_jobs(spec)] == [1, 2]
