//! One test per error kind and per limit: every bad input gives an error *result* with the
//! right `error_kind`, a message naming the problem and the job id, and never a panic; and a
//! bad job never disturbs the next one.

mod common;
use common::*;
use haforu::Engine;
use serde_json::{json, Value};

const FONT: &str = "tests/fonts/DejaVuSans-subset.ttf";

fn good() -> Value {
    json!({"id": "j", "font": {"path": FONT, "size": 24}, "text": {"content": "Hi"},
           "rendering": {"format": "metrics", "width": 64, "height": 32}})
}

/// Run raw job text with the test font's handle; returns the parsed result.
fn run_text(host: &mut Host, text: &str) -> Value {
    let h = host.handle(FONT);
    let out = host.engine.run_json(text.as_bytes(), 7, Some(h), false);
    let v: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(out.ok, v["status"] == "success");
    v
}

fn expect(host: &mut Host, job: &Value, kind: &str, needle: &str) {
    let r = run_text(host, &job.to_string());
    assert_eq!(r["status"], "error", "{job}: {r}");
    assert_eq!(r["error_kind"], kind, "{job}: {r}");
    let msg = r["error"].as_str().unwrap();
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    if let Some(id) = job.get("id").and_then(Value::as_str) {
        assert!(msg.contains(id), "message {msg:?} lacks the id");
        assert_eq!(r["id"], id);
    }
    // The engine is still fine.
    let ok = run_text(host, &good().to_string());
    assert_eq!(ok["status"], "success", "{ok}");
}

fn set(path: &[&str], v: Value) -> Value {
    let mut j = good();
    let mut cur = &mut j;
    for p in &path[..path.len() - 1] {
        cur = &mut cur[*p];
    }
    cur[path[path.len() - 1]] = v;
    j
}

#[test]
fn bad_json() {
    let mut host = Host::new();
    let r = run_text(&mut host, "{\"id\": \"x\", ");
    assert_eq!(r["error_kind"], "bad_json");
    assert_eq!(r["id"], "line-7");
    assert!(r["error"].as_str().unwrap().contains("invalid JSON"));
}

#[test]
fn wrong_types_and_missing_fields() {
    let mut host = Host::new();
    expect(
        &mut host,
        &set(&["font", "size"], json!("big")),
        "bad_job",
        "font.size",
    );
    expect(
        &mut host,
        &set(&["rendering", "width"], json!(-3)),
        "bad_job",
        "rendering.width",
    );
    expect(
        &mut host,
        &set(&["text"], json!("Hi")),
        "bad_job",
        "`text` must be an object",
    );
    expect(
        &mut host,
        &set(&["font", "variations"], json!([1])),
        "bad_job",
        "font.variations",
    );
    expect(
        &mut host,
        &set(&["text", "features"], json!("liga")),
        "bad_job",
        "text.features",
    );
    expect(
        &mut host,
        &set(&["text", "features"], json!(["li ga=x"])),
        "bad_job",
        "HarfBuzz syntax",
    );
    let mut j = good();
    j["rendering"].as_object_mut().unwrap().remove("height");
    expect(&mut host, &j, "bad_job", "missing field `rendering.height`");
    let mut j = good();
    j.as_object_mut().unwrap().remove("id");
    let r = run_text(&mut host, &j.to_string());
    assert_eq!(
        (r["error_kind"].as_str(), r["id"].as_str()),
        (Some("bad_job"), Some("line-7"))
    );
}

#[test]
fn unknown_format() {
    expect(
        &mut Host::new(),
        &set(&["rendering", "format"], json!("gif")),
        "bad_job",
        "`gif` is unknown",
    );
}

#[test]
fn size_zero_and_huge() {
    let mut host = Host::new();
    expect(
        &mut host,
        &set(&["font", "size"], json!(0)),
        "bad_job",
        "greater than 0",
    );
    expect(
        &mut host,
        &set(&["font", "size"], json!(-1.5)),
        "bad_job",
        "greater than 0",
    );
    expect(
        &mut host,
        &set(&["font", "size"], json!(10000.5)),
        "limit_exceeded",
        "font.size",
    );
    // The largest size is fine.
    let j = set(&["font", "size"], json!(10000));
    assert_eq!(run_text(&mut host, &j.to_string())["status"], "success");
}

#[test]
fn canvas_over_the_limit() {
    let mut host = Host::new();
    expect(
        &mut host,
        &set(&["rendering", "width"], json!(10001)),
        "limit_exceeded",
        "rendering.width",
    );
    expect(
        &mut host,
        &set(&["rendering", "width"], json!(0)),
        "bad_job",
        "at least 1",
    );
    let mut j = good();
    j["rendering"]["width"] = json!(10000);
    j["rendering"]["height"] = json!(5001);
    expect(&mut host, &j, "limit_exceeded", "50000000");
}

#[test]
fn canvas_at_the_limit_renders() {
    let mut host = Host::new();
    let mut j = good();
    j["rendering"] = json!({"format": "metrics", "width": 10000, "height": 5000});
    j["font"]["size"] = json!(2000);
    let r = run_text(&mut host, &j.to_string());
    assert_eq!(r["status"], "success", "{r}");
    assert!(r["metrics"]["density"].as_f64().unwrap() > 0.0);
}

#[test]
fn text_too_long_and_control_characters() {
    let mut host = Host::new();
    let long = "a".repeat(haforu::limits::MAX_TEXT_BYTES + 1);
    expect(
        &mut host,
        &set(&["text", "content"], json!(long)),
        "limit_exceeded",
        "10000",
    );
    let ok = "a".repeat(haforu::limits::MAX_TEXT_BYTES);
    assert_eq!(
        run_text(&mut host, &set(&["text", "content"], json!(ok)).to_string())["status"],
        "success"
    );
    expect(
        &mut host,
        &set(&["text", "content"], json!("a\u{0001}b")),
        "bad_job",
        "U+0001",
    );
    expect(
        &mut host,
        &set(&["text", "content"], json!("a\u{009B}b")),
        "bad_job",
        "U+009B",
    );
    // Controls that are whitespace (tab, newlines, U+0085 NEL) are allowed.
    let r = run_text(
        &mut host,
        &set(&["text", "content"], json!("a\tb\nc\u{0085}d")).to_string(),
    );
    assert_eq!(r["status"], "success", "{r}");
}

#[test]
fn too_many_features_and_bad_language() {
    let mut host = Host::new();
    let feats: Vec<String> = (0..65).map(|_| "kern".to_string()).collect();
    expect(
        &mut host,
        &set(&["text", "features"], json!(feats)),
        "limit_exceeded",
        "64",
    );
    expect(
        &mut host,
        &set(&["text", "language"], json!("en us")),
        "bad_job",
        "text.language",
    );
    expect(
        &mut host,
        &set(&["text", "script"], json!("Latin")),
        "bad_job",
        "ISO 15924",
    );
}

#[test]
fn missing_font() {
    let mut engine = Engine::new();
    let job = good().to_string();
    let out = engine.run_json(job.as_bytes(), 0, None, false);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "font_not_found");
    assert!(r["error"].as_str().unwrap().contains(FONT));
    assert_eq!(r["font"]["path"], FONT);
    let out = engine.run_json(job.as_bytes(), 0, Some(42), false);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "font_not_found");
    assert!(r["error"].as_str().unwrap().contains("handle 42"));
}

fn broken_font(file: &str) -> Value {
    let mut engine = Engine::new();
    let bytes = std::fs::read(repo().join("tests/fonts/broken").join(file)).unwrap();
    let h = engine.register_font(bytes).unwrap();
    let mut results = Vec::new();
    for format in ["pgm", "metrics", "glyphs"] {
        let job = with_format(&good(), format).to_string();
        let out = engine.run_json(job.as_bytes(), 0, Some(h), false);
        results.push(serde_json::from_slice::<Value>(&out.json).unwrap());
    }
    // A good font still works in the same engine afterwards.
    let good_font = engine
        .register_font(std::fs::read(repo().join(FONT)).unwrap())
        .unwrap();
    let out = engine.run_json(good().to_string().as_bytes(), 0, Some(good_font), false);
    assert!(out.ok);
    results.swap_remove(0)
}

#[test]
fn truncated_font() {
    let r = broken_font("truncated.ttf");
    assert_eq!(r["error_kind"], "font_parse", "{r}");
}

#[test]
fn random_bytes() {
    let r = broken_font("random.bin");
    assert_eq!(r["error_kind"], "font_parse", "{r}");
    assert!(r["error"].as_str().unwrap().contains("not a font"), "{r}");
}

#[test]
fn empty_font() {
    let r = broken_font("empty.ttf");
    assert_eq!(r["error_kind"], "font_parse", "{r}");
    assert!(r["error"].as_str().unwrap().contains("empty"), "{r}");
}

#[test]
fn units_per_em_zero() {
    let r = broken_font("upem0.ttf");
    assert_eq!(r["error_kind"], "font_parse", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("unitsPerEm is 0"),
        "{r}"
    );
}

#[test]
fn bit_flipped_font_gives_a_result_either_way() {
    // Flipped outline bytes: either an error result or ink; never a panic.
    let r = broken_font("bitflip.ttf");
    assert!(
        r["status"] == "success" || r["error_kind"] == "font_parse",
        "{r}"
    );
}

#[test]
fn face_index_out_of_range() {
    let mut host = Host::new();
    let mut j = good();
    j["font"]["path"] = json!("tests/fonts/Collection-subset.ttc");
    j["font"]["face_index"] = json!(2);
    let h = host.handle("tests/fonts/Collection-subset.ttc");
    let out = host
        .engine
        .run_json(j.to_string().as_bytes(), 0, Some(h), false);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "font_parse");
    assert!(r["error"].as_str().unwrap().contains("2 faces"), "{r}");
}

#[test]
fn unknown_named_instance_lists_the_available_ones() {
    let mut host = Host::new();
    let mut j = good();
    j["font"]["path"] = json!("tests/fonts/Inter-VF-subset.ttf");
    j["font"]["instance"] = json!("Heavyish");
    let h = host.handle("tests/fonts/Inter-VF-subset.ttf");
    let out = host
        .engine
        .run_json(j.to_string().as_bytes(), 0, Some(h), false);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "bad_job");
    assert!(r["error"].as_str().unwrap().contains("Bold"), "{r}");
}

#[test]
fn fuzzed_fonts_never_panic() {
    // Deterministic mutations of a real font: truncations and byte flips everywhere.
    let base = std::fs::read(repo().join(FONT)).unwrap();
    let mut engine = Engine::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let job = json!({"id": "f", "font": {"handle": 1, "size": 40},
                     "text": {"content": "Hamburgefonstiv AVA 0123"},
                     "rendering": {"format": "metrics", "width": 600, "height": 60}});
    for i in 0..300 {
        let mut bytes = base.clone();
        if i % 3 == 0 {
            bytes.truncate((next() % base.len() as u64) as usize);
        } else {
            for _ in 0..(1 + next() % 64) {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] ^= 1 << (next() % 8);
            }
        }
        let h = engine.register_font(bytes).unwrap();
        let out = engine.run_json(job.to_string().as_bytes(), 0, Some(h), false);
        let r: Value = serde_json::from_slice(&out.json).unwrap();
        assert!(
            r["status"] == "success" || r["error_kind"].is_string(),
            "{r}"
        );
        engine.drop_font(h);
    }
}

#[test]
fn batch_keeps_every_result() {
    let mut engine = Engine::new();
    let h = engine
        .register_font(std::fs::read(repo().join(FONT)).unwrap())
        .unwrap();
    let mut good_job = good();
    good_job["font"] = json!({"handle": h, "size": 24});
    let mut lines = vec![good_job.to_string(), "{nope".into(), String::new()];
    let mut bad = good_job.clone();
    bad["id"] = json!("bad");
    bad["font"]["size"] = json!(0);
    lines.push(bad.to_string());
    lines.push(good_job.to_string());
    let out = engine.run_batch(lines.join("\n").as_bytes()).unwrap();
    let results: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("j".into(), "success".into()),
            ("line-2".into(), "error".into()),
            ("bad".into(), "error".into()),
            ("j".into(), "success".into())
        ]
    );
    let err = engine
        .run_batch(br#"{"version":"2","jobs":[]}"#)
        .unwrap_err();
    let r: Value = serde_json::from_slice(&err).unwrap();
    assert_eq!(
        (r["id"].as_str(), r["error_kind"].as_str()),
        (Some("batch"), Some("bad_job"))
    );
}

#[test]
fn every_error_kind_has_a_stable_code() {
    let codes: Vec<&str> = haforu::ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        codes,
        [
            "bad_json",
            "bad_job",
            "font_not_found",
            "font_parse",
            "limit_exceeded",
            "resource_limit",
            "internal"
        ]
    );
}

#[test]
fn pathological_overlap_hits_the_work_limit_not_a_hang() {
    // 4,900 stacked zero-advance marks at 4,000 px on a 10,000 × 5,000 canvas: tens of
    // billions of pixel operations if nothing stopped them.
    let mut host = Host::new();
    let font = "tests/fonts/NotoSansArabic-subset.ttf";
    let mut j = good();
    j["font"] = json!({"path": font, "size": 4000});
    j["text"]["content"] = json!(format!("ب{}ب", "\u{0651}".repeat(4900)));
    // Without mark positioning every mark sits at the same spot.
    j["text"]["features"] = json!(["-mark", "-mkmk"]);
    j["rendering"] = json!({"format": "metrics", "width": 10000, "height": 5000});
    let h = host.handle(font);
    let out = host
        .engine
        .run_json(j.to_string().as_bytes(), 0, Some(h), false);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "limit_exceeded", "{}", r["error"]);
}
