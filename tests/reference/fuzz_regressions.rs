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
