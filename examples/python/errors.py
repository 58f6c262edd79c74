"""How haforu reports problems: error results from the JSON APIs, exceptions from the call APIs,
warnings for what was accepted but ignored.

Run from anywhere after installing the package (hosts/python/README.md, "Install"):

    python examples/python/errors.py

Uses only the repository's test fonts. Prints each case and how it was reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import haforu

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")
BROKEN = str(FONTS / "broken" / "truncated.ttf")


def job(job_id: str, **font: object) -> dict:
    return {
        "id": job_id,
        "font": {"path": INTER, "size": 48, **font},
        "text": {"content": "Hamburgefonstiv"},
        "rendering": {"format": "metrics", "width": 600, "height": 80},
    }


def main() -> None:
    with haforu.StreamingSession() as s:
        # 1. JSON APIs never raise for a bad job: the result says status "error" and gives a
        #    stable error_kind and a message naming the job and the font.
        print("JSON API error results:")
        for j in (job("missing-font", path="no/such/font.ttf"),
                  job("zero-size", size=0),
                  dict(job("bad-format"), rendering={"format": "tiff", "width": 10, "height": 10})):
            r = json.loads(s.render(j))
            print(f"  {r['id']:<13} {r['status']}  {r['error_kind']:<15} {r['error']}")
        print(f"  not JSON      {json.loads(s.render('{oops'))['error_kind']}")

        # 2. Warnings: accepted, but something was ignored or changed; the status stays success.
        r = json.loads(s.render(job("warned", variations={"wght": 1200, "wdth": 80}, variation={"wght": 1})))
        print(f"warnings ({r['status']}):")
        for w in r.get("warnings", []):
            print(f"  - {w}")

        # 3. Call APIs raise. Every haforu exception is a RuntimeError (as in haforu 2.x), and
        #    also the matching built-in type: FileNotFoundError, ValueError.
        print("exceptions from render_to_numpy:")
        cases = [
            ("missing font", lambda: s.render_to_numpy("no/such/font.ttf", "a", 48.0, 100, 100)),
            ("zero width", lambda: s.render_to_numpy(INTER, "a", 48.0, 0, 100)),
            ("bad feature", lambda: s.render_to_numpy(INTER, "a", 48.0, 100, 100, features=["li ga"])),
        ]
        if Path(BROKEN).is_file():
            cases.append(("broken font", lambda: s.render_to_numpy(BROKEN, "a", 48.0, 100, 100)))
        for name, call in cases:
            try:
                call()
            except RuntimeError as e:  # a 2.x handler still catches every haforu error
                assert isinstance(e, haforu.HaforuError)
                builtin = next(t.__name__ for t in (FileNotFoundError, ValueError, RuntimeError) if isinstance(e, t))
                print(f"  {name:<13} {type(e).__name__} (a {builtin}), kind {e.kind}: {e}")

    # 4. process_jobs refuses an invalid envelope at once with ValueError...
    for text in ('{"version": "2.0", "jobs": []}', '{"version": "1.0", "jobs": []}'):
        try:
            haforu.process_jobs(text)
        except ValueError as e:
            print(f"process_jobs({text}): ValueError: {e}")
    # ...and an argument of the wrong type with a TypeError that says what it accepts.
    try:
        haforu.process_jobs(42)  # type: ignore[arg-type]
    except TypeError as e:
        print(f"process_jobs(42): TypeError: {e}")


if __name__ == "__main__":
    main()
