//! How `info` prints the engine's JSON: pretty-printed in the engine's key order with its
//! numbers as written, or the text summary of `info --format text`.

use serde_json::Value;

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
    fn ranges_and_numbers() {
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
    }
}
