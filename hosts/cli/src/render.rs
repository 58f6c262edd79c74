//! `haforu render`: one text, one image (or metrics/glyphs), straight from the command line.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde_json::{json, Map, Value};

use haforu_guest::flags;

use crate::runtime::{Outcome, Runtime};
use crate::util::{self, exit};

/// The bundled default font (Inter, Latin subset), used when `-f` is not given.
pub static DEFAULT_FONT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default_font.ttf"));

#[derive(Args)]
#[command(group = clap::ArgGroup::new("the_text").required(true).args(["text", "text_arg"]))]
pub struct RenderArgs {
    /// The text to render (or give it as TEXT).
    #[arg(short = 't', long)]
    text: Option<String>,
    /// The text to render, as a plain argument.
    #[arg(value_name = "TEXT", conflicts_with = "text")]
    text_arg: Option<String>,
    /// Font file (.ttf, .otf, .ttc); default: the bundled Inter.
    #[arg(short = 'f', long, visible_alias = "font-file", value_name = "FILE")]
    font: Option<PathBuf>,
    /// Size in pixels per em.
    #[arg(short = 's', long, visible_alias = "font-size", default_value_t = 48.0)]
    size: f64,
    /// Axis coordinates, e.g. `wght=700,wdth=90`.
    #[arg(long, visible_alias = "var", value_name = "TAG=VALUE,...")]
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
    /// png, pgm, raw, metrics or glyphs (default: from the extension of -o, else png).
    #[arg(long)]
    format: Option<String>,
    /// Output file: .png, .pgm, .raw or .json (metrics; glyphs with --format glyphs). Default:
    /// stdout (images are not written to a terminal).
    #[arg(short = 'o', long, visible_alias = "output-file", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also print the result JSON (without image data) to stderr.
    #[arg(long)]
    json: bool,
    /// Resolve -f against DIR and refuse a path that leads outside it.
    #[arg(long, value_name = "DIR")]
    base_dir: Option<PathBuf>,
    /// Compare the render with this PGM/PNG image in the engine and print the result JSON,
    /// which holds the `compare` object, on stdout (the image itself goes only to -o; without
    /// -o and --format the format is `metrics`).
    #[arg(long, value_name = "TARGET")]
    compare: Option<PathBuf>,
    /// Alignment for --compare: center (default) or corner.
    #[arg(long, value_enum, requires = "compare")]
    method: Option<crate::inspect::Method>,
}

impl RenderArgs {
    pub fn base_dir(&self) -> Option<&PathBuf> {
        self.base_dir.as_ref()
    }
}

/// Every format `render` can produce.
const FORMATS: [&str; 5] = ["png", "pgm", "raw", "metrics", "glyphs"];

/// The format to render: `--format`, else the one the extension of `-o` names, else png. An
/// unknown extension, or a `--format` that disagrees with it, is an error (usage, exit 2).
fn choose_format(format: Option<&str>, output: Option<&Path>) -> Result<String, String> {
    if let Some(f) = format {
        if !FORMATS.contains(&f) {
            return Err(format!(
                "--format {f}: not one of png, pgm, raw, metrics, glyphs"
            ));
        }
    }
    let Some(out) = output.filter(|p| p.as_os_str() != "-") else {
        return Ok(format.unwrap_or("png").to_string());
    };
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (default, fits): (&str, &[&str]) = match ext.as_deref() {
        Some("png") => ("png", &["png"]),
        Some("pgm") => ("pgm", &["pgm"]),
        Some("raw") => ("raw", &["raw"]),
        Some("json") => ("metrics", &["metrics", "glyphs"]),
        _ => {
            return Err(format!(
                "-o {}: unknown extension; use .png, .pgm, .raw or .json (metrics, or glyphs with --format glyphs)",
                out.display()
            ))
        }
    };
    match format {
        None => Ok(default.to_string()),
        Some(f) if fits.contains(&f) => Ok(f.to_string()),
        Some(f) => Err(format!(
            "--format {f} disagrees with -o {} (that extension means {})",
            out.display(),
            fits.join(" or ")
        )),
    }
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
    let output = a.output.as_ref().filter(|p| p.as_os_str() != "-");
    let chosen = match (&a.compare, &a.format, output) {
        // Only the comparison is wanted: no pixels need to come back.
        (Some(_), None, None) => Ok("metrics".to_string()),
        _ => choose_format(a.format.as_deref(), a.output.as_deref()),
    };
    let format = match chosen {
        Ok(f) => f,
        Err(e) => {
            eprintln!("haforu: {e}");
            return exit::USAGE;
        }
    };
    let compare = match &a.compare {
        None => None,
        Some(p) => match std::fs::read(p) {
            Ok(bytes) => {
                use base64::Engine as _;
                let method = a.method.unwrap_or(crate::inspect::Method::Center);
                Some(json!({
                    "target": base64::engine::general_purpose::STANDARD.encode(bytes),
                    "method": method.as_str(),
                }))
            }
            Err(e) => {
                eprintln!("haforu: cannot read image file {}: {e}", p.display());
                return exit::USAGE;
            }
        },
    };
    let text_content = a
        .text
        .clone()
        .or_else(|| a.text_arg.clone())
        .unwrap_or_default();
    if a.font.is_none() && DEFAULT_FONT.is_empty() {
        eprintln!("haforu: this build has no bundled font; pass -f FONT");
        return exit::USAGE;
    }
    let variations = match a.variations.as_deref().map(parse_variations).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            eprintln!("haforu: {e}");
            return exit::USAGE;
        }
    };
    // With -f the engine asks for the file (needs font) and the host reads it; without, the
    // job's font has no source and the bundled font's handle is passed with the run.
    let mut font_obj = Map::new();
    if let Some(p) = &a.font {
        font_obj.insert("path".into(), json!(p.display().to_string()));
    }
    font_obj.insert("size".into(), json!(a.size));
    font_obj.insert("face_index".into(), json!(a.face_index));
    if !variations.is_empty() {
        font_obj.insert("variations".into(), Value::Object(variations));
    }
    if let Some(i) = &a.instance {
        font_obj.insert("instance".into(), json!(i));
    }
    let mut text = Map::new();
    text.insert("content".into(), json!(text_content));
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
    let side_max = rt.facts.max_canvas_side;
    let vertical = matches!(a.direction.as_deref(), Some("ttb" | "btt"));
    let line = (a.size * 4.0 / 3.0).ceil().clamp(1.0, side_max as f64) as u64;
    let chars = text_content.chars().count() as f64;
    let long = ((chars + 2.0) * a.size * 1.3)
        .ceil()
        .clamp(1.0, side_max as f64) as u64;
    let mut worker = rt.worker();
    let handle = match &a.font {
        Some(_) => 0,
        None => match worker.default_font() {
            Ok(h) => h,
            Err(f) => {
                eprintln!("haforu: {}", f.reason);
                return exit::ENGINE;
            }
        },
    };
    let mut run = |job: &[u8], flags: u32| worker.run_with(job, 0, handle, flags, None);
    let job_with = |format: &str, w: u64, h: u64, compare: Option<&Value>| -> Vec<u8> {
        let mut j = json!({
            "id": "render",
            "font": Value::Object(font_obj.clone()),
            "text": Value::Object(text.clone()),
            "rendering": {"format": format, "width": w, "height": h},
        });
        if let Some(c) = compare {
            j["compare"] = c.clone();
        }
        serde_json::to_vec(&j).expect("JSON serialises")
    };
    let job = |format: &str, w: u64, h: u64| job_with(format, w, h, None);
    let (width, height) = if vertical {
        (a.width.unwrap_or(line), a.height.unwrap_or(long))
    } else {
        let height = a.height.unwrap_or(line);
        let width = match a.width {
            Some(w) => w,
            None => {
                // Fit the width to the ink: measure on a wide canvas first.
                let wide = long.min(rt.facts.max_canvas_pixels / height.max(1)).max(1);
                let probe = run(&job("metrics", wide, height), flags::NO_HANDLES);
                fitted_width(&probe.json, wide, a.size, side_max)
            }
        };
        (width, height)
    };
    let image = matches!(format.as_str(), "png" | "pgm" | "raw");
    let run_flags = if image {
        flags::NO_HANDLES | flags::DATA_OUT_OF_BAND
    } else {
        flags::NO_HANDLES
    };
    let o: Outcome = run(
        &job_with(&format, width, height, compare.as_ref()),
        run_flags,
    );
    if !o.ok() {
        eprintln!("{}", String::from_utf8_lossy(&o.json));
        // A -f file the host could not read is a usage error (exit 2), as for every command.
        return if o.font_unreadable {
            exit::USAGE
        } else {
            exit::JOB_ERRORS
        };
    }
    if a.json {
        eprintln!("{}", String::from_utf8_lossy(&o.json));
    }
    // With --compare the result line itself is the answer: it holds the engine's `compare`.
    let compared = compare.is_some().then(|| o.json.clone());
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
    match output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &payload) {
                eprintln!("haforu: cannot write {}: {e}", p.display());
                return exit::OUTPUT;
            }
            if image && !a.json && compared.is_none() {
                eprintln!(
                    "haforu: wrote {} ({width}×{height} {}, {} bytes)",
                    p.display(),
                    format,
                    payload.len()
                );
            }
        }
        None if compared.is_some() => {}
        None => {
            let mut out = io::stdout().lock();
            if image && out.is_terminal() {
                eprintln!("haforu: not writing an image to a terminal; pass -o FILE");
                return exit::USAGE;
            }
            if let Err(e) = out.write_all(&payload).and_then(|_| out.flush()) {
                if util::is_broken_pipe(&e) {
                    return exit::OK;
                }
                eprintln!("haforu: writing to stdout: {e}");
                return exit::OUTPUT;
            }
        }
    }
    match compared {
        Some(line) => crate::print_out(&format!("{}\n", String::from_utf8_lossy(&line))),
        None => exit::OK,
    }
}

/// The canvas width that holds the ink of a `metrics` probe, plus a margin of a quarter em.
fn fitted_width(metrics_json: &[u8], probe_width: u64, size: f64, side_max: u64) -> u64 {
    let margin = (size / 4.0).ceil() as u64;
    let v: Value = serde_json::from_slice(metrics_json).unwrap_or_default();
    let bbox = &v["metrics"]["bbox"];
    let right = bbox[0].as_u64().unwrap_or(0) + bbox[2].as_u64().unwrap_or(0);
    if right == 0 {
        return (size.ceil() as u64).clamp(1, probe_width);
    }
    (right + margin).clamp(1, side_max)
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
    fn format_from_extension() {
        let f = |fmt: Option<&str>, out: Option<&str>| choose_format(fmt, out.map(Path::new));
        assert_eq!(f(None, None).unwrap(), "png");
        assert_eq!(f(Some("metrics"), None).unwrap(), "metrics");
        assert_eq!(f(None, Some("a.PGM")).unwrap(), "pgm");
        assert_eq!(f(None, Some("a.png")).unwrap(), "png");
        assert_eq!(f(None, Some("a.raw")).unwrap(), "raw");
        assert_eq!(f(None, Some("m.json")).unwrap(), "metrics");
        assert_eq!(f(Some("glyphs"), Some("m.json")).unwrap(), "glyphs");
        assert_eq!(f(Some("pgm"), Some("-")).unwrap(), "pgm");
        assert!(f(None, Some("a.tiff"))
            .unwrap_err()
            .contains("unknown extension"));
        assert!(f(None, Some("noext")).is_err());
        assert!(f(Some("png"), Some("a.pgm"))
            .unwrap_err()
            .contains("disagrees"));
        assert!(f(Some("metrics"), Some("a.png")).is_err());
        assert!(f(Some("tiff"), None).is_err());
    }

    #[test]
    fn fit() {
        let j = br#"{"metrics":{"bbox":[2,10,100,30]}}"#;
        assert_eq!(fitted_width(j, 1000, 48.0, 10_000), 114);
        assert_eq!(fitted_width(j, 1000, 48.0, 100), 100);
        assert_eq!(
            fitted_width(br#"{"metrics":{"bbox":[0,0,0,0]}}"#, 1000, 48.0, 10_000),
            48
        );
    }
}
