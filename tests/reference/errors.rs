//! One test per error kind and per limit: every bad input gives an error *result* with the
//! right `error_kind`, a message naming the problem and the job id, and never a panic; and a
//! bad job never disturbs the next one.

use crate::common::*;
use crate::fonts::{DEJAVU as FONT, NOTO_ARABIC};
use haforu::Engine;
use serde_json::{json, Value};

fn good() -> Value {
    json!({"id": "j", "font": {"path": FONT, "size": 24}, "text": {"content": "Hi"},
           "rendering": {"format": "metrics", "width": 64, "height": 32}})
}

/// Run raw job text with the test font's handle; returns the parsed result.
fn run_text(host: &mut Host, text: &str) -> Value {
    let h = host.handle(FONT);
    let out = host.engine.run_json(text.as_bytes(), 7, Some(h), false);
    let v: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(out.is_ok(), v["status"] == "success");
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
        "text: must be an object",
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
    expect(&mut host, &j, "bad_job", "rendering.height: missing");
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
    let out = engine.run_json(job.as_bytes(), 0, Some(42), false);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "font_not_found");
    assert!(r["error"].as_str().unwrap().contains("handle 42"));
    assert_eq!(r["font"]["path"], FONT);
    assert_eq!(
        out.status,
        haforu::Status::Error(haforu::ErrorKind::FontNotFound)
    );
}

/// The engine opens no files: an unbound `font.path` answers *needs font* with the key; the
/// host binds the bytes and runs the job again; a host-side failure becomes the error result.
#[test]
fn fonts_the_host_reads() {
    use haforu::{FontKeyKind, RunOptions, Status};
    let mut engine = Engine::new();
    let job = good().to_string();
    let mut out = haforu::Output::default();
    let opts = RunOptions::default();
    engine.run_json_with(job.as_bytes(), 3, None, opts, &mut out);
    assert_eq!(out.status, Status::NeedsFont(FontKeyKind::Path));
    assert_eq!(out.data, FONT.as_bytes());
    assert_eq!(out.status.code(), 2);
    assert_eq!(out.status.kind_code(), 1);
    let v: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(v, json!({"needs": "font", "path": FONT}));

    let bytes = std::fs::read(repo().join(FONT)).unwrap();
    let h = engine
        .bind_font(FontKeyKind::Path, FONT, bytes.clone())
        .unwrap();
    engine.run_json_with(job.as_bytes(), 3, None, opts, &mut out);
    assert!(out.is_ok(), "{}", String::from_utf8_lossy(&out.json));
    let bound = out.json.clone();
    // The same bytes as a job given the handle directly.
    engine.run_json_with(job.as_bytes(), 3, Some(h), opts, &mut out);
    assert_eq!(out.json, bound);
    assert_eq!(engine.cache_stats().bound_fonts.entries, 1);

    // The host says the file changed: the binding and its font are gone.
    assert!(engine.forget_font(FontKeyKind::Path, FONT));
    assert!(!engine.forget_font(FontKeyKind::Path, FONT));
    assert_eq!(engine.cache_stats().fonts, 0);
    engine.run_json_with(job.as_bytes(), 3, None, opts, &mut out);
    assert_eq!(out.status, Status::NeedsFont(FontKeyKind::Path));

    // A bound count of 1 keeps only the newest binding.
    engine
        .bind_font(FontKeyKind::Path, FONT, bytes.clone())
        .unwrap();
    engine.configure_bound_fonts(1);
    engine
        .bind_font(FontKeyKind::Path, "other.ttf", bytes.clone())
        .unwrap();
    assert_eq!(engine.cache_stats().bound_fonts.entries, 1);
    assert_eq!(engine.cache_stats().fonts, 1);

    // The host could not read the file: the engine writes the result, in its own style.
    let e = Engine::host_error(
        job.as_bytes(),
        3,
        haforu::ErrorKind::FontNotFound,
        "cannot read the font file: not a regular file",
    );
    let r: Value = serde_json::from_slice(&e.json).unwrap();
    assert_eq!(r["id"], "j");
    assert_eq!(r["error_kind"], "font_not_found");
    assert_eq!(
        r["error"],
        "job `j`: cannot read the font file: not a regular file"
    );
    assert_eq!(r["font"]["path"], FONT);
    let e = Engine::host_error(b"", 9, haforu::ErrorKind::LimitExceeded, "line too long");
    let r: Value = serde_json::from_slice(&e.json).unwrap();
    assert_eq!(
        (r["id"].as_str(), r["error"].as_str()),
        (Some("line-9"), Some("job `line-9`: line too long"))
    );

    // Host rules: handles refused (CLI), paths refused and names read (server).
    let no_handles = RunOptions {
        no_handles: true,
        ..opts
    };
    let with_handle =
        json!({"id": "k", "font": {"handle": 1, "size": 24}, "text": {"content": "Hi"},
        "rendering": {"format": "metrics", "width": 64, "height": 32}})
        .to_string();
    engine.run_json_with(with_handle.as_bytes(), 0, None, no_handles, &mut out);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "bad_job");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("font.handle is private"),
        "{r}"
    );
    let server = RunOptions {
        no_handles: true,
        named_fonts: true,
        ..opts
    };
    engine.run_json_with(job.as_bytes(), 0, None, server, &mut out);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "bad_job");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("does not read font paths"),
        "{r}"
    );
    let named = json!({"id": "n", "font": {"name": "A.ttf", "size": 24}, "text": {"content": "Hi"},
        "rendering": {"format": "metrics", "width": 64, "height": 32}})
    .to_string();
    engine.run_json_with(named.as_bytes(), 0, None, server, &mut out);
    assert_eq!(out.status, Status::NeedsFont(FontKeyKind::Name));
    assert_eq!(out.data, b"A.ttf");
    engine.run_json_with(named.as_bytes(), 0, None, opts, &mut out);
    let r: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(r["error_kind"], "bad_job");
    assert!(r["error"].as_str().unwrap().contains("font.name"), "{r}");
}

/// `VALIDATE_ONLY`: the engine writes `haforu validate`'s verdict lines, font included.
#[test]
fn validate_only_verdicts() {
    use haforu::{RunOptions, Status};
    let mut host = Host::new();
    let h = host.handle(FONT);
    let opts = RunOptions::default();
    let mut out = haforu::Output::default();
    let mut verdict = |host: &mut Host, job: &Value| -> Value {
        host.engine
            .validate_json(job.to_string().as_bytes(), 4, Some(h), opts, &mut out);
        let v: Value = serde_json::from_slice(&out.json).unwrap();
        assert_eq!(out.is_ok(), v["valid"] == true, "{v}");
        v
    };
    assert_eq!(
        verdict(&mut host, &good()),
        json!({"id": "j", "valid": true})
    );
    let v = verdict(
        &mut host,
        &set(&["font", "variations"], json!({"wght": 500})),
    );
    assert_eq!(v["valid"], true);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no variation axes"),
        "{v}"
    );
    let v = verdict(&mut host, &set(&["font", "size"], json!(0)));
    assert_eq!(
        (v["valid"].clone(), v["error_kind"].clone()),
        (json!(false), json!("bad_job"))
    );
    assert!(v["error"].as_str().unwrap().starts_with("job `j`: "), "{v}");
    let mut sweep = good();
    sweep["sweep"] = json!([{"wght": 400}, {"wght": "x"}]);
    let v = verdict(&mut host, &sweep);
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("job `j`: sweep[1]"),
        "{v}"
    );
    // Unbound paths answer needs-font, as runs do.
    let mut engine = Engine::new();
    engine.validate_json(good().to_string().as_bytes(), 0, None, opts, &mut out);
    assert_eq!(out.status, Status::NeedsFont(haforu::FontKeyKind::Path));
    let v = Engine::host_verdict(
        good().to_string().as_bytes(),
        2,
        haforu::ErrorKind::FontNotFound,
        "cannot read",
    );
    assert_eq!(v.status, Status::Error(haforu::ErrorKind::FontNotFound));
    assert_eq!(
        String::from_utf8(v.json).unwrap(),
        r#"{"id":"j","valid":false,"error":"job `j`: cannot read","error_kind":"font_not_found"}"#
    );
    engine.validate_json(b"{nope", 5, None, opts, &mut out);
    let v: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(
        (v["id"].as_str(), v["error_kind"].as_str()),
        (Some("line-5"), Some("bad_json"))
    );
}

/// Hosts add timing through the engine: three decimals, the last key.
#[test]
fn timing_goes_last_with_three_decimals() {
    let mut host = Host::new();
    let h = host.handle(FONT);
    let mut out = host
        .engine
        .run_json(good().to_string().as_bytes(), 0, Some(h), false);
    let before = out.json.clone();
    out.add_timing(1.23456);
    let text = String::from_utf8(out.json.clone()).unwrap();
    assert!(
        text.ends_with(",\"timing\":{\"total_ms\":1.235}}"),
        "{text}"
    );
    assert_eq!(&out.json[..before.len() - 1], &before[..before.len() - 1]);
    let mut e = Engine::host_error(b"{", 0, haforu::ErrorKind::Internal, "trap");
    e.add_timing(f64::NAN);
    assert!(String::from_utf8(e.json)
        .unwrap()
        .ends_with(",\"timing\":{\"total_ms\":0.000}}"));
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
            "internal",
            "overloaded"
        ]
    );
    for (i, k) in haforu::ErrorKind::ALL.iter().enumerate() {
        assert_eq!(k.code(), i as u32 + 1);
        assert_eq!(haforu::ErrorKind::from_code(k.code()), Some(*k));
    }
    assert_eq!(haforu::ErrorKind::from_code(0), None);
    assert_eq!(haforu::ErrorKind::from_code(9), None);
}

#[test]
fn pathological_overlap_hits_the_work_limit_not_a_hang() {
    // 4,900 stacked zero-advance marks at 4,000 px on a 10,000 × 5,000 canvas: tens of
    // billions of pixel operations if nothing stopped them.
    let mut host = Host::new();
    let font = NOTO_ARABIC;
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

#[test]
fn restate_names_the_file_instead_of_a_job() {
    use haforu::ErrorKind;
    let e = Engine::host_error(b"", 0, ErrorKind::FontParse, "not a font file");
    assert_eq!(
        String::from_utf8(e.json.clone()).unwrap(),
        r#"{"id":"job","status":"error","error":"job `job`: not a font file","error_kind":"font_parse"}"#
    );
    assert_eq!(e.message, "not a font file");
    let r = e.restate("info", "a.ttf", true).unwrap();
    assert_eq!(
        String::from_utf8(r.json.clone()).unwrap(),
        r#"{"id":"info","status":"error","error":"a.ttf: not a font file","error_kind":"font_parse","font":{"path":"a.ttf"}}"#
    );
    assert_eq!(r.kind_code(), 4);
    // Restating a restated error keeps the bare message; no subject leaves it bare.
    let r = r.restate("compare", "", false).unwrap();
    assert_eq!(
        String::from_utf8(r.json).unwrap(),
        r#"{"id":"compare","status":"error","error":"not a font file","error_kind":"font_parse"}"#
    );
    // A success is not restated.
    let mut host = Host::new();
    let h = host.handle(FONT);
    let ok = host
        .engine
        .run_json(good().to_string().as_bytes(), 0, Some(h), false);
    assert!(ok.is_ok() && ok.message.is_empty());
    assert!(ok.restate("info", "a.ttf", true).is_none());
}

#[test]
fn a_success_descriptor_names_the_out_of_band_image_format() {
    let mut host = Host::new();
    let h = host.handle(FONT);
    for (format, oob, code) in [
        ("pgm", true, 1),
        ("png", true, 2),
        ("raw", true, 3),
        ("metrics", true, 0),
        ("glyphs", true, 0),
        ("png", false, 0),
    ] {
        let mut job = good();
        job["rendering"]["format"] = json!(format);
        let out = host
            .engine
            .run_json(job.to_string().as_bytes(), 0, Some(h), oob);
        assert!(out.is_ok(), "{format}");
        assert_eq!(out.kind_code(), code, "{format} out of band: {oob}");
        assert_eq!(out.status.code(), 0);
    }
}

#[test]
fn an_unreadable_outline_is_font_parse_naming_the_glyph() {
    let mut host = Host::new();
    let h = host.handle(crate::fonts::broken::BAD_LOCA);
    let run = |host: &mut Host, text: &str| -> Value {
        let job = json!({"id": "b", "font": {"size": 32}, "text": {"content": text},
                         "rendering": {"format": "metrics", "width": 100, "height": 50}});
        let out = host
            .engine
            .run_json(job.to_string().as_bytes(), 0, Some(h), false);
        serde_json::from_slice(&out.json).unwrap()
    };
    let r = run(&mut host, "AH");
    assert_eq!(r["error_kind"], "font_parse", "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("glyph 41: its outline cannot be read"),
        "{r}"
    );
    // The other glyphs are intact and render.
    let r = run(&mut host, "A");
    assert_eq!(r["status"], "success", "{r}");
    assert!(r["metrics"]["density"].as_f64().unwrap() > 0.0);
}
