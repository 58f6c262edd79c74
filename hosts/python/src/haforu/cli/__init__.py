"""``python -m haforu``: batch, stream, render, validate, info, compare, diagnostics, version.

The same subcommands, flags and exit codes as the Rust ``haforu`` CLI (hosts/cli/README.md,
"Flags" and "Exit codes"); haforu 2.x and hb-view spellings are accepted as aliases.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from .common import (
    EXIT_CODE_HELP, EXIT_ENGINE, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, OutputError, UsageError, _err,
)
from .inspect import _version_line, cmd_compare, cmd_diagnostics, cmd_info, cmd_version
from .jobs import cmd_batch, cmd_stream, cmd_validate
from .render import cmd_render

_DESCRIPTION = __doc__

# -- the parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2 (argparse's own code), with the message on stderr."""


def _engine_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sandbox and caches")
    g.add_argument("--memory-mb", "--memory-limit-mb", dest="memory_mb", type=int, default=512, metavar="MIB",
                   help="linear-memory cap per engine instance, MiB (default 512)")
    g.add_argument("--timeout-ms", type=int, default=10_000, metavar="MS",
                   help="deadline per job in ms, 0 = none (default 10000)")
    g.add_argument("--max-fonts", type=int, default=512, metavar="N",
                   help="fonts kept registered per engine instance (default 512)")
    g.add_argument("--max-glyphs", type=int, default=None, metavar="N",
                   help="glyph cache capacity per engine instance, in glyphs; 0 = off (default: byte budget only)")


def _input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", default=None, metavar="FILE", help="input file, or - for stdin (the default)")
    p.add_argument("-i", "--input", dest="input_flag", metavar="FILE", help="the same as FILE (haforu 2.x spelling)")


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", "--output-file", dest="output", metavar="FILE",
                   help="write results to FILE instead of stdout")
    p.add_argument("--base-dir", metavar="DIR", help="resolve font.path against DIR and refuse paths outside it")


def _jobs_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", "-w", "--workers", dest="jobs", type=int, metavar="N",
                   help="worker threads, each with its own engine instance (0 or default: number of cores)")


def _outcome_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if any job gave an error result (default: 0 once the input was processed)")
    p.add_argument("--stats", action="store_true", help="print one JSON line of totals to stderr at the end")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="python -m haforu", description=_DESCRIPTION, epilog=EXIT_CODE_HELP, formatter_class=fmt)
    parser.add_argument("-V", "--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("batch", help="run a job list (batch object or JSONL); print one result per line",
                       epilog=EXIT_CODE_HELP, formatter_class=fmt)
    _input_args(p)
    _run_args(p)
    _jobs_arg(p)
    p.add_argument("--ordered", action="store_true",
                   help="print results in input order (runs on one worker; default: as they complete)")
    _outcome_args(p)
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--no-progress", "--quiet", "-q", dest="no_progress", action="store_true",
                       help="never draw the progress bar (it is drawn only when stderr is a terminal)")
    shown.add_argument("--progress", action="store_true",
                       help="draw the progress bar even when stderr is not a terminal (one line per second)")
    _engine_args(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("stream", help="one job per input line, one result per output line, flushed per line",
                       epilog=EXIT_CODE_HELP, formatter_class=fmt)
    _input_args(p)
    _run_args(p)
    _outcome_args(p)
    _engine_args(p)
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("render", help="render one text to an image (format from -o's extension, PNG by default) "
                       "or print its metrics or glyphs", epilog=EXIT_CODE_HELP, formatter_class=fmt)
    p.add_argument("-t", "--text", help="the text to render (or give it as TEXT)")
    p.add_argument("text_arg", nargs="?", metavar="TEXT", help="the text to render, as a plain argument")
    p.add_argument("-f", "--font", "--font-file", dest="font", metavar="FILE",
                   help="font file (.ttf, .otf, .ttc); default: the bundled Inter")
    p.add_argument("-s", "--size", "--font-size", dest="size", type=float, default=48.0, help="pixels per em (default 48)")
    p.add_argument("--variations", "--var", dest="variations", action="append", default=[], metavar="TAG=VALUE,...",
                   help="axis coordinates, e.g. wght=700,wdth=90")
    p.add_argument("--instance", help="named instance (fvar subfamily name), applied before --variations")
    p.add_argument("--features", metavar="FEATURE,...", help="OpenType features in HarfBuzz syntax, e.g. -liga,ss01")
    p.add_argument("--script", help="ISO 15924 script tag (default: from the text)")
    p.add_argument("--language", help="BCP 47 language tag")
    p.add_argument("--direction", help="ltr, rtl, ttb or btt (default: from the text)")
    p.add_argument("--face-index", type=int, default=0, help="face index inside a collection")
    p.add_argument("--width", type=int, help="canvas width (default: fitted to the ink)")
    p.add_argument("--height", type=int, help="canvas height (default: 4/3 of the size, baseline at 3/4 of it)")
    p.add_argument("--format", help="png, pgm, raw, metrics or glyphs (default: from the extension of -o, else png)")
    p.add_argument("-o", "--output", "--output-file", dest="output", metavar="FILE",
                   help="output file: .png, .pgm, .raw or .json (metrics; glyphs with --format glyphs); default: stdout")
    p.add_argument("--json", action="store_true", help="also print the result JSON (without image data) to stderr")
    p.add_argument("--base-dir", metavar="DIR", help="resolve -f against DIR and refuse a path that leads outside it")
    p.add_argument("--compare", metavar="TARGET",
                   help="compare the render with this PGM/PNG image in the engine and print the result JSON, which "
                   "holds the comparison, on stdout (the image itself goes only to -o; without -o and --format the "
                   "format is metrics)")
    p.add_argument("--method", choices=["center", "corner"], default=None,
                   help="alignment for --compare: center (default) or corner")
    _engine_args(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("validate", help="check a job list without rendering: one {\"id\",\"valid\",...} line per "
                       "job, with the job's warnings", epilog=EXIT_CODE_HELP, formatter_class=fmt)
    _input_args(p)
    _run_args(p)
    _jobs_arg(p)
    _engine_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("info", help="print a font's metadata (names, metrics, axes, named instances, features, "
                       "coverage): the engine's font info JSON, pretty-printed, or text", epilog=EXIT_CODE_HELP,
                       formatter_class=fmt)
    p.add_argument("font", metavar="FONT", help="font file (.ttf, .otf, .ttc)")
    p.add_argument("--face-index", type=int, default=0, metavar="N", help="face index inside a collection")
    p.add_argument("--format", choices=["json", "text"], default="json",
                   help="json (the default: the engine's font info, pretty-printed) or text (a summary)")
    _engine_args(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("compare", help="compare two PGM/PNG images in the engine (pixel delta, densities, "
                       "aspects, IoU, ...); print the comparison JSON", epilog=EXIT_CODE_HELP, formatter_class=fmt)
    p.add_argument("a", metavar="A", help="image a: a binary PGM (P5) or grayscale PNG file (0 = ink)")
    p.add_argument("b", metavar="B", help="image b, compared with a")
    p.add_argument("--method", choices=["center", "corner"], default="center",
                   help="alignment on the max(W)xmax(H) canvas: center (default) or corner")
    _engine_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("diagnostics", help="print the engine's version, ABI version, limits and cache state",
                       epilog=EXIT_CODE_HELP, formatter_class=fmt)
    p.add_argument("--format", choices=["json", "text"], default="json", help="json (the default) or text")
    _engine_args(p)
    p.set_defaults(func=cmd_diagnostics)

    p = sub.add_parser("version", help="print the version (the same as --version)")
    p.set_defaults(func=cmd_version)
    return parser


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the flush at exit says nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.version and args.command is None:
            print(_version_line())
            rc = EXIT_OK
        elif args.command is None:
            parser.print_usage(sys.stderr)
            _err("a command is required (batch, stream, render, validate, info, compare, diagnostics, version)")
            return EXIT_USAGE
        else:
            rc = args.func(args)
        sys.stdout.flush()
        return int(rc)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except OutputError as exc:
        _err(str(exc))
        return EXIT_OUTPUT
    except (ValueError, TypeError) as exc:  # an option value the engine refused
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the engine could not be loaded or started
        _err(f"the engine failed: {type(exc).__name__}: {exc}")
        return EXIT_ENGINE
