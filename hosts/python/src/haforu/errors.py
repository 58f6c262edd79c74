"""Exceptions raised by the native-call APIs, each carrying the SPEC's stable ``error_kind``.

JSON APIs (``process_jobs``, ``StreamingSession.render``) never raise for a bad job: they return an
error result. The call-style APIs (``render_to_numpy``, ``metrics``) raise one of these instead.

Every one of them is a ``RuntimeError`` (what haforu 2.x raised, so ``except RuntimeError:``
handlers written for 2.x keep catching them); ``InvalidJobError`` is also a ``ValueError`` and
``FontNotFoundError`` a ``FileNotFoundError`` (an ``OSError``).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Type

__all__ = [
    "HaforuError",
    "FontNotFoundError",
    "InvalidJobError",
    "RenderError",
    "error_for_kind",
]


class HaforuError(RuntimeError):
    """Base class of every haforu error; ``kind`` is the SPEC ``error_kind`` code. A
    ``RuntimeError``, as haforu 2.x's errors were."""

    kind: str
    job_id: Optional[str]
    font_path: Optional[str]
    #: The engine's error result (JSON text) this error was made from, when there is one.
    result: Optional[str] = None

    def __init__(
        self,
        message: str,
        kind: str = "internal",
        *,
        job_id: Optional[str] = None,
        font_path: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.job_id = job_id
        self.font_path = font_path

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.kind

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        # Rebuilt through the constructor with every field, so that the error survives pickling
        # also where tblib patches exception pickling (every process that imports ``distributed``
        # does), which cannot rebuild ``FontNotFoundError`` (an ``OSError``) from its own state.
        return (_rebuild, (type(self), str(self), self.kind, self.job_id, self.font_path, self.result))


class FontNotFoundError(HaforuError, FileNotFoundError):
    """The font file does not exist, is unreadable or lies outside ``base_dir`` (kind ``font_not_found``)."""


class InvalidJobError(HaforuError, ValueError):
    """The job is malformed or breaks a limit (kinds ``bad_json``, ``bad_job``, ``limit_exceeded``)."""


class RenderError(HaforuError):
    """The job was valid but could not be rendered (``font_parse``, ``resource_limit``, ``internal``...)."""


_INVALID_KINDS = frozenset({"bad_json", "bad_job", "limit_exceeded"})


def error_for_kind(
    kind: str,
    message: str,
    *,
    job_id: Optional[str] = None,
    font_path: Optional[str] = None,
) -> HaforuError:
    """Build the exception class that matches ``kind`` (unknown kinds become ``RenderError``)."""
    if kind == "font_not_found":
        return FontNotFoundError(message, kind, job_id=job_id, font_path=font_path)
    if kind in _INVALID_KINDS:
        return InvalidJobError(message, kind, job_id=job_id, font_path=font_path)
    return RenderError(message, kind, job_id=job_id, font_path=font_path)


def _rebuild(cls: Type[HaforuError], message: str, kind: str, job_id: Optional[str], font_path: Optional[str],
             result: Optional[str]) -> HaforuError:
    err = cls(message, kind, job_id=job_id, font_path=font_path)
    if result is not None:
        err.result = result
    return err
