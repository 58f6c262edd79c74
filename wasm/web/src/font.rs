//! `Font`: a font registered with the module's engine, its metadata, and `font.sweep()`.

use crate::convert::{bad_input, core_error, field, gray_image, job_of, js_error, to_js};
use crate::result::pgm_header_len;
use crate::types::{FontBytes, LoadOptions, SweepOptions};
use crate::{DEFAULT_HANDLE, ENGINE};
use haforu::font_info::{font_info, FontInfo, DEFAULT_MAX_CODEPOINTS};
use haforu::{Engine, ErrorKind, Format, Job, SweepPoint};
use js_sys::{Array, Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

/// The engine handle and face index of a `font` option: a `Font`, or `undefined` for the
/// bundled default font.
pub(crate) fn font_of(font: &JsValue) -> Result<(u32, u32), JsValue> {
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
pub(crate) fn register_target(engine: &mut Engine, target: &JsValue) -> Result<u32, JsValue> {
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
pub(crate) fn sweep_point(index: usize, point: &SweepPoint, skip_warnings: usize) -> JsValue {
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
pub(crate) fn variations_js(variations: &[(String, f32)]) -> JsValue {
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
