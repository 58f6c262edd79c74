//! The per-job work budgets of `src/limits.rs`, on both backends (native and haforu.wasm):
//! each one a hostile glyph or lookup of `tests/fonts/limits/budgets.ttf` (made by
//! `tests/tools/make_fonts.py`) breaks, answered with `limit_exceeded` naming the budget and
//! the glyph, and the engine fine afterwards. The independent verdicts, from FreeType
//! (freetype-py 2.5, FreeType 2.13) and HarfBuzz (uharfbuzz 0.51): FreeType fails to load the
//! self-referencing, fanned-out and 80,000-point composites too; HarfBuzz reports both
//! pathological lookups as an unsuccessful buffer (uharfbuzz raises `MemoryError`). FreeType
//! loads the 70-deep chain (its nesting bound is higher than skrifa's and HarfBuzz's 64) and
//! the 3-million-segment and 7-million-cell glyphs (it has no work budget).

use crate::backend::{Backend, Runner};
use haforu::limits;
use serde_json::{json, Value};

const FONT: &str = "tests/fonts/limits/budgets.ttf";

fn run(r: &mut Runner, text: &str, size: f64, width: u32, height: u32) -> Value {
    let job = json!({"id": "b", "font": {"path": FONT, "size": size},
                     "text": {"content": text},
                     "rendering": {"format": "metrics", "width": width, "height": height}});
    r.run(&job, 0).value()
}

/// `text` fails with `limit_exceeded` and a message holding every needle; then "H" renders.
fn over(backend: Backend, text: &str, size: f64, canvas: (u32, u32), needles: &[&str]) {
    let mut r = Runner::new(backend);
    let v = run(&mut r, text, size, canvas.0, canvas.1);
    assert_eq!(v["status"], "error", "{backend:?} {text:?}: {v}");
    assert_eq!(
        v["error_kind"], "limit_exceeded",
        "{backend:?} {text:?}: {v}"
    );
    let msg = v["error"].as_str().unwrap();
    assert!(msg.starts_with("job `b`: "), "{msg}");
    for n in needles {
        assert!(msg.contains(n), "{backend:?}: {msg:?} lacks {n:?}");
    }
    let ok = run(&mut r, "H", 40.0, 64, 48);
    assert_eq!(ok["status"], "success", "{backend:?}: {ok}");
}

fn both(check: impl Fn(Backend)) {
    check(Backend::Native);
    check(Backend::Wasm);
}

#[test]
fn the_budgets_constants_match_skrifa_and_harfrust() {
    assert_eq!(limits::MAX_COMPOSITE_DEPTH, 64);
    assert_eq!(limits::MAX_COMPOSITE_COMPONENTS, 2048);
    assert_eq!(limits::MAX_OUTLINE_POINTS, 65536);
    assert_eq!(limits::MAX_LOOKUP_NESTING, 64);
}

#[test]
fn a_composite_chain_deeper_than_the_budget() {
    // U+E000: deep0 → deep1 → … → deep69 → H; glyph 367 is deep0.
    both(|b| {
        over(
            b,
            "\u{E000}",
            40.0,
            (64, 48),
            &[
                "glyph 367: composite components nested more than 64 deep",
                "the limit is 64 (MAX_COMPOSITE_DEPTH)",
            ],
        )
    });
}

#[test]
fn a_composite_chain_within_the_budget_renders_like_its_leaf() {
    // U+E001: a 60-deep chain of zero-offset components ending in "H" (FreeType draws it
    // exactly as "H").
    both(|b| {
        let mut r = Runner::new(b);
        let chain = run(&mut r, "\u{E001}", 40.0, 64, 48);
        let h = run(&mut r, "H", 40.0, 64, 48);
        assert_eq!(chain["status"], "success", "{b:?}: {chain}");
        assert!(chain["metrics"]["density"].as_f64().unwrap() > 0.0);
        assert_eq!(chain["metrics"], h["metrics"], "{b:?}");
    });
}

#[test]
fn a_composite_that_is_its_own_component() {
    both(|b| {
        over(
            b,
            "\u{E002}",
            40.0,
            (64, 48),
            &[
                "glyph 497: composite components nested without end (glyph 497 is a component of itself)",
                "(MAX_COMPOSITE_DEPTH)",
            ],
        )
    });
}

#[test]
fn a_composite_fanning_out_past_the_component_budget() {
    // 64 components of 64 components: 4,160 references.
    both(|b| {
        over(
            b,
            "\u{E003}",
            40.0,
            (64, 48),
            &[
                "glyph 498: more than 2048 composite components",
                "the limit is 2048 (MAX_COMPOSITE_COMPONENTS)",
            ],
        )
    });
}

#[test]
fn a_composite_over_the_point_budget() {
    // 40 copies of a 2,000-point glyph.
    both(|b| {
        over(
            b,
            "\u{E004}",
            40.0,
            (64, 48),
            &[
                "glyph 501: more than 65536 outline points",
                "the limit is 65536 (MAX_OUTLINE_POINTS)",
            ],
        )
    });
}

#[test]
fn an_outline_over_the_segment_budget() {
    // 12,000 curves, each capped at MAX_SEGMENTS_PER_CURVE (256) segments at 10,000 px.
    both(|b| {
        over(
            b,
            "\u{E005}",
            10_000.0,
            (100, 100),
            &[
                "glyph 502: more than 2000000 outline segments",
                "the limit is 2000000 (MAX_SEGMENTS_PER_GLYPH)",
            ],
        )
    });
}

#[test]
fn the_segment_glyph_renders_at_a_small_size() {
    // The same outline at 20 px wants far fewer segments per curve: within budget.
    both(|b| {
        let mut r = Runner::new(b);
        let v = run(&mut r, "\u{E005}", 20.0, 64, 48);
        assert_eq!(v["status"], "success", "{b:?}: {v}");
    });
}

#[test]
fn an_outline_over_the_raster_cell_budget() {
    // 2,000 edges each crossing ~3,750 rows of the canvas.
    both(|b| {
        over(
            b,
            "\u{E006}",
            10_000.0,
            (10_000, 5_000),
            &[
                "glyph 503: more than 4000000 raster cells",
                "the limit is 4000000 (MAX_CELLS_PER_GLYPH)",
            ],
        )
    });
}

#[test]
fn lookups_over_harfrusts_operation_budget() {
    // "1": a contextual lookup applying four lookups that each apply four …, 12 levels.
    both(|b| {
        over(
            b,
            "1",
            40.0,
            (64, 48),
            &[
                "shaping text.content: the font's GSUB/GPOS lookups need more than 65536 operations",
                "65536 operations (SHAPING_OPS_PER_CHAR × 1 characters, at least MIN_SHAPING_OPS)",
                "64 nested lookups (MAX_LOOKUP_NESTING)",
            ],
        )
    });
}

#[test]
fn lookups_nested_past_harfrusts_budget() {
    // "2": 70 contextual lookups, each applying the next.
    both(|b| {
        over(
            b,
            "a2",
            40.0,
            (64, 48),
            &["shaping text.content", "(MAX_LOOKUP_NESTING)"],
        )
    });
}

#[test]
fn glyph_pixels_over_the_job_budget() {
    // 4,900 stacked zero-advance marks at 4,000 px on a 10,000 × 5,000 canvas: tens of
    // billions of pixel operations if nothing stopped them.
    both(|b| {
        let mut r = Runner::new(b);
        let job = json!({"id": "px", "font": {"path": crate::fonts::NOTO_ARABIC, "size": 4000},
                         "text": {"content": format!("ب{}ب", "\u{0651}".repeat(4900)),
                                  "features": ["-mark", "-mkmk"]},
                         "rendering": {"format": "metrics", "width": 10000, "height": 5000}});
        let v = r.run(&job, 0).value();
        assert_eq!(v["error_kind"], "limit_exceeded", "{b:?}: {v}");
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.contains("the job's glyphs: at least ")
                && msg.contains("pixels to rasterise and composite")
                && msg.contains("the limit is 2000000000 (MAX_RASTER_PIXELS_PER_JOB)"),
            "{b:?}: {msg}"
        );
    });
}

#[test]
fn the_rest_of_the_font_renders() {
    both(|b| {
        let mut r = Runner::new(b);
        let v = run(&mut r, "Hamburgefonstiv 0345", 30.0, 400, 48);
        assert_eq!(v["status"], "success", "{b:?}: {v}");
        assert!(v["metrics"]["density"].as_f64().unwrap() > 0.01);
    });
}

#[test]
fn haforu_info_lists_every_budget() {
    let info = haforu::limits_json();
    for key in [
        "max_segments_per_glyph",
        "max_segments_per_curve",
        "max_cells_per_glyph",
        "max_composite_depth",
        "max_composite_components",
        "max_outline_points",
        "shaping_ops_per_char",
        "min_shaping_ops",
        "shaped_glyphs_per_char",
        "min_shaped_glyphs",
        "max_lookup_nesting",
        "max_raster_pixels_per_job",
    ] {
        assert!(
            info[key].is_number(),
            "haforu_info limits lack {key}: {info}"
        );
    }
}
