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


def _image_jobs() -> list:  # type: ignore[type-arg]
    jobs = [job(f"r{i}", font={"path": str(INTER), "size": 40, "variations": {"wght": 100 + 200 * i}},
                fmt="raw", width=300, height=60) for i in range(4)]
    jobs.append(job("pgm", font=str(DEJAVU), fmt="pgm", width=210, height=50))
    jobs.append(job("missing", font="/nonexistent/font.ttf", fmt="raw"))
    jobs.append(job("png", font=str(DEJAVU), fmt="png", width=40, height=30))
    jobs.append(job("metrics", font=str(DEJAVU), fmt="metrics"))
    jobs.append(job("zero", font=str(DEJAVU), fmt="raw", width=0))
    jobs.append('{"font": {"path": "x"}, not json')
    return jobs


def test_render_batch_numpy_under_a_process_pool() -> None:
    import numpy as np

    assert pickle.loads(pickle.dumps(haforu.render_batch_numpy)) is haforu.render_batch_numpy
    jobs = _image_jobs()
    chunks = [jobs[:5], jobs[5:]]
    with ProcessPoolExecutor(max_workers=2) as pool:
        out = [x for part in pool.map(partial(haforu.render_batch_numpy, max_glyphs=None), chunks) for x in part]
    assert len(out) == len(jobs)
    with haforu.StreamingSession(max_glyphs=None) as s:
        for i in range(4):
            want = s.render_to_numpy(INTER, "Hamburgefonstiv", 40, 300, 60, {"wght": 100 + 200 * i})
            got = out[i]
            assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == (60, 300)
            assert got.flags.c_contiguous and got.flags.writeable
            assert np.array_equal(got, want)
        pgm = out[4]
        assert isinstance(pgm, np.ndarray)
        assert np.array_equal(pgm, s.render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 210, 50))
        # The errors are returned, in place, with the engine's error result (the one render_batch
        # gives, apart from timing) and the exception class of their kind.
        local = list(s.render_many(jobs))
    errors = out[5:]
    assert all(isinstance(e, haforu.HaforuError) for e in errors)
    assert [e.kind for e in errors] == ["font_not_found", "bad_job", "bad_job", "bad_job", "bad_json"]  # type: ignore[union-attr]
    assert isinstance(errors[0], haforu.FontNotFoundError) and errors[0].font_path == "/nonexistent/font.ttf"
    assert isinstance(errors[3], haforu.InvalidJobError) and errors[3].job_id == "zero"
    assert errors[4].job_id == "line-5"  # type: ignore[union-attr]  # its line in its own part
    assert "render_batch_numpy returns the pixels of raw and pgm jobs" in str(errors[1])
    assert "this is a `png` job" in str(errors[1]) and "this is a `metrics` job" in str(errors[2])
    assert _untimed(errors[0].result or "") == _untimed(local[5])  # type: ignore[union-attr]
    assert _untimed(errors[3].result or "") == _untimed(local[8])  # type: ignore[union-attr]


def test_render_batch_numpy_errors_pickle() -> None:
    out = haforu.render_batch_numpy([job("missing", font="/nonexistent/font.ttf"), job("ok", fmt="raw")])
    assert getattr(out[1], "flags").owndata  # a new array, not a view of the engine's memory
    err = pickle.loads(pickle.dumps(out[0]))
    assert isinstance(err, haforu.FontNotFoundError)
    assert (err.kind, err.job_id, err.font_path, err.result) == (
        "font_not_found", "missing", "/nonexistent/font.ttf", out[0].result)  # type: ignore[union-attr]
    assert str(err) == str(out[0])


def test_concurrent_batches_in_one_process_use_sessions_of_their_own() -> None:
    import threading

    from haforu.parallel import _key, _pools

    opts = {"max_glyphs": 1234}  # an option set no other test uses
    barrier = threading.Barrier(2, timeout=30)

    def jobs(tag: str):  # type: ignore[no-untyped-def]
        yield job(f"{tag}0", fmt="metrics")
        barrier.wait()  # both batches are running now, each between two of its jobs
        yield job(f"{tag}1", fmt="metrics")

    out: dict = {}  # type: ignore[type-arg]
    threads = [threading.Thread(target=lambda t=t: out.update({t: haforu.render_batch(jobs(t), **opts)}))
               for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [len(out[t]) for t in "ab"] == [2, 2] and _untimed(out["a"][0]).replace("a0", "b0") == _untimed(out["b"][0])
    assert len(_pools[_key(opts)]) == 2  # one session per running batch, both kept
    haforu.render_batch([job("c", fmt="metrics")], **opts)
    assert len(_pools[_key(opts)]) == 2  # a later batch reuses one
    assert haforu.parallel.process_session(**opts) is _pools[_key(opts)][0]
