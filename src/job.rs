//! The job schema (SPEC §1): parsing and validation of one job from JSON.
//!
//! Jobs are read through `serde_json::Value` so that a bad field still lets us read the `id`
//! for the error result, and every rule gets a message naming the field.

use crate::compare::Align;
use crate::error::{Error, ErrorKind};
use crate::limits;
use harfrust::Feature;
use serde_json::{Map, Value};
use std::str::FromStr;

/// A validated job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Echoed back in the result.
    pub id: String,
    /// Which font, at which size and location.
    pub font: FontSpec,
    /// What to shape.
    pub text: TextSpec,
    /// What to produce.
    pub rendering: RenderSpec,
    /// What was accepted but ignored (unknown keys, an unused encoding); see [`warn_unknown`].
    pub warnings: Vec<String>,
    /// `sweep`: the coordinate sets to render the same text at (SPEC §4), each already
    /// validated; a point that breaks a rule carries its own error.
    pub sweep: Option<Vec<Result<Coords, Error>>>,
    /// `compare`: the target to compare each render with.
    pub compare: Option<CompareSpec>,
}

/// Axis coordinates as (tag, user value), in the order given (later entries win).
pub type Coords = Vec<([u8; 4], f32)>;

/// The `compare` object (SPEC §4).
#[derive(Debug, Clone, PartialEq)]
pub struct CompareSpec {
    /// The image to compare with.
    pub target: TargetSource,
    /// How the two images are aligned.
    pub method: Align,
}

/// Where a comparison target comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSource {
    /// An image registered with the engine (`haforu_image_register`).
    Handle(u32),
    /// Inline PGM or PNG bytes (decoded from base64).
    Data(Vec<u8>),
}

/// The keys the engine reads inside `font`, `text` and `rendering`; any other key there is
/// ignored with a warning (so a typo such as `variation` is visible).
pub const KNOWN_KEYS: [(&str, &[&str]); 4] = [
    (
        "font",
        &[
            "path",
            "name",
            "data",
            "handle",
            "face_index",
            "size",
            "variations",
            "instance",
        ],
    ),
    (
        "text",
        &["content", "script", "direction", "language", "features"],
    ),
    ("rendering", &["format", "encoding", "width", "height"]),
    ("compare", &["target", "method"]),
];

/// Append a warning for every key of `obj` (the object `parent`) that the engine does not read.
fn warn_unknown(obj: &Map<String, Value>, parent: &str, warnings: &mut Vec<String>) {
    let known = KNOWN_KEYS
        .iter()
        .find(|(p, _)| *p == parent)
        .map_or(&[][..], |(_, k)| k);
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            warnings.push(format!("unknown key `{parent}.{key}` ignored"));
        }
    }
}

/// Where the font bytes come from.
#[derive(Debug, Clone, PartialEq)]
pub enum FontSource {
    /// A host-resolved file path (the core never opens files; hosts pass a handle).
    Path(String),
    /// Inline bytes (decoded from base64).
    Data(Vec<u8>),
    /// A font registered with [`crate::Engine::register_font`].
    Handle(u32),
    /// A font of the server's fonts directory, by file name (the host reads it).
    Name(String),
    /// None in the JSON: the caller passes a handle beside the job (hosts do).
    Unspecified,
}

/// The `font` object.
#[derive(Debug, Clone, PartialEq)]
pub struct FontSpec {
    /// Where the bytes come from.
    pub source: FontSource,
    /// `font.path` when given, echoed in results and messages.
    pub path: Option<String>,
    /// Face inside a collection.
    pub face_index: u32,
    /// Pixels per em.
    pub size_px: f64,
    /// User-space axis coordinates, in the order given (later entries win).
    pub variations: Vec<([u8; 4], f32)>,
    /// Named instance (fvar subfamily name), applied before `variations`.
    pub instance: Option<String>,
}

/// Text direction (SPEC `text.direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left.
    Rtl,
    /// Top to bottom.
    Ttb,
    /// Bottom to top.
    Btt,
}

/// The `text` object.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSpec {
    /// The text to shape.
    pub content: String,
    /// ISO 15924 tag, normalised to title case (`Arab`).
    pub script: Option<[u8; 4]>,
    /// Direction, or guessed from the text.
    pub direction: Option<Direction>,
    /// BCP 47 tag.
    pub language: Option<String>,
    /// `text.features`, parsed from HarfBuzz syntax once, here.
    pub features: Vec<Feature>,
}

/// Output formats (SPEC `rendering.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Binary PGM (P5).
    Pgm,
    /// 8-bit grayscale PNG.
    Png,
    /// Ink metrics only.
    Metrics,
    /// Bare pixels, row-major.
    Raw,
    /// The shaped glyph run, no raster.
    Glyphs,
}

impl Format {
    /// The SPEC name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pgm => "pgm",
            Format::Png => "png",
            Format::Metrics => "metrics",
            Format::Raw => "raw",
            Format::Glyphs => "glyphs",
        }
    }

    /// Whether the format carries an image payload.
    pub fn has_image(self) -> bool {
        matches!(self, Format::Pgm | Format::Png | Format::Raw)
    }

    /// The ABI code of an image format, in a success descriptor's `kind` when the image bytes
    /// are out of band: 1 `pgm`, 2 `png`, 3 `raw`; 0 for the formats without an image.
    pub fn image_code(self) -> u32 {
        match self {
            Format::Pgm => 1,
            Format::Png => 2,
            Format::Raw => 3,
            Format::Metrics | Format::Glyphs => 0,
        }
    }
}

/// The `rendering` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderSpec {
    /// Output format.
    pub format: Format,
    /// Canvas width in pixels.
    pub width: u32,
    /// Canvas height in pixels.
    pub height: u32,
}

/// The id to use in an error result for a job that could not be fully read: the job's own `id`
/// when it is a non-empty string, else `line-N` (or `job` when `line_no` is 0).
pub fn fallback_id(value: Option<&Value>, line_no: u32) -> String {
    if let Some(id) = value
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        return truncate_id(id);
    }
    if line_no == 0 {
        "job".to_string()
    } else {
        format!("line-{line_no}")
    }
}

fn truncate_id(id: &str) -> String {
    if id.len() <= limits::MAX_ID_BYTES {
        return id.to_string();
    }
    let mut end = limits::MAX_ID_BYTES;
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    id[..end].to_string()
}

/// Parse JSON text into a value, mapping syntax errors to `bad_json`.
pub fn parse_json(text: &[u8]) -> Result<Value, Error> {
    if text.len() > limits::MAX_JOB_JSON_BYTES {
        return Err(Error::over_limit(
            "job JSON",
            text.len(),
            limits::MAX_JOB_JSON_BYTES,
            "bytes",
        ));
    }
    serde_json::from_slice(text)
        .map_err(|e| Error::new(ErrorKind::BadJson, format!("invalid JSON: {e}")))
}

/// The work a job asks for, in pixels touched (see [`Job::work_estimate`]); 0 for a job that
/// does not parse or validate (it fails at once when run). Servers use it to send expensive
/// jobs to a lane of their own without reading the job themselves.
pub fn work_estimate(job_json: &[u8]) -> u64 {
    parse_json(job_json)
        .and_then(|v| Job::from_value(&v))
        .map_or(0, |j| j.work_estimate())
}

impl Job {
    /// An upper estimate of the pixels this job touches: per render each glyph's em square
    /// (bounded by the canvas, which clips it), plus the canvas itself for an image format
    /// (filled, encoded) or a comparison (the target, aligned); times the sweep's points. A
    /// ranking of cost, not a time: a 48 px word on 800×100 is ~10⁵, one 1000 px glyph on
    /// 3000×1200 as `pgm` ~5·10⁶, a 10,000×5,000 canvas 5·10⁷.
    pub fn work_estimate(&self) -> u64 {
        let canvas = u64::from(self.rendering.width) * u64::from(self.rendering.height);
        let em = self.font.size_px.clamp(0.0, limits::MAX_SIZE_PX);
        let glyphs = self.text.content.chars().count() as u64;
        // Each glyph is rasterised on its own before compositing: clipped, but not shared.
        let ink = glyphs.saturating_mul(((em * em) as u64).min(canvas));
        let per_render = match self.rendering.format {
            Format::Glyphs => glyphs,
            Format::Metrics if self.compare.is_none() => ink,
            _ => ink + canvas,
        };
        let renders = self.sweep.as_ref().map_or(1, |p| p.len().max(1)) as u64;
        per_render.saturating_mul(renders)
    }

    /// Validate a parsed JSON value as a job.
    pub fn from_value(value: &Value) -> Result<Job, Error> {
        let obj = value.as_object().ok_or_else(|| {
            Error::bad_job(format!(
                "a job must be a JSON object, not {}",
                kind_of(value)
            ))
        })?;
        let id = match obj.get("id") {
            None => return Err(Error::missing("id")),
            Some(Value::String(s)) if s.is_empty() => {
                return Err(bad_field("id", "must not be empty"))
            }
            Some(Value::String(s)) if s.len() > limits::MAX_ID_BYTES => {
                return Err(Error::over_limit(
                    "id",
                    s.len(),
                    limits::MAX_ID_BYTES,
                    "bytes",
                ))
            }
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(wrong_type("id", "a string", other)),
        };
        let mut warnings = Vec::new();
        let font_obj = object_field(obj, "font")?;
        let text_obj = object_field(obj, "text")?;
        let rendering_obj = object_field(obj, "rendering")?;
        let font = parse_font(font_obj)?;
        let text = parse_text(text_obj)?;
        let rendering = parse_rendering(rendering_obj, &mut warnings)?;
        warn_unknown(font_obj, "font", &mut warnings);
        warn_unknown(text_obj, "text", &mut warnings);
        warn_unknown(rendering_obj, "rendering", &mut warnings);
        let sweep = match obj.get("sweep") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_sweep(v)?),
        };
        let compare = match obj.get("compare") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => {
                warn_unknown(c, "compare", &mut warnings);
                Some(parse_compare(c)?)
            }
            Some(other) => return Err(wrong_type("compare", "an object", other)),
        };
        if compare.is_some() && rendering.format == Format::Glyphs {
            return Err(bad_field(
                "compare",
                "needs a raster format (pgm, png, raw or metrics), not glyphs",
            ));
        }
        Ok(Job {
            id,
            font,
            text,
            rendering,
            warnings,
            sweep,
            compare,
        })
    }
}

/// `field` breaks a rule (`bad_job`).
fn bad_field(field: impl Into<String>, problem: impl std::fmt::Display) -> Error {
    Error::field(ErrorKind::BadJob, field, problem)
}

/// `field`'s value `value` breaks a rule (`bad_job`).
fn bad_value(field: &str, value: &str, problem: impl std::fmt::Display) -> Error {
    Error::field_value(ErrorKind::BadJob, field, value, problem)
}

/// `field` has the wrong JSON type: `{field}: must be {expected}, not {kind of v}`.
fn wrong_type(field: &str, expected: &str, v: &Value) -> Error {
    bad_field(field, format!("must be {expected}, not {}", kind_of(v)))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object_field<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a Map<String, Value>, Error> {
    match obj.get(name) {
        None => Err(Error::missing(name)),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(wrong_type(name, "an object", other)),
    }
}

fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    parent: &str,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(&format!("{parent}.{name}"), "a string", other)),
    }
}

fn parse_font(obj: &Map<String, Value>) -> Result<FontSpec, Error> {
    let path = opt_str(obj, "font", "path")?.map(str::to_string);
    let data = opt_str(obj, "font", "data")?;
    let handle = match obj.get("handle") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_handle(v, "font.handle")?),
    };
    let source = if let Some(h) = handle {
        FontSource::Handle(h)
    } else if let Some(d) = data {
        FontSource::Data(decode_base64(d)?)
    } else if let Some(p) = &path {
        if p.is_empty() {
            return Err(bad_field("font.path", "must not be empty"));
        }
        FontSource::Path(p.clone())
    } else if let Some(n) = opt_str(obj, "font", "name")? {
        if n.is_empty() {
            return Err(bad_field("font.name", "must not be empty"));
        }
        FontSource::Name(n.to_string())
    } else {
        FontSource::Unspecified
    };
    let face_index = match obj.get("face_index") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_u64() {
            Some(i) if i <= u32::MAX as u64 => i as u32,
            _ => {
                return Err(bad_field(
                    "font.face_index",
                    format!("must be a non-negative integer, not {v}"),
                ))
            }
        },
    };
    let size_px = match obj.get("size") {
        None => return Err(Error::missing("font.size")),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(other) => return Err(wrong_type("font.size", "a number", other)),
    };
    if size_px.is_nan() || size_px <= 0.0 {
        return Err(bad_field(
            "font.size",
            format!("must be greater than 0, got {size_px}"),
        ));
    }
    if size_px > limits::MAX_SIZE_PX {
        return Err(Error::over_limit(
            "font.size",
            size_px,
            limits::MAX_SIZE_PX,
            "px",
        ));
    }
    let variations = match obj.get("variations") {
        None | Some(Value::Null) => Vec::new(),
        Some(v @ Value::Object(_)) => parse_coords(v, "font.variations")?,
        Some(other) => {
            return Err(wrong_type(
                "font.variations",
                "an object of axis tag → number",
                other,
            ))
        }
    };
    let instance = opt_str(obj, "font", "instance")?.map(str::to_string);
    Ok(FontSpec {
        source,
        path,
        face_index,
        size_px,
        variations,
        instance,
    })
}

/// `font.variations` or one sweep point: an object of axis tag → finite number.
fn parse_coords(v: &Value, what: &str) -> Result<Vec<([u8; 4], f32)>, Error> {
    let m = match v {
        Value::Object(m) => m,
        other => return Err(wrong_type(what, "an object of axis tag → number", other)),
    };
    if m.len() > limits::MAX_VARIATIONS {
        return Err(Error::over_limit(
            what,
            m.len(),
            limits::MAX_VARIATIONS,
            "axes",
        ));
    }
    let mut out = Vec::with_capacity(m.len());
    for (tag, v) in m {
        let t = parse_tag(tag).ok_or_else(|| {
            bad_value(
                what,
                tag,
                "is not an axis tag (1–4 printable ASCII characters)",
            )
        })?;
        let value = v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
            bad_field(
                format!("{what}.{tag}"),
                format!("must be a finite number, not {v}"),
            )
        })?;
        out.push((t, value as f32));
    }
    Ok(out)
}

fn parse_sweep(v: &Value) -> Result<Vec<Result<Coords, Error>>, Error> {
    let items = v
        .as_array()
        .ok_or_else(|| wrong_type("sweep", "an array of coordinate objects", v))?;
    if items.is_empty() {
        return Err(bad_field("sweep", "must not be empty"));
    }
    if items.len() > limits::MAX_SWEEP_POINTS {
        return Err(Error::over_limit(
            "sweep",
            items.len(),
            limits::MAX_SWEEP_POINTS,
            "points",
        ));
    }
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, p)| parse_coords(p, &format!("sweep[{i}]")))
        .collect())
}

fn parse_compare(obj: &Map<String, Value>) -> Result<CompareSpec, Error> {
    let target = match obj.get("target") {
        None | Some(Value::Null) => return Err(Error::missing("compare.target")),
        Some(Value::String(s)) => TargetSource::Data(decode_image_base64(s)?),
        Some(Value::Object(t)) => match (t.get("handle"), t.get("data")) {
            (Some(h), _) => TargetSource::Handle(parse_handle(h, "compare.target.handle")?),
            (None, Some(Value::String(s))) => TargetSource::Data(decode_image_base64(s)?),
            _ => {
                return Err(bad_field(
                    "compare.target",
                    "needs `handle` (a registered image) or `data` (base64 PGM/PNG)",
                ))
            }
        },
        Some(v @ Value::Number(_)) => TargetSource::Handle(parse_handle(v, "compare.target")?),
        Some(other) => {
            return Err(wrong_type(
                "compare.target",
                "an image handle, base64 PGM/PNG text or an object",
                other,
            ))
        }
    };
    let method = match opt_str(obj, "compare", "method")? {
        None => Align::Center,
        Some(m) => Align::parse(m)?,
    };
    Ok(CompareSpec { target, method })
}

fn parse_handle(v: &Value, what: &str) -> Result<u32, Error> {
    match v.as_u64() {
        Some(h) if h >= 1 && h <= u32::MAX as u64 => Ok(h as u32),
        _ => Err(bad_field(
            what,
            format!("must be an integer handle ≥ 1, not {v}"),
        )),
    }
}

fn decode_image_base64(s: &str) -> Result<Vec<u8>, Error> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| bad_field("compare.target", format!("is not valid base64: {e}")))
}

/// An OpenType tag: 1–4 printable ASCII characters, padded with spaces.
fn parse_tag(s: &str) -> Option<[u8; 4]> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 4 || !b.iter().all(|c| (0x20..0x7f).contains(c)) {
        return None;
    }
    let mut t = [b' '; 4];
    t[..b.len()].copy_from_slice(b);
    Some(t)
}

fn decode_base64(s: &str) -> Result<Vec<u8>, Error> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| bad_field("font.data", format!("is not valid base64: {e}")))?;
    if bytes.len() > limits::MAX_FONT_BYTES {
        return Err(Error::over_limit(
            "font.data",
            bytes.len(),
            limits::MAX_FONT_BYTES,
            "bytes",
        ));
    }
    Ok(bytes)
}

fn parse_text(obj: &Map<String, Value>) -> Result<TextSpec, Error> {
    let content = match obj.get("content") {
        None => return Err(Error::missing("text.content")),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(wrong_type("text.content", "a string", other)),
    };
    if content.is_empty() {
        return Err(bad_field("text.content", "must not be empty"));
    }
    if content.len() > limits::MAX_TEXT_BYTES {
        return Err(Error::over_limit(
            "text.content",
            content.len(),
            limits::MAX_TEXT_BYTES,
            "UTF-8 bytes",
        ));
    }
    if let Some((i, c)) = content
        .char_indices()
        .find(|&(_, c)| c.is_control() && !c.is_whitespace())
    {
        return Err(bad_field(
            "text.content",
            format!(
                "has control character U+{:04X} at byte {i}; only whitespace controls are allowed",
                c as u32
            ),
        ));
    }
    let script = match opt_str(obj, "text", "script")? {
        None => None,
        Some(s) => {
            let b = s.as_bytes();
            if b.len() != 4 || !b.iter().all(u8::is_ascii_alphabetic) {
                return Err(bad_value(
                    "text.script",
                    s,
                    "is not an ISO 15924 tag (four letters, e.g. `Latn`)",
                ));
            }
            let mut t = [0u8; 4];
            for (i, c) in b.iter().enumerate() {
                t[i] = if i == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
            }
            Some(t)
        }
    };
    let direction = match opt_str(obj, "text", "direction")? {
        None => None,
        Some(s) => Some(match s.to_ascii_lowercase().as_str() {
            "ltr" => Direction::Ltr,
            "rtl" => Direction::Rtl,
            "ttb" => Direction::Ttb,
            "btt" => Direction::Btt,
            _ => {
                return Err(bad_value(
                    "text.direction",
                    s,
                    "must be one of ltr, rtl, ttb, btt",
                ))
            }
        }),
    };
    let language = match opt_str(obj, "text", "language")? {
        None => None,
        Some(s) => {
            if s.is_empty()
                || s.len() > limits::MAX_LANGUAGE_LEN
                || !s
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            {
                return Err(bad_value(
                    "text.language",
                    s,
                    format!(
                        "must be 1–{} characters of A–Z, a–z, 0–9, `-`, `_`",
                        limits::MAX_LANGUAGE_LEN
                    ),
                ));
            }
            Some(s.to_string())
        }
    };
    let features = match obj.get("features") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > limits::MAX_FEATURES {
                return Err(Error::over_limit(
                    "text.features",
                    items.len(),
                    limits::MAX_FEATURES,
                    "items",
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or_else(|| {
                    bad_field(
                        "text.features",
                        format!("items must be strings, not {}", kind_of(item)),
                    )
                })?;
                out.push(parse_feature(s)?);
            }
            out
        }
        Some(other) => return Err(wrong_type("text.features", "an array of strings", other)),
    };
    Ok(TextSpec {
        content,
        script,
        direction,
        language,
        features,
    })
}

/// Parse one feature in HarfBuzz syntax (`liga`, `-liga`, `liga=0`, `aalt=2`, `kern[3:5]`).
pub fn parse_feature(s: &str) -> Result<Feature, Error> {
    // HarfRust's parser is lenient (it accepts an empty tag, as in `=1`): check the tag first.
    let body = s.trim().trim_start_matches(['+', '-']);
    let tag = body
        .split(['[', '='])
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches(['"', '\'']);
    let tag_ok =
        !tag.is_empty() && tag.len() <= 4 && tag.bytes().all(|c| c.is_ascii_alphanumeric());
    tag_ok.then(|| Feature::from_str(s).ok()).flatten().ok_or_else(|| {
        bad_value(
            "text.features",
            s,
            "is not a feature in HarfBuzz syntax (e.g. `liga`, `-liga`, `liga=0`, `aalt=2`, `kern[3:5]`)",
        )
    })
}

fn parse_rendering(
    obj: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<RenderSpec, Error> {
    let format = match obj.get("format") {
        None => return Err(Error::missing("rendering.format")),
        Some(Value::String(s)) => match s.as_str() {
            "pgm" => Format::Pgm,
            "png" => Format::Png,
            "metrics" => Format::Metrics,
            "raw" => Format::Raw,
            "glyphs" => Format::Glyphs,
            _ => {
                return Err(bad_value(
                    "rendering.format",
                    s,
                    "is unknown; use pgm, png, metrics, raw or glyphs",
                ))
            }
        },
        Some(other) => return Err(wrong_type("rendering.format", "a string", other)),
    };
    // Any string is accepted, as in haforu 2.x (its job files say `json` for metrics and
    // `base64` for images); image data in JSON is always base64.
    if let Some(enc) = opt_str(obj, "rendering", "encoding")? {
        if enc != "base64" && enc != "json" {
            warnings.push(format!(
                "rendering.encoding `{enc}` is not used: image data in JSON is always base64"
            ));
        }
    }
    let dim = |name: &str| -> Result<u32, Error> {
        let field = format!("rendering.{name}");
        match obj.get(name) {
            None => Err(Error::missing(field)),
            Some(v) => match v.as_u64() {
                Some(0) => Err(bad_field(field, "must be at least 1")),
                Some(n) if n > limits::MAX_CANVAS_SIDE as u64 => {
                    Err(Error::over_limit(field, n, limits::MAX_CANVAS_SIDE, "px"))
                }
                Some(n) => Ok(n as u32),
                None => Err(bad_field(
                    field,
                    format!("must be a positive integer, not {v}"),
                )),
            },
        }
    };
    let width = dim("width")?;
    let height = dim("height")?;
    if width as u64 * height as u64 > limits::MAX_CANVAS_PIXELS {
        return Err(Error::over_limit(
            format!("canvas {width}×{height}"),
            width as u64 * height as u64,
            limits::MAX_CANVAS_PIXELS,
            "pixels",
        ));
    }
    Ok(RenderSpec {
        format,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(s: &str) -> Result<Job, Error> {
        Job::from_value(&parse_json(s.as_bytes())?)
    }

    const OK: &str = r#"{"id":"a","font":{"handle":1,"size":48},"text":{"content":"Hi"},"rendering":{"format":"pgm","width":10,"height":10}}"#;

    #[test]
    fn parses_minimal_job() {
        let j = job(OK).unwrap();
        assert_eq!(j.id, "a");
        assert_eq!(j.font.source, FontSource::Handle(1));
        assert_eq!(j.font.size_px, 48.0);
        assert_eq!(j.rendering.format, Format::Pgm);
    }

    #[test]
    fn work_estimate_ranks_jobs_by_pixels() {
        let est = |s: &str| work_estimate(s.as_bytes());
        let make = |size: u32, text: &str, fmt: &str, w: u32, h: u32| {
            format!(
                r#"{{"id":"a","font":{{"handle":1,"size":{size}}},"text":{{"content":"{text}"}},"rendering":{{"format":"{fmt}","width":{w},"height":{h}}}}}"#
            )
        };
        // Two 48 px glyphs as metrics: their em squares; as pgm the 800×100 canvas too.
        assert_eq!(est(&make(48, "Hi", "metrics", 800, 100)), 2 * 48 * 48);
        assert_eq!(est(&make(48, "Hi", "pgm", 800, 100)), 2 * 48 * 48 + 80_000);
        // Each glyph is clipped by the canvas, and each is rasterised on its own.
        assert_eq!(est(&make(10_000, "W", "metrics", 3000, 1200)), 3_600_000);
        assert_eq!(
            est(&make(10_000, "WWWW", "metrics", 3000, 1200)),
            4 * 3_600_000
        );
        assert_eq!(
            est(&make(2000, "W", "pgm", 10_000, 5000)),
            4_000_000 + 50_000_000
        );
        assert_eq!(est(&make(48, "Hi", "glyphs", 800, 100)), 2);
        // A sweep multiplies by its points; a job that does not parse costs nothing.
        let sweep = make(100, "A", "metrics", 200, 200).replace(
            r#""id":"a","#,
            r#""id":"a","sweep":[{"wght":100},{"wght":200},{"wght":300}],"#,
        );
        assert_eq!(est(&sweep), 3 * 10_000);
        assert_eq!(est("{not json"), 0);
        assert_eq!(est(r#"{"id":"a"}"#), 0);
    }

    #[test]
    fn fractional_size_accepted() {
        let j = job(&OK.replace("\"size\":48", "\"size\":33.3")).unwrap();
        assert_eq!(j.font.size_px, 33.3);
    }

    #[test]
    fn rules_give_kinds_and_messages() {
        let cases = [
            (
                "\"size\":48",
                "\"size\":0",
                ErrorKind::BadJob,
                "greater than 0",
            ),
            (
                "\"size\":48",
                "\"size\":10001",
                ErrorKind::LimitExceeded,
                "font.size",
            ),
            (
                "\"size\":48",
                "\"size\":\"48\"",
                ErrorKind::BadJob,
                "must be a number",
            ),
            (
                "\"width\":10",
                "\"width\":10001",
                ErrorKind::LimitExceeded,
                "rendering.width",
            ),
            ("\"pgm\"", "\"gif\"", ErrorKind::BadJob, "unknown"),
            ("\"Hi\"", "\"\"", ErrorKind::BadJob, "must not be empty"),
            ("\"Hi\"", "\"a\\u0007b\"", ErrorKind::BadJob, "U+0007"),
            ("\"id\":\"a\",", "", ErrorKind::BadJob, "id: missing"),
        ];
        for (from, to, kind, needle) in cases {
            let e = job(&OK.replace(from, to)).unwrap_err();
            assert_eq!(e.kind, kind, "{to}: {e}");
            assert!(e.message.contains(needle), "{to}: {e}");
        }
    }

    #[test]
    fn canvas_area_limit() {
        let e = job(&OK.replace(
            "\"width\":10,\"height\":10",
            "\"width\":10000,\"height\":5001",
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
        assert!(e.message.contains("50000000"), "{e}");
    }

    #[test]
    fn text_too_long() {
        let long = "x".repeat(limits::MAX_TEXT_BYTES + 1);
        let e = job(&OK.replace("\"Hi\"", &format!("\"{long}\""))).unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
    }

    #[test]
    fn fallback_ids() {
        let v = parse_json(br#"{"id":"x"}"#).unwrap();
        assert_eq!(fallback_id(Some(&v), 3), "x");
        assert_eq!(fallback_id(None, 3), "line-3");
        assert_eq!(fallback_id(None, 0), "job");
    }

    #[test]
    fn script_and_direction_normalised() {
        let j =
            job(&OK.replace("\"Hi\"", "\"Hi\",\"script\":\"arab\",\"direction\":\"RTL\"")).unwrap();
        assert_eq!(j.text.script, Some(*b"Arab"));
        assert_eq!(j.text.direction, Some(Direction::Rtl));
        let e = job(&OK.replace("\"Hi\"", "\"Hi\",\"direction\":\"up\"")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadJob);
    }

    #[test]
    fn any_encoding_accepted_unknown_keys_warned() {
        let j = job(&OK.replace("\"pgm\"", "\"metrics\",\"encoding\":\"json\"")).unwrap();
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
        let j = job(&OK
            .replace("\"pgm\"", "\"pgm\",\"encoding\":\"hex\",\"dpi\":72")
            .replace("\"size\":48", "\"size\":48,\"variation\":{}"))
        .unwrap();
        assert_eq!(
            j.warnings,
            vec![
                "rendering.encoding `hex` is not used: image data in JSON is always base64",
                "unknown key `font.variation` ignored",
                "unknown key `rendering.dpi` ignored",
            ]
        );
        let e = job(&OK.replace("\"pgm\"", "\"pgm\",\"encoding\":7")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadJob);
    }

    #[test]
    fn feature_syntax() {
        for ok in [
            "liga",
            "-liga",
            "+kern",
            "liga=0",
            "aalt=2",
            "kern[3:5]",
            "liga=off",
        ] {
            assert!(parse_feature(ok).is_ok(), "{ok}");
        }
        assert_eq!(parse_feature("liga=off").unwrap().value, 0);
        assert_eq!(parse_feature("-liga").unwrap().value, 0);
        assert_eq!(parse_feature("aalt=2").unwrap().value, 2);
        let k = parse_feature("kern[3:5]").unwrap();
        assert_eq!((k.start, k.end), (3, 5));
        for bad in ["", "liga=x", "=1", "kern[x]"] {
            assert!(parse_feature(bad).is_err(), "{bad:?}");
        }
        // Parsed once, into the job.
        let j = job(&OK.replace("\"Hi\"", "\"Hi\",\"features\":[\"-liga\",\"ss01\"]")).unwrap();
        assert_eq!(
            j.text.features,
            vec![
                parse_feature("-liga").unwrap(),
                parse_feature("ss01").unwrap()
            ]
        );
    }

    #[test]
    fn errors_carry_field_value_and_limit() {
        let e = job(&OK.replace("\"width\":10", "\"width\":10001")).unwrap_err();
        assert_eq!(e.message, "rendering.width: 10001 px; the limit is 10000");
        let c = e.context.as_deref().unwrap();
        assert_eq!(
            (c.field.as_str(), c.value.as_deref(), c.limit.as_deref()),
            ("rendering.width", Some("10001 px"), Some("10000"))
        );
        let e = job(&OK.replace("\"pgm\"", "\"gif\"")).unwrap_err();
        assert_eq!(
            e.message,
            "rendering.format: `gif` is unknown; use pgm, png, metrics, raw or glyphs"
        );
        let c = e.context.as_deref().unwrap();
        assert_eq!(
            (c.value.as_deref(), c.limit.as_deref()),
            (Some("gif"), None)
        );
        let e = job(&OK.replace("\"size\":48", "\"size\":\"48\"")).unwrap_err();
        assert_eq!(e.message, "font.size: must be a number, not a string");
        assert_eq!(e.context.unwrap().field, "font.size");
        let e = job(&OK.replace("\"id\":\"a\",", "")).unwrap_err();
        assert_eq!(e.message, "id: missing");
        // Free-form messages carry no context.
        assert_eq!(job("[1]").unwrap_err().context, None);
    }

    #[test]
    fn bad_json_kind() {
        assert_eq!(parse_json(b"{nope").unwrap_err().kind, ErrorKind::BadJson);
    }
}
