"""Malformed JSON and broken fonts never crash the interpreter; later jobs still succeed."""

from __future__ import annotations

import json
import random

import haforu
from conftest import DEJAVU, dumps, job


def test_fuzzed_json(session: haforu.StreamingSession) -> None:
    rng = random.Random(1234)
    base = dumps(job("f", fmt="metrics"))
    for _ in range(300):
        b = bytearray(base.encode())
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out = json.loads(session.render(bytes(b)))
        assert out["status"] in ("success", "error")
        if out["status"] == "error":
            assert out["error_kind"]
    for _ in range(50):
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        assert json.loads(session.render(junk))["status"] == "error"
    assert json.loads(session.render(base))["status"] == "success"


def test_mutated_fonts(session: haforu.StreamingSession) -> None:
    rng = random.Random(99)
    good = DEJAVU.read_bytes()
    variants = [good[: rng.randrange(len(good))] for _ in range(20)]
    for _ in range(30):
        b = bytearray(good)
        for _ in range(rng.randint(1, 50)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        variants.append(bytes(b))
    variants += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 4000))) for _ in range(10)]
    for data in variants:
        try:
            a = session.render_to_numpy(None, "Hamburgefonstiv", 48, 400, 100, font_bytes=data)
            assert a.shape == (100, 400)
        except haforu.HaforuError as e:
            assert e.kind in ("font_parse", "internal", "resource_limit", "bad_job", "limit_exceeded")
    a = session.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 800, 100)
    assert a.min() == 0


def test_many_jobs_bounded_font_registry() -> None:
    with haforu.StreamingSession(max_fonts=3) as s:
        rng = random.Random(5)
        good = DEJAVU.read_bytes()
        for i in range(40):
            b = bytearray(good)
            b[rng.randrange(len(b))] ^= 0xFF
            try:
                s.render_to_numpy(None, "a", 20, 40, 30, font_bytes=bytes(b))
            except haforu.HaforuError:
                pass
        assert s.cache_stats()["fonts_registered"] <= 3
