//! What each fuzz target does with its input, shared by the cargo-fuzz targets (fuzz/) and by
//! the regression replay in `cargo test` (tests/reference/fuzz_regressions.rs), which includes
//! this file. Every input must come back as a result the engine wrote (JSON that parses, an
//! error of a known kind), never a panic, a hang or unbounded memory.

use haforu::{Engine, Output, RunOptions};

/// The fonts a render input may pick: the bundled Inter (variable, TrueType) and the test
/// fonts of other kinds (CFF, CFF2, Arabic).
pub const FONTS: [&[u8]; 4] = [
    haforu::DEFAULT_FONT,
    include_bytes!("../tests/fonts/EBGaramond12-subset.otf"),
    include_bytes!("../tests/fonts/SourceSans3VF-subset.otf"),
    include_bytes!("../tests/fonts/NotoSansArabic-subset.ttf"),
];

/// The answer is one JSON object with a status, and an error has a known kind.
fn check(out: &Output) {
    let v: serde_json::Value = serde_json::from_slice(&out.json)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.json)));
    if !out.is_ok() {
        let kind = v["error_kind"].as_str().or(v["needs"].as_str());
        assert!(kind.is_some(), "an answer without a kind: {v}");
    }
}

/// `job`: the input is one job's JSON text, validated and run with the bundled font as the
/// handle (fonts named by path answer *needs font*; `font.data` is decoded).
pub fn job(data: &[u8]) {
    let mut engine = Engine::new();
    let h = engine.register_font(haforu::DEFAULT_FONT.to_vec()).unwrap();
    let mut out = Output::default();
    let opts = RunOptions {
        data_out_of_band: true,
        ..RunOptions::default()
    };
    engine.validate_json(data, 1, Some(h), opts, &mut out);
    check(&out);
    engine.run_json_with(data, 1, Some(h), opts, &mut out);
    check(&out);
    engine.run_json_with(data, 1, None, RunOptions::default(), &mut out);
    check(&out);
}

/// `font`: the input is a font file: registered, its info read, and a short text rendered.
pub fn font(data: &[u8]) {
    let mut engine = Engine::new();
    let Ok(h) = engine.register_font(data.to_vec()) else {
        return;
    };
    let _ = engine.font_info_json(h, 0);
    for text in ["Hamburgefonstiv", "نص حكيم", "A\u{301}fi"] {
        let job = serde_json::json!({
            "id": "f", "font": {"size": 40}, "text": {"content": text},
            "rendering": {"format": "pgm", "width": 300, "height": 60},
        });
        let out = engine.run_json(job.to_string().as_bytes(), 0, Some(h), true);
        check(&out);
    }
}

/// `render`: the first bytes choose a font, size (up to 10,000 px), canvas, format,
/// direction, an axis value and features; the rest is the text.
pub fn render(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let (head, rest) = data.split_at(8);
    let font = FONTS[head[0] as usize % FONTS.len()];
    let size = 1.0 + (u16::from_le_bytes([head[1], head[2]]) as f64) * 10_000.0 / 65_535.0;
    let width = 1 + (head[3] as u32) * 12;
    let height = 1 + (head[4] as u32) * 5;
    let format = ["metrics", "pgm", "png", "raw", "glyphs"][head[5] as usize % 5];
    let direction = ["ltr", "rtl", "ttb", "btt", "auto"][head[6] as usize % 5];
    let wght = 50.0 + head[7] as f64 * 4.0;
    let features = ["liga", "-kern", "ss01", "smcp=1", "frac"];
    let picked: Vec<&str> = features
        .iter()
        .enumerate()
        .filter(|(i, _)| head[7] >> (i + 3) & 1 == 1)
        .map(|(_, f)| *f)
        .collect();
    let text: String = String::from_utf8_lossy(rest).chars().take(64).collect();
    let mut text_obj = serde_json::json!({"content": text, "features": picked});
    if direction != "auto" {
        text_obj["direction"] = direction.into();
    }
    let job = serde_json::json!({
        "id": "r", "font": {"size": size, "variations": {"wght": wght}},
        "text": text_obj,
        "rendering": {"format": format, "width": width, "height": height},
    });
    let mut engine = Engine::new();
    let h = engine.register_font(font.to_vec()).unwrap();
    let out = engine.run_json(job.to_string().as_bytes(), 0, Some(h), true);
    check(&out);
}
