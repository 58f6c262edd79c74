"""Build hook: put the engine (``haforu.wasm``) and the default font into the package.

Neither is committed under ``hosts/python``: the wasm comes from ``make wasm``
(``target/haforu.wasm``, or ``$HAFORU_WASM``), the font from ``src/default_font/`` of the repo.
A source tree that already holds ``src/haforu/haforu.wasm`` (e.g. an unpacked sdist) builds as is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Dict

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_FONT = "Inter-VF-Latin.ttf"


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: Dict[str, Any]) -> None:
        root = Path(self.root)
        repo = root.parent.parent
        pkg = root / "src" / "haforu"
        prefix = "haforu" if self.target_name == "wheel" else "src/haforu"

        wasm_dst = pkg / "haforu.wasm"
        wasm_src = Path(os.environ.get("HAFORU_WASM") or repo / "target" / "haforu.wasm")
        if wasm_src.is_file():
            if not wasm_dst.is_file() or wasm_src.read_bytes() != wasm_dst.read_bytes():
                shutil.copyfile(wasm_src, wasm_dst)
        elif not wasm_dst.is_file():
            raise RuntimeError(
                f"haforu.wasm not found at {wasm_src}: run `make wasm` at the repository root first"
            )
        # The file is git-ignored, so include it explicitly.
        build_data["force_include"][str(wasm_dst)] = f"{prefix}/haforu.wasm"

        font_dir = pkg / "default_font"
        for src in (repo / "src" / "default_font").glob("*"):
            if src.is_file() and src.suffix.lower() in {".ttf", ".otf", ".txt", ".md"}:
                font_dir.mkdir(exist_ok=True)
                if not (font_dir / src.name).is_file() or (font_dir / src.name).read_bytes() != src.read_bytes():
                    shutil.copyfile(src, font_dir / src.name)
        for f in font_dir.glob("*") if font_dir.is_dir() else []:
            build_data["force_include"][str(f)] = f"{prefix}/default_font/{f.name}"
