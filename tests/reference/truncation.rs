//! Real fonts cut short (tests/golden/truncation/cases.json, FreeType's verdict written by
//! tests/tools/make_truncations.py): where FreeType fails, the engine answers `font_parse`;
//! where FreeType renders, the engine renders the same ink (within 1.5 %), never a blank
//! success; except that a required table cut short is `font_parse` naming it even where
//! FreeType clamps it and renders (`required_cut`).

use crate::backend::{Backend, Runner};
use crate::common::repo;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
struct Case {
    font: String,
    cut: usize,
    text: String,
    size: f64,
    freetype: String,
    ink: Option<f64>,
    why: Option<String>,
    required_cut: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(repo().join("tests/golden/truncation/cases.json"))
        .expect("tests/golden/truncation/cases.json");
    serde_json::from_str(&text).expect("cases.json")
}

fn check(backend: Backend) {
    let mut runner = Runner::new(backend);
    let mut fonts: HashMap<String, Vec<u8>> = HashMap::new();
    let mut wrong = Vec::new();
    let all = cases();
    assert!(all.len() >= 80, "{} cases", all.len());
    for c in &all {
        let whole = fonts
            .entry(c.font.clone())
            .or_insert_with(|| std::fs::read(repo().join(&c.font)).unwrap());
        let h = runner.register(&whole[..c.cut]);
        let (w, hgt) = (40 * c.text.chars().count() as u32, (3.0 * c.size) as u32);
        let job = json!({
            "id": "cut", "font": {"size": c.size}, "text": {"content": c.text},
            "rendering": {"format": "metrics", "width": w, "height": hgt},
        });
        let a = runner.run_text(job.to_string().as_bytes(), 0, h, 0);
        runner.drop_font(h);
        let r: Value = serde_json::from_slice(&a.json).unwrap();
        let label = format!("{} cut at {} of {} bytes", c.font, c.cut, whole.len());
        if let Some(table) = &c.required_cut {
            let msg = r["error"].as_str().unwrap_or("");
            if r["error_kind"] != "font_parse" || !msg.contains(&format!("the {table} table")) {
                wrong.push(format!(
                    "{label}: the {table} table is cut short, the engine says {r}"
                ));
            }
            continue;
        }
        match c.freetype.as_str() {
            "fails" => {
                if r["error_kind"] != "font_parse" {
                    wrong.push(format!(
                        "{label}: FreeType fails ({}), the engine says {r}",
                        c.why.as_deref().unwrap_or("")
                    ));
                }
            }
            _ => {
                let want = c.ink.expect("ink");
                let density = r["metrics"]["density"].as_f64();
                let ink = density.map(|d| d * w as f64 * hgt as f64);
                match ink {
                    Some(ink) if (ink - want).abs() <= 0.015 * want => {}
                    _ => wrong.push(format!(
                        "{label}: FreeType renders ink {want}, the engine {ink:?}: {r}"
                    )),
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cuts disagree with FreeType:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
}

#[test]
fn native() {
    check(Backend::Native)
}

#[test]
fn wasm() {
    check(Backend::Wasm)
}
