"""Python halves of the soak (bench/soak.sh, ``make soak``); prints one JSON line per check.

``soak_python.py hostile SECONDS``
    The hostile mix through ``haforu.process_jobs(workers=2)``, round after round for SECONDS:
    every input line gives exactly one result (nothing lost, no duplicates), healthy results
    equal their idle references (timing removed), hostile ones are error results of the
    expected kinds; nothing but haforu errors is raised; RSS after the first round and at the
    end.

``soak_python.py stream N HAFORU``
    N such jobs through one ``haforu stream`` process: its RSS after 10,000 results and at the
    end.

``soak_python.py million N``
    N renders (a 48 px word as ``metrics``, a new job each time) through one
    ``StreamingSession``: RSS after the first 10,000 and at the end, measured.
"""

import base64
import json
import resource
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import haforu

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "tests" / "fonts"
DEJAVU = str(FONTS / "DejaVuSans-subset.ttf")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def job(i: str, font: Dict[str, object], text: str, fmt: str, w: int, h: int) -> str:
    return json.dumps({"id": i, "font": font, "text": {"content": text},
                       "rendering": {"format": fmt, "width": w, "height": h}}, separators=(",", ":"))


def mix() -> Tuple[List[str], Dict[str, str]]:
    """(lines, id -> "error" for a line that must fail, "" otherwise)."""
    d48 = {"path": DEJAVU, "size": 48}
    healthy = [
        job("h-metrics", d48, "Hamburgefonstiv", "metrics", 800, 100),
        job("h-pgm", d48, "Hamburgefonstiv", "pgm", 800, 100),
        job("h-inter", {"path": str(FONTS / "Inter-VF-subset.ttf"), "size": 64, "variations": {"wght": 700}},
            "Hamburg", "metrics", 600, 100),
        job("h-arabic", {"path": str(FONTS / "NotoSansArabic-subset.ttf"), "size": 40}, "مرحبا بالعالم",
            "metrics", 600, 100),
    ]
    cut = (FONTS / "DejaVuSans-subset.ttf").read_bytes()[:5000]
    hostile = {
        "x-broken-data": job("x-broken-data", {"data": base64.b64encode(cut).decode(), "size": 48},
                             "Hamburgefonstiv", "metrics", 800, 100),
        "x-giant": job("x-giant", {"path": DEJAVU, "size": 2000}, "W", "pgm", 10000, 5000),
        "x-huge-size": job("x-huge-size", {"path": DEJAVU, "size": 10000}, "W" * 50, "metrics", 3000, 1200),
        "x-dev-zero": job("x-dev-zero", {"path": "/dev/zero", "size": 48}, "x", "metrics", 100, 100),
        "x-traversal": job("x-traversal", {"path": "../../../../etc/passwd", "size": 48}, "x", "metrics", 100, 100),
    }
    # The hostile jobs that must fail (the giant canvas and the huge size are within limits).
    kinds = {"x-broken-data": "error", "x-giant": "", "x-huge-size": "", "x-dev-zero": "error",
             "x-traversal": "error"}
    lines: List[str] = []
    expect: Dict[str, str] = {}
    for k in range(3):
        for h in healthy:
            lines.append(h.replace('"id":"h-', f'"id":"h{k}-'))
    for i, (name, line) in enumerate(hostile.items()):
        lines.insert(3 * i + 1, line)
    lines.insert(2, '{"id": "x-malformed", "font": {"path": ')
    lines.insert(5, '{"id":"x-deep","x":' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}")
    for line in lines:
        try:
            expect[json.loads(line)["id"]] = ""
        except (ValueError, KeyError, RecursionError):
            pass
    expect.update(kinds)
    return lines, expect


def strip_timing(r: Dict[str, object]) -> str:
    r = dict(r)
    r.pop("timing", None)
    return json.dumps(r, sort_keys=True)


def hostile(seconds: float) -> None:
    lines, expect = mix()
    reference = {}
    with haforu.StreamingSession() as s:
        for line in lines:
            r = json.loads(s.render(line))
            if r["id"].startswith("h"):
                assert r["status"] == "success", r
                reference[r["id"]] = strip_timing(r)
    rounds = lost = duplicates = mismatches = wrong_kinds = raised = 0
    kinds_seen: Dict[str, set] = {}
    first_rss = 0.0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        seen: Dict[str, int] = {}
        try:
            for text in haforu.process_jobs("\n".join(lines), workers=2, base_dir=str(ROOT)):
                r = json.loads(text)
                seen[r["id"]] = seen.get(r["id"], 0) + 1
                if r["id"] in reference and strip_timing(r) != reference[r["id"]]:
                    mismatches += 1
                elif r["id"] in expect and r["id"] not in reference:
                    wrong_kinds += bool(expect[r["id"]]) and r["status"] != "error"
                    kinds_seen.setdefault(r["id"], set()).add(r.get("error_kind", "success"))
        except haforu.HaforuError:
            raised += 1  # a haforu error is allowed to surface; anything else propagates
        duplicates += sum(n - 1 for n in seen.values() if n > 1)
        lost += len(lines) - len(seen)
        rounds += 1
        if rounds == 1:
            first_rss = rss_mb()
    end = rss_mb()
    print(json.dumps({
        "check": "python process_jobs(workers=2), hostile mix", "rounds": rounds, "jobs_per_round": len(lines),
        "lost": lost, "duplicates": duplicates, "healthy_mismatches": mismatches, "hostile_successes_that_must_fail": wrong_kinds,
        "hostile_answers": {k: sorted(v) for k, v in sorted(kinds_seen.items())},
        "haforu_errors_raised": raised, "rss_mb_after_round_1": round(first_rss, 1), "rss_mb_end": round(end, 1),
        "rss_growth_mb": round(end - first_rss, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def million(n: int) -> None:
    t0 = time.perf_counter()
    first = 0.0
    with haforu.StreamingSession() as s:
        for i in range(n):
            # A new job each time (its id and text differ), the same font.
            line = job(f"m{i}", {"path": DEJAVU, "size": 48}, f"Hamburg {i % 1000}", "metrics", 800, 100)
            r = s.render(line)
            if i == 0:
                assert '"status":"success"' in r, r
            if i + 1 == 10_000:
                first = rss_mb()
    end = rss_mb()
    print(json.dumps({
        "check": "python StreamingSession, one million renders" if n == 1_000_000 else f"python StreamingSession, {n} renders",
        "renders": n, "seconds": round(time.perf_counter() - t0, 1), "rss_mb_after_10k": round(first, 1),
        "rss_mb_end": round(end, 1), "rss_growth_mb": round(end - first, 1),
    }))


def rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stream(n: int, binary: str) -> None:
    """N jobs through one ``haforu stream`` process (fed and drained concurrently)."""
    import subprocess
    import threading

    p = subprocess.Popen([binary, "stream"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1 << 20)
    assert p.stdin is not None and p.stdout is not None

    def feed() -> None:
        assert p.stdin is not None
        for i in range(n):
            line = job(f"m{i}", {"path": DEJAVU, "size": 48}, f"Hamburg {i % 1000}", "metrics", 800, 100)
            p.stdin.write(line.encode() + b"\n")
        p.stdin.close()

    t0 = time.perf_counter()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    first = end = 0.0
    ok = 0
    for i, line in enumerate(p.stdout):
        ok += b'"status":"success"' in line
        if i + 1 == 10_000:
            first = rss_of(p.pid)
        if (i + 1) % 10_000 == 0 and i + 1 > 10_000:
            # The process exits once its input ends, so the last reading is taken while it runs.
            end = rss_of(p.pid) or end
    feeder.join()
    p.wait()
    print(json.dumps({
        "check": f"haforu stream, {n} renders", "renders": n, "successes": ok,
        "seconds": round(time.perf_counter() - t0, 1), "rss_mb_after_10k": round(first, 1),
        "rss_mb_end": round(end, 1), "rss_growth_mb": round(end - first, 1),
    }))


if __name__ == "__main__":
    if sys.argv[1] == "hostile":
        hostile(float(sys.argv[2]))
    elif sys.argv[1] == "stream":
        stream(int(sys.argv[2]), sys.argv[3])
    else:
        million(int(sys.argv[2]))
