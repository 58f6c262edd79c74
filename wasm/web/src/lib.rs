//! haforu for JavaScript: a thin wasm-bindgen facade over the haforu core.
//!
//! One engine per module instance (per page or Web Worker). JS options are turned into a SPEC §1
//! job (`serde_json::Value`) and validated by the core, so every rule and error message is the
//! core's own; results come back as typed arrays. Nothing here draws, shapes or measures: that is
//! all `haforu::Engine`. Errors are thrown as `Error` objects with a stable `.kind` (SPEC §2
//! `error_kind`). See `www/README.md` for the JavaScript API.
//!
//! Matching (SPEC §4): `font.sweep()` is a sweep job run by `Engine::render_sweep` (the target
//! registered once per call), `compare()` and `resize()` call `haforu::compare` directly.

use haforu::compare::{align_and_compare, resize_bilinear, Align, InkImage};
use haforu::font_info::{font_info, FontInfo, DEFAULT_MAX_CODEPOINTS};
use haforu::{Engine, ErrorKind, Format, InkBox, Job, Rendered, SweepPoint};
use js_sys::{Array, Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::new());
    /// The handle of the bundled default font, registered on first use by `render`.
    static DEFAULT_HANDLE: Cell<u32> = const { Cell::new(0) };
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `Font.load`. */
export interface LoadOptions { faceIndex?: number }

/** Everything a UI shows about one face (core `haforu::font_info::FontInfo`). */
export interface FontInfo {
  faceIndex: number; faceCount: number;
  familyName: string | null; styleName: string | null; fullName: string | null;
  postscriptName: string | null; version: string | null;
  unitsPerEm: number; glyphCount: number;
  ascender: number; descender: number; lineGap: number;
  capHeight: number | null; xHeight: number | null;
  /** Mapped code points, ascending (at most 65536). */
  codepoints: number[]; codepointCount: number;
  axes: AxisInfo[]; instances: NamedInstanceInfo[]; features: FeatureInfo[];
}
export interface AxisInfo { tag: string; name: string; min: number; default: number; max: number; hidden: boolean }
export interface NamedInstanceInfo { name: string; postscriptName: string | null; coords: Record<string, number> }
export interface FeatureInfo { tag: string; tables: ("GSUB" | "GPOS")[]; uiName: string | null; tooltip: string | null }

/** A render request: SPEC §1 job fields under JavaScript names. */
export interface RenderOptions {
  /** The font; the bundled default font (Inter) when omitted. */
  font?: Font;
  text: string;
  /** Pixels per em, 0 < size ≤ 10000. */
  size: number;
  width: number;
  height: number;
  variations?: Record<string, number>;
  /** Named instance (fvar subfamily name), applied before `variations`. */
  instance?: string;
  /** HarfBuzz feature syntax: "liga", "-kern", "ss01", "aalt=2", "kern[3:5]". */
  features?: string[];
  script?: string;
  language?: string;
  direction?: "ltr" | "rtl" | "ttb" | "btt";
  /** Default "raw" (pixels only). */
  format?: "raw" | "pgm" | "png" | "metrics" | "glyphs";
  /** Echoed in error messages; default "render". */
  id?: string;
}
export interface Metrics { density: number; beam: number; bbox: [number, number, number, number] }
export interface Glyph { gid: number; cluster: number; x_advance: number; y_advance: number; x_offset: number; y_offset: number }
/** Options of `font.sweep()`: the render options of `render()` (without `font`, `id` optional)
 *  plus the coordinate sets and an optional comparison target. */
export interface SweepOptions {
  text: string; size: number; width: number; height: number;
  /** One render per entry, `{tag: value}`, applied over `instance` and `variations` (at most 4096). */
  coords: Record<string, number>[];
  /** Default "metrics" (no pixels cross back). */
  format?: "metrics" | "raw" | "pgm" | "png" | "glyphs";
  /** Compare every point with this image: gray pixels (0 = ink), a raw/pgm render result or
   *  sweep point, or the bytes of a PGM (P5) / grayscale PNG file. */
  target?: GrayImage | RenderResult | SweepPoint | Uint8Array | ArrayBuffer;
  /** Alignment for `target`: "center" (default) or "corner". */
  method?: "center" | "corner";
  variations?: Record<string, number>;
  instance?: string;
  features?: string[];
  script?: string;
  language?: string;
  direction?: "ltr" | "rtl" | "ttb" | "btt";
  /** Echoed in error messages; default "sweep". */
  id?: string;
}
/** One point of a sweep, in input order. */
export interface SweepPoint {
  /** The applied (clamped) coordinates; for a failed point, the requested ones. */
  variations: Record<string, number>;
  /** Format "metrics". */
  metrics?: Metrics;
  /** With `target`: the comparison of this render (a) with the target (b). */
  compare?: Comparison;
  /** Formats "raw" and "pgm": gray pixels, 0 = ink. */
  pixels?: Uint8ClampedArray;
  /** Formats "pgm" and "png": the encoded file. */
  data?: Uint8Array;
  /** Image formats. */
  width?: number; height?: number;
  /** Tight ink box `[x, y, w, h]` (every format but "glyphs"). */
  bbox?: [number, number, number, number];
  /** Format "glyphs". */
  glyphs?: Glyph[];
  /** Clamped values, axes the font lacks. */
  warnings?: string[];
  /** Set when this point failed; the other points are unaffected. */
  error?: { kind: HaforuError["kind"]; message: string };
}
/** A gray image: row-major, top row first, 0 = ink, 255 = paper. */
export interface GrayImage { width: number; height: number; pixels: Uint8Array | Uint8ClampedArray }
/** `compare()` / `SweepPoint.compare` (SPEC §4); `a` is the first image (the render), `b` the second (the target). */
export interface Comparison {
  width: number; height: number;
  pixel_delta: number; center_weighted_delta: number;
  density_a: number; density_b: number; aspect_a: number; aspect_b: number;
  iou: number; differing_pixels: number;
}
/** Errors thrown by this module: `kind` is the stable SPEC §2 `error_kind`. */
export interface HaforuError extends Error { kind: "bad_json" | "bad_job" | "font_not_found" | "font_parse" | "limit_exceeded" | "resource_limit" | "internal" }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RenderOptions")]
    pub type RenderOptions;
    #[wasm_bindgen(typescript_type = "LoadOptions")]
    pub type LoadOptions;
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer")]
    pub type FontBytes;
    #[wasm_bindgen(typescript_type = "Font")]
    pub type FontArg;
    #[wasm_bindgen(typescript_type = "SweepOptions")]
    pub type SweepOptions;
    #[wasm_bindgen(typescript_type = "GrayImage | RenderResult | SweepPoint")]
    pub type ImageArg;
    #[wasm_bindgen(typescript_type = "\"center\" | \"corner\"")]
    pub type MethodArg;
    #[wasm_bindgen(typescript_type = "number")]
    pub type NumberArg;
}

/// An `Error` with `.kind` (and `.name = "HaforuError"`).
fn js_error(kind: ErrorKind, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("HaforuError");
    let _ = Reflect::set(&e, &"kind".into(), &kind.as_str().into());
    e.into()
}

fn core_error(e: haforu::Error) -> JsValue {
    js_error(e.kind, &e.message)
}

fn bad_input(message: impl std::fmt::Display) -> JsValue {
    js_error(ErrorKind::BadJob, &message.to_string())
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

/// A JavaScript number is a double: give integral values back their integer JSON form, as
/// `JSON.stringify` would, so the core's integer fields (`width`, `face_index`) accept them.
fn integral_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                if !n.is_i64() && !n.is_u64() {
                    *n = serde_json::Number::from(f as i64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(integral_numbers),
        Value::Object(o) => o.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Read field `name` of a JS object as JSON (absent, `undefined` and `null` give `None`).
fn field(obj: &JsValue, name: &str) -> Result<Option<Value>, JsValue> {
    let v =
        Reflect::get(obj, &name.into()).map_err(|_| bad_input(format!("cannot read `{name}`")))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let mut value: Value = serde_wasm_bindgen::from_value(v)
        .map_err(|e| bad_input(format!("option `{name}`: {e}")))?;
    integral_numbers(&mut value);
    Ok(Some(value))
}

/// The engine handle and face index of a `font` option: a `Font`, or `undefined` for the
/// bundled default font.
fn font_of(font: &JsValue) -> Result<(u32, u32), JsValue> {
    if font.is_undefined() || font.is_null() {
        let handle = DEFAULT_HANDLE.with(|d| {
            if d.get() == 0 {
                let h =
                    ENGINE.with(|e| e.borrow_mut().register_font(haforu::DEFAULT_FONT.to_vec()));
                d.set(h.map_err(core_error)?);
            }
            Ok::<u32, JsValue>(d.get())
        })?;
        return Ok((handle, 0));
    }
    // A freed Font's getters throw ("null pointer passed to rust").
    let freed = |_| {
        js_error(
            ErrorKind::FontNotFound,
            "this Font was freed (free() was called)",
        )
    };
    let handle = Reflect::get(font, &"handle".into())
        .map_err(freed)?
        .as_f64();
    let face = Reflect::get(font, &"faceIndex".into())
        .map_err(freed)?
        .as_f64();
    match (handle, face) {
        (Some(h), Some(f)) if h >= 1.0 => Ok((h as u32, f as u32)),
        _ => Err(js_error(
            ErrorKind::FontNotFound,
            "option `font` must be a Font from Font.load() or Font.default() (or be omitted)",
        )),
    }
}

/// A font registered with the module's engine. Free it with `free()` (or let the garbage
/// collector do it): that also drops everything the engine cached for it.
#[wasm_bindgen]
pub struct Font {
    handle: u32,
    face_index: u32,
    info: FontInfo,
}

#[wasm_bindgen]
impl Font {
    /// Load font file bytes (TTF, OTF, TTC/OTC, one face of it). Throws `font_parse` for bytes
    /// the engine cannot render, `limit_exceeded` for files over the size limit.
    pub fn load(bytes: FontBytes, options: Option<LoadOptions>) -> Result<Font, JsValue> {
        let bytes: JsValue = bytes.into();
        if !(bytes.is_instance_of::<Uint8Array>() || bytes.is_instance_of::<js_sys::ArrayBuffer>())
        {
            return Err(bad_input(
                "Font.load expects a Uint8Array or an ArrayBuffer",
            ));
        }
        let bytes = Uint8Array::new(&bytes).to_vec();
        let face_index = match options {
            Some(o) => match field(&o.into(), "faceIndex")? {
                None => 0,
                Some(v) => v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        bad_input(format!("faceIndex must be a non-negative integer, not {v}"))
                    })?,
            },
            None => 0,
        };
        Font::from_bytes(bytes, face_index)
    }

    /// The bundled default font: Inter (variable, `wght` 100–900, `opsz`), Latin subset, OFL.
    #[wasm_bindgen(js_name = default)]
    pub fn default_font() -> Result<Font, JsValue> {
        Font::from_bytes(haforu::DEFAULT_FONT.to_vec(), 0)
    }

    /// The bytes of the bundled default font (for a download link or the browser's own text).
    #[wasm_bindgen(js_name = defaultBytes)]
    pub fn default_bytes() -> Uint8Array {
        Uint8Array::from(haforu::DEFAULT_FONT)
    }

    fn from_bytes(bytes: Vec<u8>, face_index: u32) -> Result<Font, JsValue> {
        let info = font_info(&bytes, face_index, DEFAULT_MAX_CODEPOINTS).map_err(core_error)?;
        ENGINE.with(|e| {
            let mut engine = e.borrow_mut();
            let handle = engine.register_font(bytes).map_err(core_error)?;
            // The engine parses lazily; shape one space now so a font it cannot use fails
            // here, with the engine's own message, rather than at the first render.
            let probe = serde_json::json!({
                "id": "Font.load", "font": {"handle": handle, "face_index": face_index, "size": 16},
                "text": {"content": " "}, "rendering": {"format": "glyphs", "width": 1, "height": 1}
            });
            let job = Job::from_value(&probe).map_err(core_error)?;
            if let Err(err) = engine.render(&job, None) {
                engine.drop_font(handle);
                return Err(core_error(err.error));
            }
            Ok(Font {
                handle,
                face_index,
                info,
            })
        })
    }

    /// The engine's handle for this font (what `font.handle` means in a job).
    #[wasm_bindgen(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The face inside a collection.
    #[wasm_bindgen(getter, js_name = faceIndex)]
    pub fn face_index(&self) -> u32 {
        self.face_index
    }

    /// Everything at once, as one plain object (`FontInfo`).
    #[wasm_bindgen(getter, unchecked_return_type = "FontInfo")]
    pub fn info(&self) -> JsValue {
        to_js(&self.info)
    }

    /// Typographic family name ("Inter").
    #[wasm_bindgen(getter, js_name = familyName)]
    pub fn family_name(&self) -> Option<String> {
        self.info.family_name.clone()
    }

    /// Typographic style name ("Regular", "Bold Italic").
    #[wasm_bindgen(getter, js_name = styleName)]
    pub fn style_name(&self) -> Option<String> {
        self.info.style_name.clone()
    }

    /// Font units per em.
    #[wasm_bindgen(getter, js_name = unitsPerEm)]
    pub fn units_per_em(&self) -> u16 {
        self.info.units_per_em
    }

    /// Number of glyphs.
    #[wasm_bindgen(getter, js_name = glyphCount)]
    pub fn glyph_count(&self) -> u32 {
        self.info.glyph_count
    }

    /// Mapped Unicode code points, ascending (at most 65536; see `codepointCount`).
    #[wasm_bindgen(getter)]
    pub fn codepoints(&self) -> js_sys::Uint32Array {
        js_sys::Uint32Array::from(&self.info.codepoints[..])
    }

    /// How many code points the cmap maps in all.
    #[wasm_bindgen(getter, js_name = codepointCount)]
    pub fn codepoint_count(&self) -> u32 {
        self.info.codepoint_count
    }

    /// Variation axes: `{tag, name, min, default, max, hidden}[]`.
    #[wasm_bindgen(getter, unchecked_return_type = "AxisInfo[]")]
    pub fn axes(&self) -> JsValue {
        to_js(&self.info.axes)
    }

    /// Named instances: `{name, postscriptName, coords: {tag: value}}[]`.
    #[wasm_bindgen(getter, unchecked_return_type = "NamedInstanceInfo[]")]
    pub fn instances(&self) -> JsValue {
        to_js(&self.info.instances)
    }

    /// GSUB/GPOS features: `{tag, tables, uiName, tooltip}[]`.
    #[wasm_bindgen(getter, unchecked_return_type = "FeatureInfo[]")]
    pub fn features(&self) -> JsValue {
        to_js(&self.info.features)
    }
}

#[wasm_bindgen]
impl Font {
    /// Render the same text at every coordinate set of `options.coords` (a SPEC §4 sweep job)
    /// and, with `options.target`, compare each render with it inside the engine. Returns one
    /// point per coordinate set, in order; a point that fails carries `error` and the others
    /// still render. Throws for a problem of the whole call (a bad option, method or target).
    #[wasm_bindgen(unchecked_return_type = "SweepPoint[]")]
    pub fn sweep(&self, options: SweepOptions) -> Result<Array, JsValue> {
        let options: JsValue = options.into();
        if !options.is_object() {
            return Err(bad_input("font.sweep() expects an options object"));
        }
        let mut job = job_of(&options, (self.handle, self.face_index), "metrics", "sweep")?;
        let coords = field(&options, "coords")?.ok_or_else(|| {
            bad_input("font.sweep() needs `coords`: an array of {tag: value} objects")
        })?;
        job.insert("sweep".into(), coords);
        let target = Reflect::get(&options, &"target".into())
            .map_err(|_| bad_input("cannot read `target`"))?;
        let method = field(&options, "method")?;
        let has_target = !(target.is_undefined() || target.is_null());
        if method.is_some() && !has_target {
            return Err(bad_input(
                "option `method` needs a `target` to compare with",
            ));
        }
        ENGINE.with(|e| {
            let mut engine = e.borrow_mut();
            // The target is registered once for all points, and dropped when the sweep is done.
            let image = if has_target {
                let handle = register_target(&mut engine, &target)?;
                let mut compare = Map::new();
                compare.insert("target".into(), handle.into());
                if let Some(m) = method {
                    compare.insert("method".into(), m);
                }
                job.insert("compare".into(), compare.into());
                Some(handle)
            } else {
                None
            };
            let points = Job::from_value(&Value::Object(job))
                .map_err(core_error)
                .and_then(|job| {
                    let points = engine
                        .render_sweep(&job, Some(self.handle))
                        .map_err(|e| core_error(e.error))?;
                    Ok((job.warnings.len(), points))
                });
            if let Some(h) = image {
                engine.drop_image(h);
            }
            let (skip, points) = points?;
            Ok(points
                .iter()
                .enumerate()
                .map(|(i, p)| sweep_point(i, p, skip))
                .collect())
        })
    }
}

/// Register a sweep's `target` with the engine: gray pixels (`{width, height, pixels}`, a
/// render result, a sweep point) or the bytes of a PGM/PNG file.
fn register_target(engine: &mut Engine, target: &JsValue) -> Result<u32, JsValue> {
    let registered = if target.is_instance_of::<Uint8Array>()
        || target.is_instance_of::<js_sys::ArrayBuffer>()
    {
        engine.register_image_encoded(&Uint8Array::new(target).to_vec())
    } else {
        let (width, height, pixels) = gray_image(target, "target")?;
        engine.register_image(width, height, &pixels)
    };
    registered.map_err(|e| js_error(e.kind, &format!("option `target`: {}", e.message)))
}

/// A sweep point as a plain JS object (see the `SweepPoint` type).
fn sweep_point(index: usize, point: &SweepPoint, skip_warnings: usize) -> JsValue {
    let obj = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&obj, &k.into(), &v);
    };
    match point {
        SweepPoint::Done(r) => {
            set("variations", variations_js(&r.variations));
            match r.format {
                Format::Metrics => {
                    if let Some(m) = &r.metrics {
                        set("metrics", to_js(m));
                        set("bbox", to_js(&m.bbox));
                    }
                }
                Format::Glyphs => {
                    if let Some(g) = &r.glyphs {
                        set("glyphs", to_js(g));
                    }
                }
                Format::Raw | Format::Pgm | Format::Png => {
                    set("width", r.width.into());
                    set("height", r.height.into());
                    set("bbox", to_js(&r.actual_bbox));
                    let pixels = match r.format {
                        Format::Raw => Some(&r.data[..]),
                        Format::Pgm => r.data.get(pgm_header_len(r.width, r.height)..),
                        _ => None,
                    };
                    if let Some(px) = pixels {
                        set("pixels", Uint8ClampedArray::from(px).into());
                    }
                    if r.format != Format::Raw {
                        set("data", Uint8Array::from(&r.data[..]).into());
                    }
                }
            }
            if let Some(c) = &r.compare {
                set("compare", to_js(c));
            }
            if let Some(w) = r.warnings.get(skip_warnings..).filter(|w| !w.is_empty()) {
                set("warnings", to_js(w));
            }
        }
        SweepPoint::Failed { requested, error } => {
            set("variations", variations_js(requested));
            // As in the JSON result: the message names its point once.
            let message = if error.message.starts_with("sweep[") {
                error.message.clone()
            } else {
                format!("sweep[{index}]: {}", error.message)
            };
            let e = Object::new();
            let _ = Reflect::set(&e, &"kind".into(), &error.kind.as_str().into());
            let _ = Reflect::set(&e, &"message".into(), &message.into());
            set("error", e.into());
        }
    }
    obj.into()
}

/// Applied axis coordinates as `{tag: value}`. An f32 becomes the double its shortest decimal
/// form denotes (what the JSON hosts read: `412.3`, not `412.29998779296875`).
fn variations_js(variations: &[(String, f32)]) -> JsValue {
    let obj = Object::new();
    for (tag, v) in variations {
        let v: f64 = v.to_string().parse().unwrap_or(f64::from(*v));
        let _ = Reflect::set(&obj, &tag.into(), &v.into());
    }
    obj.into()
}

impl Drop for Font {
    fn drop(&mut self) {
        ENGINE.with(|e| {
            if let Ok(mut engine) = e.try_borrow_mut() {
                engine.drop_font(self.handle);
            }
        });
    }
}

/// The outcome of `render()`.
#[wasm_bindgen]
pub struct RenderResult {
    inner: Rendered,
}

/// Byte length of the P5 header the core writes (`P5\n{w} {h}\n255\n`).
fn pgm_header_len(w: u32, h: u32) -> usize {
    format!("P5\n{w} {h}\n255\n").len()
}

impl RenderResult {
    /// Bare gray pixels (0 = ink, 255 = paper), when the format carries them.
    fn gray(&self) -> Option<&[u8]> {
        let r = &self.inner;
        match r.format {
            haforu::Format::Raw => Some(&r.data),
            haforu::Format::Pgm => r.data.get(pgm_header_len(r.width, r.height)..),
            _ => None,
        }
    }
}

#[wasm_bindgen]
impl RenderResult {
    /// Canvas width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.inner.width
    }

    /// Canvas height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.inner.height
    }

    /// The format rendered.
    #[wasm_bindgen(getter)]
    pub fn format(&self) -> String {
        self.inner.format.as_str().to_string()
    }

    /// Gray pixels, row-major, top row first, 0 = ink, 255 = paper (formats `raw` and `pgm`).
    #[wasm_bindgen(getter)]
    pub fn pixels(&self) -> Option<Uint8ClampedArray> {
        self.gray().map(Uint8ClampedArray::from)
    }

    /// The pixels as opaque RGBA for `new ImageData(result.rgba(), width, height)`.
    pub fn rgba(&self) -> Option<Uint8ClampedArray> {
        let gray = self.gray()?;
        let mut out = vec![255u8; gray.len() * 4];
        for (px, &g) in out.chunks_exact_mut(4).zip(gray) {
            px[..3].fill(g);
        }
        Some(Uint8ClampedArray::from(&out[..]))
    }

    /// The encoded file for formats `pgm` and `png` (the bare pixels for `raw`).
    #[wasm_bindgen(getter)]
    pub fn data(&self) -> Option<Uint8Array> {
        self.inner
            .format
            .has_image()
            .then(|| Uint8Array::from(&self.inner.data[..]))
    }

    /// Tight ink box `[x, y, w, h]` (`[0,0,0,0]` when blank); undefined for `png`/`glyphs`.
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "[number, number, number, number] | undefined"
    )]
    pub fn bbox(&self) -> JsValue {
        match (&self.inner.metrics, self.inner.format) {
            (Some(m), _) => to_js(&m.bbox),
            (None, haforu::Format::Glyphs) => JsValue::UNDEFINED,
            (None, _) => to_js(&self.inner.actual_bbox),
        }
    }

    /// SPEC §3 ink metrics `{density, beam, bbox}` (formats `metrics`, `raw`, `pgm`).
    #[wasm_bindgen(getter, unchecked_return_type = "Metrics | undefined")]
    pub fn metrics(&self) -> JsValue {
        if let Some(m) = &self.inner.metrics {
            return to_js(m);
        }
        let Some(gray) = self.gray() else {
            return JsValue::UNDEFINED;
        };
        let ink = InkBox {
            canvas_width: self.inner.width,
            canvas_height: self.inner.height,
            x: 0,
            y: 0,
            w: self.inner.width,
            h: self.inner.height,
            ink: gray.iter().map(|&p| 255 - p).collect(),
        };
        to_js(&ink.metrics())
    }

    /// The shaped glyph run in font units (format `glyphs`).
    #[wasm_bindgen(getter, unchecked_return_type = "Glyph[] | undefined")]
    pub fn glyphs(&self) -> JsValue {
        match &self.inner.glyphs {
            Some(g) => to_js(g),
            None => JsValue::UNDEFINED,
        }
    }

    /// The applied (clamped) axis coordinates, `{tag: value}`.
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, number>")]
    pub fn variations(&self) -> JsValue {
        variations_js(&self.inner.variations)
    }
}

/// The SPEC §1 job for the render options of `render()` / `font.sweep()` (JS names → job
/// fields), on the engine's font `handle`. The core validates every field.
fn job_of(
    options: &JsValue,
    (handle, face_index): (u32, u32),
    format: &str,
    id: &str,
) -> Result<Map<String, Value>, JsValue> {
    // (JS option, job object, job field): objects 0 = font, 1 = text, 2 = rendering.
    const FIELDS: [(&str, usize, &str); 11] = [
        ("size", 0, "size"),
        ("variations", 0, "variations"),
        ("instance", 0, "instance"),
        ("text", 1, "content"),
        ("script", 1, "script"),
        ("language", 1, "language"),
        ("direction", 1, "direction"),
        ("features", 1, "features"),
        ("format", 2, "format"),
        ("width", 2, "width"),
        ("height", 2, "height"),
    ];
    let mut objects = [Map::new(), Map::new(), Map::new()];
    objects[0].insert("handle".into(), handle.into());
    objects[0].insert("face_index".into(), face_index.into());
    objects[2].insert("format".into(), format.into());
    for (js, object, key) in FIELDS {
        if let Some(v) = field(options, js)? {
            objects[object].insert(key.into(), v);
        }
    }
    let [font, text, rendering] = objects;
    let mut job = Map::new();
    job.insert(
        "id".into(),
        field(options, "id")?.unwrap_or_else(|| id.into()),
    );
    job.insert("font".into(), font.into());
    job.insert("text".into(), text.into());
    job.insert("rendering".into(), rendering.into());
    Ok(job)
}

/// Render text. Throws an `Error` with `.kind` for a bad request or an unusable font.
#[wasm_bindgen]
pub fn render(options: RenderOptions) -> Result<RenderResult, JsValue> {
    let options: JsValue = options.into();
    if !options.is_object() {
        return Err(bad_input("render() expects an options object"));
    }
    let font = font_of(&Reflect::get(&options, &"font".into())?)?;
    let job = Value::Object(job_of(&options, font, "raw", "render")?);
    let job = Job::from_value(&job).map_err(core_error)?;
    ENGINE
        .with(|e| e.borrow_mut().render(&job, Some(font.0)))
        .map(|inner| RenderResult { inner })
        .map_err(|e| core_error(e.error))
}

/// A gray image argument: `{width, height, pixels}` (pixels a `Uint8Array` or
/// `Uint8ClampedArray`, row-major, 0 = ink), which also covers a `raw`/`pgm` render result and
/// an image sweep point.
fn gray_image(value: &JsValue, what: &str) -> Result<(u32, u32, Vec<u8>), JsValue> {
    if !value.is_object() {
        return Err(bad_input(format!(
            "`{what}` must be a gray image {{width, height, pixels}} or a raw/pgm render result"
        )));
    }
    let side = |name: &str| -> Result<u32, JsValue> {
        let v = field(value, name)?;
        v.as_ref()
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                bad_input(format!(
                    "`{what}.{name}` must be a non-negative integer, not {}",
                    v.map_or("undefined".into(), |v| v.to_string())
                ))
            })
    };
    let (width, height) = (side("width")?, side("height")?);
    let px = Reflect::get(value, &"pixels".into())
        .map_err(|_| bad_input(format!("cannot read `{what}.pixels`")))?;
    let pixels = if let Some(a) = px.dyn_ref::<Uint8ClampedArray>() {
        a.to_vec()
    } else if let Some(a) = px.dyn_ref::<Uint8Array>() {
        a.to_vec()
    } else {
        return Err(bad_input(format!(
            "`{what}.pixels` must be a Uint8Array or Uint8ClampedArray of gray pixels (a render result has them for formats raw and pgm)"
        )));
    };
    Ok((width, height, pixels))
}

/// Compare two gray images (SPEC §4): both pasted on white `max(W) × max(H)`, centred
/// (`"center"`, the default) or at the top-left corner (`"corner"`). `a` and `b` are
/// `{width, height, pixels}` (0 = ink) or `raw`/`pgm` render results.
#[wasm_bindgen(unchecked_return_type = "Comparison")]
pub fn compare(a: ImageArg, b: ImageArg, method: Option<MethodArg>) -> Result<JsValue, JsValue> {
    let method = match method.map(JsValue::from) {
        None => Align::Center,
        Some(m) if m.is_undefined() || m.is_null() => Align::Center,
        Some(m) => match m.as_string() {
            Some(s) => Align::parse(&s).map_err(core_error)?,
            None => {
                return Err(bad_input(
                    "compare(): `method` must be \"center\" or \"corner\"",
                ))
            }
        },
    };
    let image = |v: ImageArg, what: &str| -> Result<InkImage, JsValue> {
        let (w, h, px) = gray_image(&v.into(), what)?;
        InkImage::from_gray(w, h, &px)
            .map_err(|e| js_error(e.kind, &format!("image `{what}`: {}", e.message)))
    };
    let (a, b) = (image(a, "a")?, image(b, "b")?);
    Ok(to_js(&align_and_compare(&a.view(), &b.view(), method)))
}

/// Resize a gray image by `multiplier` (0.01–100) with bilinear interpolation (SPEC §4: each
/// side `max(1, round(side · m))`, pixel-centre mapping, edge clamp).
#[wasm_bindgen(unchecked_return_type = "GrayImage")]
pub fn resize(image: ImageArg, multiplier: NumberArg) -> Result<JsValue, JsValue> {
    let m = JsValue::from(multiplier)
        .as_f64()
        .ok_or_else(|| bad_input("resize(): `multiplier` must be a number"))?;
    let (w, h, px) = gray_image(&image.into(), "image")?;
    let (w, h, px) = resize_bilinear(w, h, &px, m).map_err(core_error)?;
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"width".into(), &w.into());
    let _ = Reflect::set(&obj, &"height".into(), &h.into());
    let _ = Reflect::set(
        &obj,
        &"pixels".into(),
        &Uint8ClampedArray::from(&px[..]).into(),
    );
    Ok(obj.into())
}

/// The JSON job interface: one SPEC §1 job as JSON text in, the SPEC §2 result JSON out (with
/// `timing.total_ms` measured here). Errors are results, not exceptions. `font`, when given,
/// overrides the job's `font.path`/`font.data`/`font.handle`; a path with no `font` given is a
/// `font_not_found` result (paths are never opened here).
#[wasm_bindgen(js_name = renderJson)]
pub fn render_json(job_json: &str, font: Option<FontArg>) -> Result<String, JsValue> {
    let handle = match font.map(JsValue::from) {
        Some(f) if !f.is_undefined() && !f.is_null() => Some(font_of(&f)?.0),
        _ => None,
    };
    let start = now_ms();
    let mut out = ENGINE.with(|e| {
        let mut engine = e.borrow_mut();
        let mut out = engine.run_json(job_json.as_bytes(), 0, handle, false);
        if let haforu::Status::NeedsFont(_) = out.status {
            // The browser reads no files: a font named by path must be passed in.
            let key = String::from_utf8_lossy(&out.data).into_owned();
            out = Engine::host_error(
                job_json.as_bytes(),
                0,
                ErrorKind::FontNotFound,
                &format!("font `{key}` cannot be read here: pass the font as renderJson's second argument, or give font.data"),
            );
        }
        out
    });
    if let (Some(start), Some(end)) = (start, now_ms()) {
        out.add_timing(end - start);
    }
    String::from_utf8(out.json).map_err(|_| js_error(ErrorKind::Internal, "result is not UTF-8"))
}

/// `performance.now()` where the host has it (browsers, workers, Node).
fn now_ms() -> Option<f64> {
    let perf = Reflect::get(&js_sys::global(), &"performance".into()).ok()?;
    let now: js_sys::Function = Reflect::get(&perf, &"now".into()).ok()?.dyn_into().ok()?;
    now.call0(&perf).ok()?.as_f64()
}

/// The engine version.
#[wasm_bindgen]
pub fn version() -> String {
    haforu::VERSION.to_string()
}

/// Engine counters: `{fonts, instances, glyphs: {...}}`.
#[wasm_bindgen(js_name = cacheStats)]
pub fn cache_stats() -> JsValue {
    ENGINE.with(|e| to_js(&e.borrow().cache_stats()))
}

/// Empty the engine's glyph and instance caches (fonts stay loaded).
#[wasm_bindgen(js_name = clearCaches)]
pub fn clear_caches() {
    ENGINE.with(|e| e.borrow_mut().clear_caches());
}
