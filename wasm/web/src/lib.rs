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

mod convert;
mod font;
mod result;
mod types;

use convert::{bad_input, core_error, gray_image, job_of, js_error, to_js};
use font::font_of;
use haforu::compare::{align_and_compare, resize_bilinear, Align, InkImage};
use haforu::{Engine, ErrorKind, Job};
use js_sys::{Object, Reflect, Uint8ClampedArray};
use result::{render_result, RenderResult};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use types::{FontArg, ImageArg, MethodArg, NumberArg, RenderOptions};
use wasm_bindgen::prelude::*;

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::new());
    /// The handle of the bundled default font, registered on first use by `render`.
    static DEFAULT_HANDLE: Cell<u32> = const { Cell::new(0) };
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
        .with(|e| e.borrow_mut().render_ink_box(&job, Some(font.0)))
        .map(render_result)
        .map_err(|e| core_error(e.error))
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
