"""``haforu.dask`` on a real ``LocalCluster`` (two worker processes, one thread each; no mocks):
results byte-equal to a local session apart from ``timing``, the worker plugin, DataFrames,
sweeps split across workers, progress, and a worker killed in the middle of a run."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

pytest.importorskip("distributed")
pytest.importorskip("dask.bag")

import cloudpickle  # noqa: E402  (dask's dependency)
import dask.bag as db  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from conftest import DEJAVU, INTER, job  # noqa: E402

import haforu  # noqa: E402
import haforu.dask as hd  # noqa: E402

# The workers cannot import this test module (pytest put its folder on sys.path here only):
# its functions travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

_TIMING = re.compile(r',"timing":\{[^{}]*\}')


def untimed(result: str) -> str:
    """The result text without its ``timing`` (the only part that differs between runs)."""
    out, n = _TIMING.subn("", result)
    assert n == 1, result
    return out


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            yield c


def _jobs(n: int = 24) -> List[Any]:
    jobs: List[Any] = [job(f"m{i}", font={"path": str(INTER), "size": 36, "variations": {"wght": 100 + 800 * i / n}},
                           fmt="metrics", width=400, height=60) for i in range(n)]
    jobs[3] = job("pgm", font=str(DEJAVU), fmt="pgm", width=120, height=40)
    jobs[7] = job("missing", font="/nonexistent/font.ttf", fmt="metrics")
    jobs[11] = {"font": {"path": str(DEJAVU), "size": 20}, "text": {"content": "no id"},
                "rendering": {"format": "metrics", "width": 100, "height": 30}}
    jobs[15] = '{"id": "broken", not json'
    return jobs


def _local(jobs: Any, **opts: Any) -> List[str]:
    with haforu.StreamingSession(**opts) as s:
        return list(s.render_many(jobs))


def test_render_bag_equals_a_local_session(client: Client) -> None:
    jobs = _jobs()
    bag = hd.render_bag(jobs, npartitions=5, max_glyphs=None)
    assert isinstance(bag, db.Bag) and bag.npartitions == 5
    remote = bag.compute()
    local = _local(jobs, max_glyphs=None)
    assert [untimed(r) for r in remote] == [untimed(r) for r in local]
    assert '"id":"line-12"' in remote[11] and '"error_kind":"bad_json"' in remote[15]
    assert '"error_kind":"font_not_found"' in remote[7]
    with pytest.raises(TypeError, match="job 2 of the list"):
        hd.render_bag([jobs[0], 42])  # as locally: at the call
    # A bag of jobs (each partition rendered as it is) gives the same, ids and all.
    with_ids = [j for j in jobs if isinstance(j, dict) and "id" in j]
    from_bag = hd.render_bag(db.from_sequence(with_ids, npartitions=3)).compute()
    assert [untimed(r) for r in from_bag] == [untimed(r) for r in _local(with_ids)]


def test_render_with_distributed_progress(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    jobs = _jobs(16)
    out = hd.render(jobs, npartitions=4, progress=True)
    assert [untimed(r) for r in out] == [untimed(r) for r in _local(jobs)]
    assert "100% Completed" in capsys.readouterr().out


def test_render_locally_with_a_tqdm_bar(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    jobs = _jobs(20)
    bar = hd.JobProgress(len(jobs))
    with bar:
        out = hd.render_bag(jobs, npartitions=4).compute(scheduler="sync")
    assert bar.done == 20 and [untimed(r) for r in out] == [untimed(r) for r in _local(jobs)]
    assert "20/20" in capsys.readouterr().err
    out = hd.render(jobs, npartitions=3, scheduler="threads", progress=True)
    assert [untimed(r) for r in out] == [untimed(r) for r in _local(jobs)]
    assert "20/20" in capsys.readouterr().err


def _warm_state(opts: Dict[str, Any]) -> Dict[str, Any]:
    from haforu.parallel import _key, _pools

    sessions = _pools.get(_key(opts), [])
    stats = sessions[0].cache_stats() if sessions else {}
    return {"pid": os.getpid(), "sessions": len(sessions), "fonts": stats.get("fonts_registered", 0)}


def test_plugin_warms_one_session_per_worker(client: Client) -> None:
    opts = {"max_glyphs": 4096}
    before = client.run(_warm_state, opts)
    assert all(s["sessions"] == 0 for s in before.values())
    client.register_plugin(hd.HaforuPlugin(fonts=[INTER, DEJAVU], **opts))
    try:
        after = client.run(_warm_state, opts)
        assert len(after) == 2 and len({s["pid"] for s in after.values()}) == 2
        assert all(s["sessions"] == 1 and s["fonts"] == 2 for s in after.values()), after
        # The renders use the warm sessions (no new ones), with the same options.
        hd.render(_jobs(16), npartitions=4, **opts)
        assert all(s["sessions"] == 1 for s in client.run(_warm_state, opts).values())
    finally:
        client.unregister_worker_plugin("haforu")
    assert all(s["sessions"] == 0 for s in client.run(_warm_state, opts).values())  # teardown closed them


def _pgm_b64() -> str:
    with haforu.StreamingSession() as s:
        r = json.loads(s.render(job("t", font=str(DEJAVU), fmt="pgm", text="Hamb", size=40, width=160, height=60)))
    data: str = r["rendering"]["data"]
    assert base64.b64decode(data).startswith(b"P5")
    return data


def test_dataframe_of_jobs(client: Client) -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    target = _pgm_b64()
    rows = []
    for i in range(10):
        rows.append({"id": f"d{i}", "font.path": str(INTER), "font.size": 40.0,
                     "font.variations": {"wght": 100 + 80 * i} if i % 2 else json.dumps({"wght": 100 + 80 * i}),
                     "text.content": "Hamb", "rendering.format": "metrics", "rendering.width": 160,
                     "rendering.height": 60, "compare.target": target if i < 3 else None})
    rows.append({"id": "img", "font.path": str(DEJAVU), "font.size": 30.0, "text.content": "Hi",
                 "rendering.format": "pgm", "rendering.width": 80, "rendering.height": float("nan")})
    rows.append({"id": "gone", "font.path": "/nonexistent.ttf", "font.size": 30.0, "text.content": "x",
                 "rendering.format": "metrics", "rendering.width": 80, "rendering.height": 30})
    frame = pd.DataFrame(rows, index=pd.RangeIndex(100, 100 + len(rows)))
    frame.loc[110, "rendering.height"] = 40.0  # a float column with a gap: whole values become ints
    jobs = hd.jobs_from_frame(frame)
    assert jobs[0]["font"] == {"path": str(INTER), "size": 40.0, "variations": {"wght": 100}}
    assert jobs[10]["rendering"] == {"format": "pgm", "width": 80, "height": 40} and "compare" not in jobs[5]
    assert jobs[1]["compare"] == {"target": target}

    out = hd.render_dataframe(dd.from_pandas(frame, npartitions=3), result=True).compute()
    local = hd.render_frame(frame, result=True)
    pd.testing.assert_frame_equal(out.drop(columns="result"), local.drop(columns="result"))
    assert list(out.index) == list(frame.index)
    assert [untimed(r) for r in out["result"]] == [untimed(r) for r in _local(jobs)]
    assert [c for c, _ in hd.RESULT_COLUMNS] + ["result"] == list(out.columns)

    m = haforu.StreamingSession().metrics(INTER, "Hamb", 40.0, 160, 60, {"wght": 180})
    r1 = out.loc[101]
    assert (r1["status"], r1["density"], r1["beam"], r1["bbox"]) == ("success", m.density, m.beam, m.bbox)
    assert r1["variations"] == {"wght": 180.0} and r1["pixel_delta"] > 0 and r1["differing_pixels"] > 0
    assert pd.isna(out.loc[105, "pixel_delta"]) and pd.isna(out.loc[105, "differing_pixels"])
    assert out.loc[110, "status"] == "success" and pd.isna(out.loc[110, "density"])
    assert out.loc[110, "bbox"] == tuple(json.loads(out.loc[110, "result"])["rendering"]["actual_bbox"])
    gone = out.loc[111]
    assert (gone["status"], gone["error_kind"]) == ("error", "font_not_found") and pd.isna(gone["density"])
    assert "cannot read font file" in gone["error"]


def test_sweep_split_across_workers(client: Client) -> None:
    np = pytest.importorskip("numpy")
    coords = [{"wght": 100 + 50 * i} for i in range(17)] + [{"wght": "bold"}]
    target = haforu.StreamingSession().render_to_numpy(DEJAVU, "A", 120, 200, 160)
    bag = hd.sweep_bag(INTER, "A", 120, 200, 160, coords, target=target)
    assert bag.npartitions == 2  # one part per worker thread
    remote = bag.compute()
    with haforu.StreamingSession() as s:
        local = s.sweep(INTER, "A", 120, 200, 160, coords, target=target)
    assert len(remote) == len(local) == 18
    for a, b in zip(remote, local):
        assert a.variations == b.variations and a.metrics == b.metrics and a.compare == b.compare
        assert (a.error is None) == (b.error is None)
    assert remote[-1].error is not None and remote[-1].error.kind == "bad_job"
    raw = hd.sweep_bag(INTER, "A", 120, 200, 160, coords[:5], format="raw", npartitions=3).compute()
    assert all(np.array_equal(p.image, q.image) for p, q in zip(raw, local[:5]) if q.image is not None)
    assert all(p.image is not None and p.image.shape == (160, 200) for p in raw)


def _die_once(results: List[str], marker: str, victim: str) -> List[str]:
    """Kill this worker process (SIGKILL, as the OOM killer would) the first time the partition
    holding job ``victim`` has been rendered; its results, and any others the worker held, are
    lost with it and Dask computes them again."""
    if any(f'"id":"{victim}"' in r for r in results) and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return results


def test_a_worker_killed_mid_run_loses_nothing(client: Client, tmp_path: Path) -> None:
    jobs = [job(f"k{i}", font={"path": str(INTER), "size": 30, "variations": {"wght": 100 + i}}, fmt="metrics",
                text="Hamburgefonstiv", width=300, height=50) for i in range(320)]
    pids_before = set(client.run(os.getpid).values())
    marker = str(tmp_path / "killed")
    bag = hd.render_bag(jobs, npartitions=16).map_partitions(_die_once, marker, "k200")
    out = client.compute(bag).result(timeout=120)
    killed = int(Path(marker).read_text())
    assert killed in pids_before
    ids = [json.loads(r)["id"] for r in out]
    assert ids == [f"k{i}" for i in range(320)]  # nothing lost, nothing twice, in order
    assert [untimed(r) for r in out] == [untimed(r) for r in _local(jobs)]
    client.wait_for_workers(2, timeout=60)
    pids_after = set(client.run(os.getpid).values())
    assert killed not in pids_after and len(pids_after) == 2  # the nanny started a new worker


def test_render_batch_numpy_on_a_worker(client: Client) -> None:
    """The numpy batch function through Dask; its errors pickle also with tblib's exception
    pickling, which every process importing ``distributed`` installs."""
    import pickle

    import numpy as np

    jobs = [job("img", font=str(DEJAVU), fmt="raw", width=200, height=50), job("gone", font="/nonexistent.ttf")]
    img, err = client.submit(haforu.render_batch_numpy, jobs, max_glyphs=None).result()
    assert np.array_equal(img, haforu.StreamingSession().render_to_numpy(DEJAVU, "Hamburgefonstiv", 48, 200, 50))
    assert isinstance(err, haforu.FontNotFoundError) and isinstance(err, FileNotFoundError)
    assert (err.kind, err.job_id, err.font_path) == ("font_not_found", "gone", "/nonexistent.ttf")
    assert err.result is not None and '"error_kind":"font_not_found"' in err.result
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err) and (again.kind, again.result, str(again)) == (err.kind, err.result, str(err))


def test_render_numpy_bag(client: Client) -> None:
    import numpy as np

    jobs = [job(f"r{i}", font={"path": str(INTER), "size": 30, "variations": {"wght": 100 + 100 * i}}, fmt="raw",
                width=240, height=50) for i in range(9)]
    jobs[4] = job("p", font=str(DEJAVU), fmt="pgm", width=100, height=40)
    jobs[6] = job("m", font=str(DEJAVU), fmt="metrics")
    out = hd.render_numpy_bag(jobs, npartitions=3).compute()
    local = haforu.render_batch_numpy(jobs)
    assert len(out) == 9
    for a, b in zip(out, local):
        if isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and np.array_equal(a, b)
        else:
            assert isinstance(a, haforu.InvalidJobError) and untimed(a.result or "") == untimed(b.result or "")
    assert isinstance(out[6], haforu.HaforuError) and out[6].job_id == "m"
