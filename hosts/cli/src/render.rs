//! `haforu render`: one text, one image (or metrics/glyphs), straight from the command line.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use serde_json::{json, Map, Value};

use crate::runtime::{Runtime, FLAG_DATA_OUT_OF_BAND};
use crate::util::exit;

/// The bundled default font (Inter, Latin subset), used when `-f` is not given.
pub static DEFAULT_FONT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default_font.ttf"));

/// Largest canvas side (SPEC §1).
const CANVAS_SIDE_MAX: u64 = 10_000;
/// Largest canvas area (SPEC §1).
const CANVAS_AREA_MAX: u64 = 50_000_000;

#[derive(Args)]
pub struct RenderArgs {
    /// Font file (.ttf, .otf, .ttc); default: the bundled Inter.
    #[arg(short = 'f', long)]
    font: Option<PathBuf>,
    /// The text to render.
    #[arg(short = 't', long)]
    text: String,
    /// Size in pixels per em.
    #[arg(short = 's', long, default_value_t = 48.0)]
    size: f64,
    /// Axis coordinates, e.g. `wght=700,wdth=90`.
    #[arg(long, value_name = "TAG=VALUE,...")]
    variations: Option<String>,
    /// Named instance (fvar subfamily name), applied before --variations.
    #[arg(long)]
    instance: Option<String>,
    /// OpenType features in HarfBuzz syntax, e.g. `-liga,ss01,kern[3:5]`.
    #[arg(long, value_name = "FEATURE,...", allow_hyphen_values = true)]
    features: Option<String>,
    /// ISO 15924 script tag (default: from the text).
    #[arg(long)]
    script: Option<String>,
    /// BCP 47 language tag.
    #[arg(long)]
    language: Option<String>,
    /// ltr, rtl, ttb or btt (default: from the text).
    #[arg(long)]
    direction: Option<String>,
    /// Face index inside a collection.
    #[arg(long, default_value_t = 0)]
    face_index: u32,
    /// Canvas width (default: fitted to the ink).
    #[arg(long)]
    width: Option<u64>,
    /// Canvas height (default: 4/3 of the size, baseline at 3/4 of it).
    #[arg(long)]
    height: Option<u64>,
    /// png, pgm, raw, metrics or glyphs.
    #[arg(long, default_value = "png")]
    format: String,
    /// Output file (default: stdout; images are not written to a terminal).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Also print the result JSON (without image data) to stderr.
    #[arg(long)]
    json: bool,
}

fn parse_variations(s: &str) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (tag, v) = part
            .split_once('=')
            .or_else(|| part.split_once(':'))
            .ok_or_else(|| format!("--variations: `{part}` is not TAG=VALUE"))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("--variations: `{v}` is not a number"))?;
        m.insert(tag.trim().to_string(), json!(v));
    }
    Ok(m)
}

pub fn run(rt: Arc<Runtime>, a: RenderArgs) -> i32 {
    let t0 = Instant::now();
    let font = match &a.font {
        Some(p) => match rt.fonts.load(p) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("haforu: cannot use font file {}: {e}", p.display());
                return exit::USAGE;
            }
        },
        None if DEFAULT_FONT.is_empty() => {
            eprintln!("haforu: this build has no bundled font; pass -f FONT");
            return exit::USAGE;
        }
        None => rt.fonts.adopt(Arc::from(DEFAULT_FONT)),
    };
    let variations = match a.variations.as_deref().map(parse_variations).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            eprintln!("haforu: {e}");
            return exit::USAGE;
        }
    };
    let mut font_obj = Map::new();
    match &a.font {
        Some(p) => font_obj.insert("path".into(), json!(p.display().to_string())),
        // Placeholder: the engine uses the handle the host passes (see job::with_handle_placeholder).
        None => font_obj.insert("handle".into(), json!(1)),
    };
    font_obj.insert("size".into(), json!(a.size));
    font_obj.insert("face_index".into(), json!(a.face_index));
    if !variations.is_empty() {
        font_obj.insert("variations".into(), Value::Object(variations));
    }
    if let Some(i) = &a.instance {
        font_obj.insert("instance".into(), json!(i));
    }
    let mut text = Map::new();
    text.insert("content".into(), json!(a.text));
    for (k, v) in [
        ("script", &a.script),
        ("language", &a.language),
        ("direction", &a.direction),
    ] {
        if let Some(v) = v {
            text.insert(k.into(), json!(v));
        }
    }
    if let Some(f) = &a.features {
        let list: Vec<&str> = f
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        text.insert("features".into(), json!(list));
    }
    let vertical = matches!(a.direction.as_deref(), Some("ttb" | "btt"));
    let line = (a.size * 4.0 / 3.0)
        .ceil()
        .clamp(1.0, CANVAS_SIDE_MAX as f64) as u64;
    let chars = a.text.chars().count() as f64;
    let long = ((chars + 2.0) * a.size * 1.3)
        .ceil()
        .clamp(1.0, CANVAS_SIDE_MAX as f64) as u64;
    let mut worker = rt.worker();
    let job = |format: &str, w: u64, h: u64| -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "render",
            "font": Value::Object(font_obj.clone()),
            "text": Value::Object(text.clone()),
            "rendering": {"format": format, "width": w, "height": h},
        }))
        .expect("JSON serialises")
    };
    let (width, height) = if vertical {
        (a.width.unwrap_or(line), a.height.unwrap_or(long))
    } else {
        let height = a.height.unwrap_or(line);
        let width = match a.width {
            Some(w) => w,
            None => {
                // Fit the width to the ink: measure on a wide canvas first.
                let wide = long.min(CANVAS_AREA_MAX / height.max(1)).max(1);
                let probe = worker.run_with(
                    &job("metrics", wide, height),
                    0,
                    Some(&font),
                    0,
                    None,
                    "render",
                    None,
                    Instant::now(),
                );
                fitted_width(&probe.json, wide, a.size)
            }
        };
        (width, height)
    };
    let image = matches!(a.format.as_str(), "png" | "pgm" | "raw");
    let flags = if image { FLAG_DATA_OUT_OF_BAND } else { 0 };
    let o = worker.run_with(
        &job(&a.format, width, height),
        0,
        Some(&font),
        flags,
        None,
        "render",
        a.font.as_ref().map(|p| p.display().to_string()).as_deref(),
        t0,
    );
    if !o.ok {
        eprintln!("{}", String::from_utf8_lossy(&o.json));
        return exit::JOB_ERRORS;
    }
    if a.json {
        eprintln!("{}", String::from_utf8_lossy(&o.json));
    }
    let payload: Vec<u8> = match (image, o.data) {
        (true, Some(d)) => d,
        (true, None) => {
            eprintln!("haforu: the engine returned no image bytes");
            return exit::ENGINE;
        }
        (false, _) => {
            let mut j = o.json;
            j.push(b'\n');
            j
        }
    };
    match &a.output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &payload) {
                eprintln!("haforu: cannot write {}: {e}", p.display());
                return exit::OUTPUT;
            }
            if image && !a.json {
                eprintln!(
                    "haforu: wrote {} ({width}×{height} {}, {} bytes)",
                    p.display(),
                    a.format,
                    payload.len()
                );
            }
        }
        None => {
            let mut out = io::stdout().lock();
            if image && out.is_terminal() {
                eprintln!("haforu: not writing an image to a terminal; pass -o FILE");
                return exit::USAGE;
            }
            if out.write_all(&payload).and_then(|_| out.flush()).is_err() {
                return exit::OUTPUT;
            }
        }
    }
    exit::OK
}

/// The canvas width that holds the ink of a `metrics` probe, plus a margin of a quarter em.
fn fitted_width(metrics_json: &[u8], probe_width: u64, size: f64) -> u64 {
    let margin = (size / 4.0).ceil() as u64;
    let v: Value = serde_json::from_slice(metrics_json).unwrap_or_default();
    let bbox = &v["metrics"]["bbox"];
    let right = bbox[0].as_u64().unwrap_or(0) + bbox[2].as_u64().unwrap_or(0);
    if right == 0 {
        return (size.ceil() as u64).clamp(1, probe_width);
    }
    (right + margin).clamp(1, CANVAS_SIDE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variations_parse() {
        let m = parse_variations("wght=700, wdth:90").unwrap();
        assert_eq!(m["wght"], 700.0);
        assert_eq!(m["wdth"], 90.0);
        assert!(parse_variations("wght").is_err());
        assert!(parse_variations("wght=x").is_err());
    }

    #[test]
    fn fit() {
        let j = br#"{"metrics":{"bbox":[2,10,100,30]}}"#;
        assert_eq!(fitted_width(j, 1000, 48.0), 114);
        assert_eq!(
            fitted_width(br#"{"metrics":{"bbox":[0,0,0,0]}}"#, 1000, 48.0),
            48
        );
    }
}
