//! The fuzz targets' inputs replayed as ordinary tests (the HarfBuzz pattern): every file under
//! `tests/fuzz-regressions/<target>/` (a crash `make fuzz` found, kept after the fix), then the
//! seed inputs (`make fuzz` starts from the same: the repository's fonts, broken fonts and
//! golden jobs). Each goes through fuzz/harness.rs, exactly as under cargo-fuzz.

#[path = "../../fuzz/harness.rs"]
#[allow(dead_code)]
mod harness;

use crate::common::{read_jsonl, repo};

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(repo().join(dir))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    out.retain(|p: &std::path::PathBuf| {
        p.is_file() && p.file_name().is_some_and(|n| n != "README.md")
    });
    out.sort();
    out
}

fn replay(target: &str, run: fn(&[u8])) {
    for p in files(&format!("tests/fuzz-regressions/{target}")) {
        run(&std::fs::read(&p).unwrap());
    }
}

#[test]
fn job_regressions_and_seeds() {
    replay("job", harness::job);
    for case in read_jsonl("tests/golden/raster/cases.jsonl") {
        harness::job(case.to_string().as_bytes());
    }
    for text in ["", "{", "[1,2]", "{\"id\":1}", "\u{feff}{}"] {
        harness::job(text.as_bytes());
    }
}

#[test]
fn font_regressions_and_seeds() {
    replay("font", harness::font);
    for dir in ["tests/fonts", "tests/fonts/broken"] {
        for p in files(dir) {
            if p.extension().is_none_or(|e| e != "txt") {
                harness::font(&std::fs::read(&p).unwrap());
            }
        }
    }
}

#[test]
fn render_regressions_and_seeds() {
    replay("render", harness::render);
    harness::render(b"\x00\x10\x00\x20\x10\x01\x04\x00Hamburgefonstiv");
    harness::render(b"\x03\xff\xff\xff\xff\x00\x01\xffabc");
}

#[test]
fn sweep_regressions_and_seeds() {
    replay("sweep", harness::sweep);
    for seed in SWEEP_SEEDS {
        harness::sweep(seed);
    }
}

#[test]
fn compare_regressions_and_seeds() {
    replay("compare", harness::compare);
    for seed in COMPARE_SEEDS {
        harness::compare(seed);
    }
    // A real PGM as the first image (the even first byte: an encoded file of 8 × 0x02 bytes).
    let mut pgm = b"\x00\x02P5 2 2 255\n\x00\x80\xff\x10".to_vec();
    pgm.extend_from_slice(b"\x01\x03\x02\x00\x40\x80\xc0\xff\x00");
    harness::compare(&pgm);
}

#[test]
fn resize_regressions_and_seeds() {
    replay("resize", harness::resize);
    for seed in RESIZE_SEEDS {
        harness::resize(seed);
    }
    for first in 0..6u8 {
        harness::resize(&[first, 128, 1, 3, 3, 7]);
    }
}

// The seeds `make fuzz-seeds` writes (kept equal by `seeds_match_the_makefile`).
const SWEEP_SEEDS: [&[u8]; 3] = [
    // Inter at 64 px, 200×120 metrics, 4 points (wght 100, 900, ZZZZ, "bold"): "Ag"
    b"\x00\x69\x1a\x19\x1e\x20\x40\x06\x01\x10\x38\x01\x00\x10\x04\x00\x00\x06Ag",
    // the same with a registered 8×8 target and pgm output
    b"\x00\x69\x1a\x19\x5e\x21\x40\x06\x01\x10\x38\x01\x01\x07\x07\x00\xffAg",
    // Source Sans (CFF2) with an inline (broken) PGM target
    b"\x02\x69\x1a\x04\x9e\x18\x40\x06\x01\x10\x38\x01P5 1 1 255\n\x00Hi",
];
const COMPARE_SEEDS: [&[u8]; 2] = [
    b"\x02\x01\x03\x02\x00\x40\x80\xc0\xff\x00\x01\x01\x04\x00\xff",
    b"\x01\x01\x1f\x1f\x00\xff\x01\x00\x00\x80",
];
const RESIZE_SEEDS: [&[u8]; 2] = [
    b"\x09\x80\x01\x07\x05\x00\x10\x20\x30\xff",
    b"\x09\x40\x01\x03\x03\x80",
];

#[test]
fn seeds_match_the_makefile() {
    let makefile = std::fs::read_to_string(repo().join("Makefile")).unwrap();
    for (target, seeds) in [
        ("sweep", &SWEEP_SEEDS[..]),
        ("compare", &COMPARE_SEEDS[..]),
        ("resize", &RESIZE_SEEDS[..]),
    ] {
        for (i, seed) in seeds.iter().enumerate() {
            let printf: String = seed.iter().map(|b| format!("\\x{b:02x}")).collect();
            let line = format!("printf '{printf}' > $(FUZZ_CORPUS)/{target}/seed{i}");
            assert!(makefile.contains(&line), "the Makefile lacks: {line}");
        }
    }
}
