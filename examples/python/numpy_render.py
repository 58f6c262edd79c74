"""Render straight into numpy arrays with StreamingSession.render_to_numpy, and read ink metrics.

Run from anywhere after installing the package (hosts/python/README.md, "Install"):

    python examples/python/numpy_render.py

Uses only the repository's test fonts. Prints the word as ASCII art, array properties, and how
the weight axis and OpenType features change the ink.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import haforu

FONTS = Path(__file__).resolve().parents[2] / "tests" / "fonts"
INTER = str(FONTS / "Inter-VF-subset.ttf")
GARAMOND = str(FONTS / "EBGaramond12-subset.otf")


def ascii_art(img: "np.ndarray") -> str:
    """0 = full ink, 255 = paper; darker pixels get denser characters."""
    ramp = " .:-=+*#%@"
    ink = 255 - img.astype(np.int32)
    rows = ["".join(ramp[v * (len(ramp) - 1) // 255] for v in row).rstrip() for row in ink]
    while rows and not rows[0]:
        rows.pop(0)
    while rows and not rows[-1]:
        rows.pop()
    return "\n".join(rows)


def main() -> None:
    with haforu.StreamingSession() as s:
        # The haforu 2.x positional order: font_path, text, size, width, height, variations,
        # script, direction, language.
        img = s.render_to_numpy(INTER, "numpy", 22.0, 80, 24, {"wght": 800}, "Latn", "ltr", "en")
        print(f"shape {img.shape}, dtype {img.dtype}, C-contiguous {img.flags['C_CONTIGUOUS']}, "
              f"min {img.min()}, max {img.max()}")
        print(ascii_art(img))

        # Ink coverage across the weight axis, from the pixels and from metrics().
        print(f"{'wght':>5} {'coverage':>9} {'metrics.density':>16}")
        for w in (100, 400, 700, 900):
            px = s.render_to_numpy(INTER, "Hamburgefonstiv", 48.0, 600, 80, {"wght": w})
            coverage = float((255 - px.astype(np.int64)).sum()) / (255 * px.size)
            m = s.metrics(INTER, "Hamburgefonstiv", 48.0, 600, 80, {"wght": w})
            print(f"{w:>5} {coverage:>9.5f} {m.density:>16.5f}")

        # Keyword-only extras: OpenType features (HarfBuzz syntax), named instances, font bytes.
        liga = s.metrics(GARAMOND, "office", 72.0, 400, 100)
        no_liga = s.metrics(GARAMOND, "office", 72.0, 400, 100, features=["-liga"])
        print(f"EB Garamond 'office' ink width: with ligatures {liga.bbox[2]} px, without {no_liga.bbox[2]} px")
        bold = s.render_to_numpy(INTER, "Bold", 48.0, 160, 64, instance="Bold")
        same = s.render_to_numpy(None, "Bold", 48.0, 160, 64, instance="Bold",
                                 font_bytes=Path(INTER).read_bytes())
        print(f"named instance 'Bold' from a path and from bytes identical: {np.array_equal(bold, same)}")


if __name__ == "__main__":
    main()
