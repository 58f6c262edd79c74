"""Bare font file names (``"DejaVuSans.ttf"``, no folder) found in the usual font folders, as
Pillow's ``ImageFont.truetype`` finds them. The Python host only, and only as a fallback: a
name that exists relative to the working directory is that file, a session with ``base_dir``
never looks outside it, and the CLI hosts (``haforu``, ``python -m haforu``) and the server
never search."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Dict, List, Optional, Set, Tuple

__all__ = ["font_dirs", "find_font"]

#: File name extensions of fonts, for a name given without one (``"DejaVuSans"``).
_FONT_EXTS = (".ttf", ".otf", ".ttc", ".otc")
#: A name missing from the index is looked for again (the folders walked anew) at most this often.
_REWALK_S = 10.0

_lock = threading.Lock()
_dirs: Tuple[str, ...] = ()
_names: Dict[str, str] = {}
_stems: Dict[str, List[str]] = {}
_walked_at = float("-inf")


def font_dirs() -> List[str]:
    """The folders searched for a bare font file name, in order (each recursively; missing ones
    are skipped): ``$HAFORU_FONT_DIRS`` (``os.pathsep``-separated), then the user's folders
    (``$XDG_DATA_HOME/fonts`` or ``~/.local/share/fonts``, ``~/.fonts``, macOS
    ``~/Library/Fonts``, Windows ``%LOCALAPPDATA%\\Microsoft\\Windows\\Fonts``), then the
    system's (``$XDG_DATA_DIRS``'s ``fonts``, ``/usr/local/share/fonts``, ``/usr/share/fonts``,
    ``/Library/Fonts``, ``/System/Library/Fonts``, ``%WINDIR%\\Fonts``)."""
    env = os.environ
    home = os.path.expanduser("~")
    dirs: List[str] = [d for d in env.get("HAFORU_FONT_DIRS", "").split(os.pathsep) if d]
    data_home = env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    dirs += [os.path.join(data_home, "fonts"), os.path.join(home, ".fonts"), os.path.join(home, "Library", "Fonts")]
    local = env.get("LOCALAPPDATA")
    if local:
        dirs.append(os.path.join(local, "Microsoft", "Windows", "Fonts"))
    data_dirs = env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    dirs += [os.path.join(d, "fonts") for d in data_dirs.split(":") if d]
    dirs += ["/usr/local/share/fonts", "/usr/share/fonts", "/Library/Fonts", "/System/Library/Fonts"]
    windir = env.get("WINDIR") or env.get("SystemRoot")
    if windir:
        dirs.append(os.path.join(windir, "Fonts"))
    seen: Set[str] = set()
    out = []
    for d in dirs:
        key = os.path.normcase(os.path.normpath(d))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def is_bare_name(name: str) -> bool:
    """A file name with no folder part (and not ``.``/``..``)."""
    head, tail = os.path.split(name)
    return not head and tail == name and name not in (".", "..") and not (sys.platform == "win32" and ":" in name)


def find_font(name: str) -> Optional[str]:
    """The path of the font file called ``name`` in :func:`font_dirs` (the first folder that has
    it; inside one folder, the first in sorted walk order), or None. A name without an extension
    also matches ``name.ttf`` (preferred), ``.otf``, ``.ttc`` or ``.otc``. Only bare names are
    looked for; the folders are walked once and remembered (walked again for a name not found,
    at most every 10 s, or when the folder list changes)."""
    if not is_bare_name(name):
        return None
    dirs = tuple(font_dirs())
    global _walked_at
    with _lock:
        if dirs == _dirs:
            hit = _lookup(name)
            if hit is not None:
                return hit
            if time.monotonic() - _walked_at < _REWALK_S:
                return None
        _walk(dirs)
        _walked_at = time.monotonic()
        return _lookup(name)


def _lookup(name: str) -> Optional[str]:
    path = _names.get(name)
    if path is None and not os.path.splitext(name)[1]:
        candidates = _stems.get(name, [])
        path = next((p for p in candidates if p.lower().endswith(".ttf")), candidates[0] if candidates else None)
    if path is not None and os.path.isfile(path):
        return path
    return None


def _walk(dirs: Tuple[str, ...]) -> None:
    """Index every file under ``dirs`` by name (the first one of each name wins)."""
    global _dirs, _names, _stems
    names: Dict[str, str] = {}
    stems: Dict[str, List[str]] = {}
    visited: Set[Tuple[int, int]] = set()
    for top in dirs:
        if not os.path.isdir(top):
            continue
        for root, subdirs, files in os.walk(top, followlinks=True):
            try:
                st = os.stat(root)
            except OSError:
                subdirs[:] = []
                continue
            if (st.st_dev, st.st_ino) in visited:  # a link loop, or a folder listed twice
                subdirs[:] = []
                continue
            visited.add((st.st_dev, st.st_ino))
            subdirs.sort()
            for f in sorted(files):
                path = os.path.join(root, f)
                names.setdefault(f, path)
                stem, ext = os.path.splitext(f)
                if ext.lower() in _FONT_EXTS:
                    stems.setdefault(stem, []).append(path)
    _dirs, _names, _stems = dirs, names, stems
