"""``haforu.render_batch`` under a real process pool: results byte-equal to a local session."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from conftest import DEJAVU, INTER, job

import haforu


def _jobs() -> list:  # type: ignore[type-arg]
    jobs = [job(f"m{i}", font={"path": str(INTER), "size": 48, "variations": {"wght": 100 + 100 * i}},
                fmt="metrics") for i in range(8)]
    jobs += [job(f"p{i}", font=str(DEJAVU), fmt="pgm", width=200, height=60) for i in range(2)]
    jobs.append(job("missing", font="/nonexistent/font.ttf", fmt="metrics"))
    return jobs


def test_render_batch_pickles_and_matches_a_local_session() -> None:
    assert pickle.loads(pickle.dumps(haforu.render_batch)) is haforu.render_batch
    jobs = _jobs()
    with haforu.StreamingSession(max_glyphs=None) as s:
        local = list(s.render_many(jobs))
    chunks = [jobs[i:i + 3] for i in range(0, len(jobs), 3)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        remote = [r for part in pool.map(partial(haforu.render_batch, max_glyphs=None), chunks) for r in part]
    strip = [_untimed(r) for r in remote]
    assert strip == [_untimed(r) for r in local]
    assert '"status":"error"' in remote[-1].replace(" ", "")


def _untimed(result: str) -> str:
    import json

    obj = json.loads(result)
    obj.pop("timing", None)
    return json.dumps(obj, sort_keys=True)
