"""Every error kind, through the JSON API (error results) and the native API (exceptions)."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

import haforu
from conftest import BROKEN, DEJAVU, dumps, job


def run(s: haforu.StreamingSession, text: str) -> Dict[str, Any]:
    out: Dict[str, Any] = json.loads(s.render(text))
    assert "timing" in out and out["timing"]["total_ms"] >= 0
    return out


def assert_error(out: Dict[str, Any], kind: str, job_id: str) -> None:
    assert out["status"] == "error", out
    assert out["error_kind"] == kind, out
    assert out["id"] == job_id, out
    assert isinstance(out["error"], str) and out["error"]


def test_bad_json(session: haforu.StreamingSession) -> None:
    assert_error(run(session, "{not json"), "bad_json", "job")
    assert_error(run(session, ""), "bad_json", "job")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda j: j.pop("id"),
        lambda j: j.update(id=""),
        lambda j: j["font"].update(size=0),
        lambda j: j["font"].update(size="big"),
        lambda j: j["text"].pop("content"),
        lambda j: j["text"].update(content=""),
        lambda j: j["rendering"].update(format="jpeg"),
        lambda j: j["rendering"].pop("width"),
        lambda j: j["text"].update(content="a\u0001b"),
        lambda j: j["text"].update(direction="sideways"),
    ],
)
def test_bad_job(session: haforu.StreamingSession, mutate: Any) -> None:
    j = job("bj", fmt="metrics")
    mutate(j)
    out = run(session, dumps(j))
    assert out["status"] == "error" and out["error_kind"] in ("bad_job", "limit_exceeded"), out


@pytest.mark.parametrize(
    "mutate",
    [
        lambda j: j["font"].update(size=10001),
        lambda j: j["rendering"].update(width=10001),
        lambda j: j["rendering"].update(width=10000, height=10000),
        lambda j: j["text"].update(content="a" * 10001),
    ],
)
def test_limit_exceeded(session: haforu.StreamingSession, mutate: Any) -> None:
    j = job("lim", fmt="metrics")
    mutate(j)
    out = run(session, dumps(j))
    assert out["status"] == "error" and out["error_kind"] in ("limit_exceeded", "bad_job"), out


def test_font_not_found(session: haforu.StreamingSession) -> None:
    out = run(session, dumps(job("nf", font="/no/such/font.ttf")))
    assert_error(out, "font_not_found", "nf")
    assert "/no/such/font.ttf" in out["error"] and "nf" in out["error"]
    out = run(session, dumps(job("dir", font=str(DEJAVU.parent))))
    assert_error(out, "font_not_found", "dir")
    # No font source at all: the engine says so.
    j = job("nofont", fmt="metrics")
    j["font"] = {"size": 48}
    assert run(session, dumps(j))["status"] == "error"


@pytest.mark.parametrize("name", ["truncated.ttf", "bitflip.ttf", "random.bin", "empty.ttf", "upem0.ttf"])
def test_font_parse(session: haforu.StreamingSession, name: str) -> None:
    out = run(session, dumps(job("fp", font=str(BROKEN / name))))
    # A bit-flipped font may still parse and render; it must never crash.
    if out["status"] == "error":
        assert out["error_kind"] in ("font_parse", "bad_job", "limit_exceeded"), out
    assert json.loads(session.render(dumps(job("after"))))["status"] == "success"


def test_exceptions_native_api(session: haforu.StreamingSession) -> None:
    with pytest.raises(haforu.FontNotFoundError) as e1:
        session.render_to_numpy("/no/such.ttf", "a", 10, 10, 10)
    assert isinstance(e1.value, FileNotFoundError) and isinstance(e1.value, haforu.HaforuError)
    assert e1.value.kind == "font_not_found" and "/no/such.ttf" in str(e1.value)
    assert "render_to_numpy" in str(e1.value)

    with pytest.raises(haforu.InvalidJobError) as e2:
        session.render_to_numpy(DEJAVU, "a", 0, 10, 10)
    assert isinstance(e2.value, ValueError) and e2.value.kind in ("bad_job", "limit_exceeded")
    assert str(DEJAVU) in str(e2.value)

    with pytest.raises(haforu.InvalidJobError) as e3:
        session.metrics(DEJAVU, "a", 10, 20000, 10)
    assert e3.value.kind in ("limit_exceeded", "bad_job")

    with pytest.raises(haforu.RenderError) as e4:
        session.render_to_numpy(BROKEN / "random.bin", "a", 10, 10, 10)
    assert isinstance(e4.value, RuntimeError) and e4.value.kind == "font_parse"
    assert "random.bin" in str(e4.value)

    with pytest.raises(haforu.InvalidJobError):
        session.render_to_numpy(DEJAVU, "a", float("nan"), 10, 10)
    with pytest.raises(haforu.InvalidJobError):
        session.render_to_numpy(DEJAVU, "a", 10, 10.5, 10)  # type: ignore[arg-type]
    assert session.ping()


def test_timeout_is_resource_limit() -> None:
    with haforu.StreamingSession(timeout_ms=1) as s:
        # A 1000 px glyph on a huge canvas, repeated, takes far longer than 1 ms.
        big = job("slow", text="AAAAAAAAAA", size=2000, width=10000, height=5000, fmt="raw")
        out = json.loads(s.render(dumps(big)))
        assert_error(out, "resource_limit", "slow")
        assert "rebuilt" in out["error"]
        with pytest.raises(haforu.RenderError) as e:
            s.render_to_numpy(DEJAVU, "AAAAAAAAAA", 2000, 10000, 5000)
        assert e.value.kind == "resource_limit"
        st = s.cache_stats()
        assert st["instance_rebuilds"] >= 2
    # The session goes on with a generous deadline.
    with haforu.StreamingSession(timeout_ms=10_000) as s:
        assert json.loads(s.render(dumps(job("fast"))))["status"] == "success"


def test_memory_limit_is_resource_limit() -> None:
    with haforu.StreamingSession(memory_limit_mb=32) as s:
        ok = json.loads(s.render(dumps(job("small", fmt="metrics"))))
        assert ok["status"] == "success", ok
        big = job("huge", text="A", size=100, width=10000, height=5000, fmt="raw")
        out = json.loads(s.render(dumps(big)))
        assert out["status"] == "error" and out["error_kind"] in ("resource_limit", "limit_exceeded"), out
        again = json.loads(s.render(dumps(job("again", fmt="metrics"))))
        assert again["status"] == "success", again


def test_error_for_kind_mapping() -> None:
    from haforu.errors import error_for_kind

    assert type(error_for_kind("font_not_found", "m")) is haforu.FontNotFoundError
    for k in ("bad_json", "bad_job", "limit_exceeded"):
        assert type(error_for_kind(k, "m")) is haforu.InvalidJobError
    for k in ("font_parse", "resource_limit", "internal", "something_new"):
        e = error_for_kind(k, "m", job_id="x", font_path="f")
        assert type(e) is haforu.RenderError and e.kind == k and e.job_id == "x" and e.font_path == "f"


def test_memory_limit_too_small_to_start() -> None:
    with pytest.raises(ValueError, match="memory_limit_mb"):
        haforu.StreamingSession(memory_limit_mb=1)
