//! `haforu info FONT` (the engine's font metadata) and `haforu compare A B` (the engine's image
//! comparison of two PGM/PNG files), and the pieces `render --compare` shares with them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde_json::Value;

use haforu_guest::{Fault, Guest};

use crate::runtime::{FontError, Runtime, Worker};
use crate::util::exit;

#[derive(Args)]
pub struct InfoArgs {
    /// Font file (.ttf, .otf, .ttc).
    #[arg(value_name = "FONT")]
    font: PathBuf,
    /// Face index inside a collection.
    #[arg(long, default_value_t = 0, value_name = "N")]
    face_index: u32,
    /// json (the default: the engine's font info, pretty-printed) or text (a summary).
    #[arg(long, value_enum, default_value_t = InfoFormat::Json)]
    format: InfoFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Json,
    Text,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Image `a`: a binary PGM (P5) or grayscale PNG file (0 = ink).
    #[arg(value_name = "A")]
    a: PathBuf,
    /// Image `b`, compared with `a`.
    #[arg(value_name = "B")]
    b: PathBuf,
    /// Alignment on the max(W)×max(H) canvas: center (default) or corner.
    #[arg(long, value_enum, default_value_t = Method::Center)]
    method: Method,
}

/// How two images of different sizes are aligned before comparing them.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    Center,
    Corner,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Center => "center",
            Method::Corner => "corner",
        }
    }
}

/// Prints `text` plus a newline on stdout (exit 0, or 5 when it cannot be written).
fn print_line(text: &str) -> i32 {
    crate::print_out(&format!("{text}\n"))
}

/// A failed command's error line on stderr; exit 1. `info` and `compare` run no job, so this
/// is not a job result: it has the result's shape with the command as its id and the file
/// name instead of the engine's job prefix (the same line as `python -m haforu`).
fn fail(id: &str, kind: &str, message: &str, path: Option<&str>) -> i32 {
    let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let font = path
        .map(|p| format!(",\"font\":{{\"path\":{}}}", q(p)))
        .unwrap_or_default();
    eprintln!(
        "{{\"id\":{},\"status\":\"error\",\"error\":{},\"error_kind\":{}{font}}}",
        q(id),
        q(message),
        q(kind)
    );
    exit::JOB_ERRORS
}

/// The `error` and `error_kind` of an engine error result, the engine's `job `X`: ` prefix
/// removed (the command names the file instead).
pub fn engine_error(raw_json: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(raw_json).unwrap_or_default();
    let kind = v["error_kind"].as_str().unwrap_or("internal").to_string();
    let mut msg = v["error"]
        .as_str()
        .unwrap_or("the engine gave an unreadable error")
        .to_string();
    if msg.starts_with("job `") {
        if let Some(at) = msg.find("`: ") {
            msg = msg[at + 3..].to_string();
        }
    }
    (kind, msg)
}

pub fn info(rt: Arc<Runtime>, a: InfoArgs) -> i32 {
    let shown = a.font.display().to_string();
    let font = match rt.fonts.load(&a.font, rt.facts.max_font_bytes) {
        Ok((f, _)) => f,
        Err(e @ (FontError::Io(_) | FontError::NotRegular)) => {
            eprintln!("haforu: cannot read font file {shown}: {e}");
            return exit::USAGE;
        }
        Err(e) => {
            let kind = rt.kind_name(e.kind());
            return fail("info", kind, &format!("{shown}: {e}"), Some(&shown));
        }
    };
    let mut w = rt.worker();
    let face = a.face_index;
    let answer = w.call(|g: &mut Guest| {
        let h = g.font_register(&font.bytes)?;
        g.font_info(h, face)
    });
    let (json, _, ok) = match answer {
        Ok(r) => r,
        Err(f) => return fault(&rt, "info", &shown, f, Some(&shown)),
    };
    if !ok {
        let (kind, msg) = engine_error(&json);
        return fail("info", &kind, &format!("{shown}: {msg}"), Some(&shown));
    }
    let text = match a.format {
        InfoFormat::Json => pretty(&json),
        InfoFormat::Text => match with_raw_numbers(&json) {
            Some(v) => info_text(&v),
            None => {
                eprintln!("haforu: haforu_font_info returned bad JSON");
                return exit::ENGINE;
            }
        },
    };
    print_line(text.trim_end())
}

fn fault(rt: &Runtime, id: &str, file: &str, f: Fault, path: Option<&str>) -> i32 {
    fail(
        id,
        rt.kind_name(f.kind),
        &format!("{file}: {}", f.reason),
        path,
    )
}

/// Registers the bytes of one image file; its handle, or the exit code after reporting.
fn register(rt: &Runtime, w: &mut Worker, path: &Path) -> Result<u32, i32> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("haforu: cannot read image file {shown}: {e}");
        exit::USAGE
    })?;
    let (json, _, ok) = w
        .call(|g| g.image_register(&bytes, 0, 0))
        .map_err(|f| fault(rt, "compare", &shown, f, None))?;
    if !ok {
        let (kind, msg) = engine_error(&json);
        return Err(fail("compare", &kind, &format!("{shown}: {msg}"), None));
    }
    let v: Value = serde_json::from_slice(&json).unwrap_or_default();
    match v["handle"].as_u64().and_then(|h| u32::try_from(h).ok()) {
        Some(h) => Ok(h),
        None => {
            eprintln!("haforu: haforu_image_register gave no handle for {shown}");
            Err(exit::ENGINE)
        }
    }
}

pub fn compare(rt: Arc<Runtime>, a: CompareArgs) -> i32 {
    let mut w = rt.worker();
    let ha = match register(&rt, &mut w, &a.a) {
        Ok(h) => h,
        Err(rc) => return rc,
    };
    let hb = match register(&rt, &mut w, &a.b) {
        Ok(h) => h,
        Err(rc) => return rc,
    };
    let request = serde_json::json!({
        "op": "compare", "a": ha, "b": hb, "method": a.method.as_str(),
    })
    .to_string();
    let (json, _, ok) = match w.call(|g| g.image_op(request.as_bytes())) {
        Ok(r) => r,
        Err(f) => return fail("compare", rt.kind_name(f.kind), &f.reason, None),
    };
    // The answer is copied out already; the images are not needed any more.
    if let Ok(g) = w.guest(None) {
        for h in [ha, hb] {
            let _ = g.image_drop(h);
        }
    }
    if !ok {
        let (kind, msg) = engine_error(&json);
        return fail("compare", &kind, &msg, None);
    }
    match compare_answer(&json) {
        Some(line) => print_line(&line),
        None => {
            eprintln!("haforu: haforu_image_op gave no comparison");
            exit::ENGINE
        }
    }
}

/// The fields of a comparison in the order of SPEC §4 (and of a job result's `compare`).
const COMPARE_KEYS: [&str; 10] = [
    "width",
    "height",
    "pixel_delta",
    "center_weighted_delta",
    "density_a",
    "density_b",
    "aspect_a",
    "aspect_b",
    "iou",
    "differing_pixels",
];

/// `{"status":"success","compare":{...}}` for a comparison object read by
/// [`with_raw_numbers`], its fields in the order of SPEC §4 (any others after them), every
/// number exactly as the engine wrote it. `haforu compare` and `render --compare` print this
/// line; so does `python -m haforu`.
pub fn compare_line(compare: &Value) -> Option<String> {
    let obj = compare.as_object()?;
    let text = |v: &Value| raw_number(v).map_or_else(|| v.to_string(), str::to_string);
    let mut parts = Vec::new();
    for k in COMPARE_KEYS {
        if let Some(v) = obj.get(k) {
            parts.push(format!("\"{k}\":{}", text(v)));
        }
    }
    for (k, v) in obj {
        if !COMPARE_KEYS.contains(&k.as_str()) {
            parts.push(format!("{}:{}", Value::from(k.as_str()), text(v)));
        }
    }
    Some(format!(
        "{{\"status\":\"success\",\"compare\":{{{}}}}}",
        parts.join(",")
    ))
}

/// [`compare_line`] of the `compare` object in a job's result (or an image op's answer).
pub fn compare_answer(result: &[u8]) -> Option<String> {
    compare_line(&with_raw_numbers(result)?["compare"])
}

/// Marks a number's own text kept in a string by [`with_raw_numbers`].
const RAW: char = '\u{1}';

/// Parses JSON with every number kept as its text: `12.5` becomes the string `"\u{1}12.5"`.
/// serde_json (without its `float_roundtrip` feature) may read a float one unit in the last
/// place off, so a number parsed and written again could change; this keeps the engine's text.
pub fn with_raw_numbers(json: &[u8]) -> Option<Value> {
    let mut out = Vec::with_capacity(json.len() + 64);
    let mut i = 0;
    while i < json.len() {
        let c = json[i];
        if c == b'"' {
            let start = i;
            i += 1;
            while i < json.len() && json[i] != b'"' {
                i += if json[i] == b'\\' { 2 } else { 1 };
            }
            out.extend_from_slice(&json[start..(i + 1).min(json.len())]);
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < json.len()
                && matches!(json[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            out.extend_from_slice(b"\"\\u0001");
            out.extend_from_slice(&json[start..i]);
            out.push(b'"');
        } else {
            out.push(c);
            i += 1;
        }
    }
    serde_json::from_slice(&out).ok()
}

/// The text of a number read by [`with_raw_numbers`].
fn raw_number(v: &Value) -> Option<&str> {
    v.as_str()?.strip_prefix(RAW)
}

/// JSON text re-indented by two spaces (`json.dumps(v, indent=2)` layout: `"key": value`,
/// one member per line, `{}`/`[]` when empty), keys and numbers exactly as the engine wrote them.
pub fn pretty(json: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', 2 * depth));
    };
    let mut i = 0;
    while i < json.len() {
        let c = json[i];
        match c {
            b'"' => {
                let start = i;
                i += 1;
                while i < json.len() && json[i] != b'"' {
                    i += if json[i] == b'\\' { 2 } else { 1 };
                }
                out.extend_from_slice(&json[start..(i + 1).min(json.len())]);
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut j = i + 1;
                while j < json.len() && json[j].is_ascii_whitespace() {
                    j += 1;
                }
                out.push(c);
                if json.get(j) == Some(&close) {
                    out.push(close);
                    i = j;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(b',');
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A number as `info --format text` shows it: integral values without a fraction.
fn num(v: &Value) -> String {
    if let Some(t) = raw_number(v) {
        return t.strip_suffix(".0").unwrap_or(t).to_string();
    }
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return i.to_string();
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Codepoints as `U+0020..U+007E, U+00A0` runs.
fn ranges(cps: &[Value]) -> String {
    let cps: Vec<u64> = cps
        .iter()
        .filter_map(|c| c.as_u64().or_else(|| raw_number(c)?.parse().ok()))
        .collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cps.len() {
        let mut j = i;
        while j + 1 < cps.len() && cps[j + 1] == cps[j] + 1 {
            j += 1;
        }
        if j == i {
            parts.push(format!("U+{:04X}", cps[i]));
        } else {
            parts.push(format!("U+{:04X}..U+{:04X}", cps[i], cps[j]));
        }
        i = j + 1;
    }
    parts.join(", ")
}

/// `info --format text`: one `key: value` line per field, a line per axis, instance and
/// feature (the Python CLI prints the same text).
pub fn info_text(v: &Value) -> String {
    let mut out = Vec::new();
    for key in [
        "familyName",
        "styleName",
        "fullName",
        "postscriptName",
        "version",
    ] {
        out.push(format!("{key}: {}", num(&v[key])));
    }
    out.push(format!(
        "faceIndex: {} of {}",
        num(&v["faceIndex"]),
        num(&v["faceCount"])
    ));
    for key in [
        "unitsPerEm",
        "glyphCount",
        "ascender",
        "descender",
        "lineGap",
        "capHeight",
        "xHeight",
    ] {
        out.push(format!("{key}: {}", num(&v[key])));
    }
    let empty = Vec::new();
    let cps = v["codepoints"].as_array().unwrap_or(&empty);
    out.push(format!(
        "codepoints: {} ({})",
        num(&v["codepointCount"]),
        ranges(cps)
    ));
    let axes = v["axes"].as_array().unwrap_or(&empty);
    out.push(format!("axes: {}", axes.len()));
    for a in axes {
        let hidden = if a["hidden"].as_bool() == Some(true) {
            " (hidden)"
        } else {
            ""
        };
        out.push(format!(
            "  {} {}: min {}, default {}, max {}{hidden}",
            num(&a["tag"]),
            num(&a["name"]),
            num(&a["min"]),
            num(&a["default"]),
            num(&a["max"])
        ));
    }
    let instances = v["instances"].as_array().unwrap_or(&empty);
    out.push(format!("instances: {}", instances.len()));
    for inst in instances {
        // `coords` keeps the font's axis order; the axes list gives it.
        let coords: Vec<String> = axes
            .iter()
            .filter_map(|a| a["tag"].as_str())
            .filter(|t| !inst["coords"][*t].is_null())
            .map(|t| format!("{t}={}", num(&inst["coords"][t])))
            .collect();
        let ps = match inst["postscriptName"].as_str() {
            Some(p) => format!(" [{p}]"),
            None => String::new(),
        };
        out.push(format!(
            "  {}{ps}: {}",
            num(&inst["name"]),
            coords.join(", ")
        ));
    }
    let features = v["features"].as_array().unwrap_or(&empty);
    out.push(format!("features: {}", features.len()));
    for f in features {
        let tables: Vec<String> = f["tables"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(num)
            .collect();
        let ui = match f["uiName"].as_str() {
            Some(n) => format!(": {n}"),
            None => String::new(),
        };
        out.push(format!("  {} ({}){ui}", num(&f["tag"]), tables.join(", ")));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_keeps_order_and_numbers() {
        let j = br#"{"b":1.0,"a":[],"c":{"x":"q\"{,:"},"d":[1,{}],"e":{}}"#;
        assert_eq!(
            pretty(j),
            "{\n  \"b\": 1.0,\n  \"a\": [],\n  \"c\": {\n    \"x\": \"q\\\"{,:\"\n  },\n  \"d\": [\n    1,\n    {}\n  ],\n  \"e\": {}\n}"
        );
    }

    #[test]
    fn compare_answer_and_ranges() {
        let r = br#"{"id":"render","status":"success","metrics":{"density":0.5},"compare":{"iou":1.0,"x":2,"width":3},"font":{}}"#;
        assert_eq!(
            compare_answer(r).unwrap(),
            r#"{"status":"success","compare":{"width":3,"iou":1.0,"x":2}}"#
        );
        assert!(compare_answer(b"{}").is_none());
        let cps: Vec<Value> = [32, 33, 34, 65, 160, 161]
            .iter()
            .map(|&c| Value::from(c))
            .collect();
        assert_eq!(ranges(&cps), "U+0020..U+0022, U+0041, U+00A0..U+00A1");
        assert_eq!(num(&serde_json::json!(2728.0)), "2728");
        assert_eq!(num(&serde_json::json!(-0.5)), "-0.5");
        assert_eq!(num(&Value::Null), "-");
    }

    #[test]
    fn numbers_keep_their_text() {
        // serde_json alone reads this one an ulp off (the reason for with_raw_numbers).
        let j = br#"{"compare":{"density_a":0.09947222222222223,"width":300,"s":"a,1\"2"},"n":[-1.5e-7,3]}"#;
        let v = with_raw_numbers(j).unwrap();
        assert_eq!(
            raw_number(&v["compare"]["density_a"]),
            Some("0.09947222222222223")
        );
        assert_eq!(v["compare"]["s"], "a,1\"2");
        assert_eq!(raw_number(&v["n"][0]), Some("-1.5e-7"));
        assert_eq!(num(&v["n"][1]), "3");
        assert_eq!(
            compare_answer(j).unwrap(),
            r#"{"status":"success","compare":{"width":300,"density_a":0.09947222222222223,"s":"a,1\"2"}}"#
        );
    }

    #[test]
    fn engine_error_drops_the_job_prefix() {
        let (k, m) = engine_error(
            br#"{"id":"image","status":"error","error":"job `image`: PGM image: truncated header","error_kind":"bad_job"}"#,
        );
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("bad_job", "PGM image: truncated header")
        );
    }
}
