"""Shared fixtures. The tests import the *installed* ``haforu`` (the wheel, via ``make
test-python``); ``HAFORU_WASM`` may point at another module for development."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import haforu

ROOT = Path(__file__).resolve().parents[3]
FONTS = ROOT / "tests" / "fonts"
DEJAVU = FONTS / "DejaVuSans-subset.ttf"
INTER = FONTS / "Inter-VF-subset.ttf"
ARABIC = FONTS / "NotoSansArabic-subset.ttf"
BROKEN = FONTS / "broken"


def job(
    job_id: str = "j",
    *,
    font: Any = None,
    text: str = "Hamburgefonstiv",
    size: float = 48,
    fmt: str = "raw",
    width: int = 800,
    height: int = 100,
    **extra: Any,
) -> Dict[str, Any]:
    """A SPEC job as a dict (``font`` may be a path or a full font object)."""
    font_obj = font if isinstance(font, dict) else {"path": str(font or DEJAVU), "size": size}
    j: Dict[str, Any] = {
        "id": job_id,
        "font": font_obj,
        "text": {"content": text},
        "rendering": {"format": fmt, "width": width, "height": height},
    }
    j.update(extra)
    return j


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Keep the compiled-module cache of the test run out of the user's home.
    os.environ.setdefault("HAFORU_CACHE_DIR", str(tmp_path_factory.mktemp("haforu-cache")))


@pytest.fixture()
def session() -> Iterator[haforu.StreamingSession]:
    with haforu.StreamingSession() as s:
        yield s
