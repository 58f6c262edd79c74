//! JavaScript values ↔ the core's JSON and errors: thrown `Error`s with `.kind`, options read
//! as JSON, the SPEC job of render options, gray image arguments.

use haforu::ErrorKind;
use js_sys::{Reflect, Uint8Array, Uint8ClampedArray};
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// An `Error` with `.kind` (and `.name = "HaforuError"`).
pub(crate) fn js_error(kind: ErrorKind, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("HaforuError");
    let _ = Reflect::set(&e, &"kind".into(), &kind.as_str().into());
    e.into()
}

pub(crate) fn core_error(e: haforu::Error) -> JsValue {
    js_error(e.kind, &e.message)
}

pub(crate) fn bad_input(message: impl std::fmt::Display) -> JsValue {
    js_error(ErrorKind::BadJob, &message.to_string())
}

pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

/// A JavaScript number is a double: give integral values back their integer JSON form, as
/// `JSON.stringify` would, so the core's integer fields (`width`, `face_index`) accept them.
pub(crate) fn integral_numbers(v: &mut Value) {
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
pub(crate) fn field(obj: &JsValue, name: &str) -> Result<Option<Value>, JsValue> {
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

/// The SPEC §1 job for the render options of `render()` / `font.sweep()` (JS names → job
/// fields), on the engine's font `handle`. The core validates every field.
pub(crate) fn job_of(
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

/// A gray image argument: `{width, height, pixels}` (pixels a `Uint8Array` or
/// `Uint8ClampedArray`, row-major, 0 = ink), which also covers a `raw`/`pgm` render result and
/// an image sweep point.
pub(crate) fn gray_image(value: &JsValue, what: &str) -> Result<(u32, u32, Vec<u8>), JsValue> {
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
