//! The zero-import ABI of `haforu.wasm`, documented byte by byte in `wasm/README.md`.
//!
//! This crate only marshals bytes between linear memory and [`haforu::Engine`]; it has no
//! rendering logic. It is the only crate with `unsafe`: raw pointers from the host.

use haforu::{Engine, Output};
use std::cell::RefCell;
use std::collections::HashMap;

mod descriptor;

/// The ABI version hosts check.
pub const ABI_VERSION: i32 = 2;

/// `haforu_run` flag: leave image bytes out of the JSON, at `data_ptr/data_len`.
pub const FLAG_DATA_OUT_OF_BAND: i32 = 1;

/// `haforu_run` flag: only parse and validate the job (no font, no render); the result lists
/// the job's warnings.
pub const FLAG_VALIDATE_ONLY: i32 = 2;

/// `haforu_run` flag: a sweep's point images go out of band, concatenated (each point's
/// `rendering` names its `data_offset`/`data_length`).
pub const FLAG_POINTS_OUT_OF_BAND: i32 = 4;

/// `haforu_run` flag: like `DATA_OUT_OF_BAND`, but the JSON keeps `"data":""` and the
/// descriptor's `splice_at` says where the host inserts the base64 text.
pub const FLAG_SPLICE_DATA: i32 = 8;

/// `haforu_run` flag: `font.handle` in the job is refused.
pub const FLAG_NO_HANDLES: i32 = 16;

/// `haforu_run` flag: the server's rule (`font.path` refused, `font.name` read by the host).
pub const FLAG_NAMED_FONTS: i32 = 32;

/// `haforu_run` flag: with `DATA_OUT_OF_BAND`, a `raw` image may be only its ink box
/// (`rendering.data_box` says which part of the canvas the data holds).
pub const FLAG_INK_BOX: i32 = 64;

/// Every `haforu_run` flag bit.
const RUN_FLAGS: i32 = FLAG_DATA_OUT_OF_BAND
    | FLAG_INK_BOX
    | FLAG_VALIDATE_ONLY
    | FLAG_POINTS_OUT_OF_BAND
    | FLAG_SPLICE_DATA
    | FLAG_NO_HANDLES
    | FLAG_NAMED_FONTS;

pub use descriptor::Descriptor;

struct State {
    engine: Engine,
    /// Live host-visible allocations: pointer → buffer.
    buffers: HashMap<usize, Box<[u8]>>,
    /// The last result (its buffers are reused from job to job) and the descriptor pointing
    /// at them.
    out: Output,
    desc: Descriptor,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        engine: Engine::new(),
        buffers: HashMap::new(),
        out: Output::default(),
        desc: Descriptor::default(),
    });
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

impl State {
    /// Store a successful answer and return the descriptor's address.
    fn publish(&mut self, json: Vec<u8>) -> i32 {
        self.out = Output::success(json);
        self.publish_current()
    }

    fn publish_output(&mut self, out: Output) -> i32 {
        self.out = out;
        self.publish_current()
    }

    /// Point the descriptor at `self.out`.
    fn publish_current(&mut self) -> i32 {
        let out = &self.out;
        self.desc = Descriptor {
            json_ptr: out.json.as_ptr() as u32,
            json_len: out.json.len() as u32,
            data_ptr: if out.data.is_empty() {
                0
            } else {
                out.data.as_ptr() as u32
            },
            data_len: out.data.len() as u32,
            status: out.status.code(),
            kind: out.kind_code(),
            splice_at: out.splice_at.unwrap_or(0) as u32,
        };
        &self.desc as *const Descriptor as i32
    }

    fn input(&self, ptr: i32, len: i32) -> Option<&[u8]> {
        input(&self.buffers, ptr, len)
    }

    /// A font key passed by the host: its kind code and non-empty UTF-8 text in a live buffer.
    fn font_key(&self, kind: i32, ptr: i32, len: i32) -> Option<(haforu::FontKeyKind, String)> {
        let kind = haforu::FontKeyKind::from_code(kind as u32)?;
        let key = std::str::from_utf8(self.input(ptr, len)?).ok()?;
        (!key.is_empty()).then(|| (kind, key.to_string()))
    }
}

/// The bytes of a live host buffer, or `None` if `(ptr, len)` is not inside one.
fn input(buffers: &HashMap<usize, Box<[u8]>>, ptr: i32, len: i32) -> Option<&[u8]> {
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    if len == 0 {
        return Some(&[]);
    }
    // Fast path: the buffer starts at `ptr` (hosts usually pass a whole buffer).
    if let Some(buf) = buffers.get(&ptr) {
        return (len <= buf.len()).then(|| &buf[..len]);
    }
    // Inputs may be any sub-range of one live allocation.
    buffers.iter().find_map(|(&start, buf)| {
        (ptr >= start && ptr + len <= start + buf.len())
            .then(|| &buf[ptr - start..ptr - start + len])
    })
}

fn bad_input(what: &str) -> Output {
    haforu::error_result(
        "job",
        haforu::Error::new(
            haforu::ErrorKind::Internal,
            format!("{what}: the pointer and length do not name a buffer from haforu_alloc"),
        ),
    )
}

/// ABI version (currently 2).
#[no_mangle]
pub extern "C" fn haforu_abi_version() -> i32 {
    ABI_VERSION
}

/// Allocate `len` zeroed bytes for the host; 0 if `len` is 0 or too large.
#[no_mangle]
pub extern "C" fn haforu_alloc(len: i32) -> i32 {
    let len = len as u32 as usize;
    if len == 0 || len > haforu::limits::MAX_JOB_JSON_BYTES {
        return 0;
    }
    // Out of memory (e.g. a host's memory cap) answers 0 instead of aborting the instance.
    let mut v = Vec::new();
    if v.try_reserve_exact(len).is_err() {
        return 0;
    }
    v.resize(len, 0u8);
    let buf = v.into_boxed_slice();
    let ptr = buf.as_ptr() as usize;
    with(|s| s.buffers.insert(ptr, buf));
    ptr as i32
}

/// Free a buffer from `haforu_alloc` that was not handed over.
#[no_mangle]
pub extern "C" fn haforu_free(ptr: i32, _len: i32) {
    with(|s| s.buffers.remove(&(ptr as u32 as usize)));
}

/// Hand over a buffer of font bytes; returns a handle ≥ 1, or 0 if the buffer is unknown or
/// the font is over a limit.
#[no_mangle]
pub extern "C" fn haforu_font_register(ptr: i32, len: i32) -> i32 {
    with(|s| {
        let Some(buf) = s.buffers.remove(&(ptr as u32 as usize)) else {
            return 0;
        };
        let mut bytes = buf.into_vec();
        bytes.truncate(len as u32 as usize);
        s.engine.register_font(bytes).map(|h| h as i32).unwrap_or(0)
    })
}

/// Register the bundled default font; returns its handle.
#[no_mangle]
pub extern "C" fn haforu_font_register_default() -> i32 {
    with(|s| {
        s.engine
            .register_font(haforu::DEFAULT_FONT.to_vec())
            .map(|h| h as i32)
            .unwrap_or(0)
    })
}

/// Forget a font; 1 if it existed.
#[no_mangle]
pub extern "C" fn haforu_font_drop(handle: i32) -> i32 {
    with(|s| s.engine.drop_font(handle as u32) as i32)
}

/// Run one job; returns the result descriptor's address.
#[no_mangle]
pub extern "C" fn haforu_run(
    ptr: i32,
    len: i32,
    line_no: i32,
    font_handle: i32,
    flags: i32,
) -> i32 {
    with(|s| {
        let State {
            engine,
            buffers,
            out,
            ..
        } = s;
        match input(buffers, ptr, len) {
            None => *out = bad_input("haforu_run"),
            Some(_) if flags & !RUN_FLAGS != 0 => *out = bad_input("haforu_run flags"),
            Some(job) => {
                let handle = (font_handle != 0).then_some(font_handle as u32);
                let opts = haforu::RunOptions {
                    data_out_of_band: flags & FLAG_DATA_OUT_OF_BAND != 0,
                    points_out_of_band: flags & FLAG_POINTS_OUT_OF_BAND != 0,
                    splice_data: flags & FLAG_SPLICE_DATA != 0,
                    no_handles: flags & FLAG_NO_HANDLES != 0,
                    named_fonts: flags & FLAG_NAMED_FONTS != 0,
                    ink_box: flags & FLAG_INK_BOX != 0,
                };
                if flags & FLAG_VALIDATE_ONLY != 0 {
                    engine.validate_json(job, line_no as u32, handle, opts, out)
                } else {
                    engine.run_json_with(job, line_no as u32, handle, opts, out)
                }
            }
        }
        s.publish_current()
    })
}

/// Run a job list (batch object or JSONL); results as JSONL in input order.
#[no_mangle]
pub extern "C" fn haforu_run_batch(ptr: i32, len: i32, flags: i32) -> i32 {
    with(|s| {
        let Some(input) = s.input(ptr, len).map(<[u8]>::to_vec) else {
            return s.publish_output(bad_input("haforu_run_batch"));
        };
        if flags != 0 {
            return s.publish_output(bad_input("haforu_run_batch flags"));
        }
        match s.engine.run_batch(&input) {
            Ok(jsonl) => s.publish(jsonl),
            Err(out) => s.publish_output(out),
        }
    })
}

/// Split a job-list envelope into `N<TAB>JOB` lines.
#[no_mangle]
pub extern "C" fn haforu_split(ptr: i32, len: i32) -> i32 {
    with(|s| {
        let Some(input) = s.input(ptr, len).map(<[u8]>::to_vec) else {
            return s.publish_output(bad_input("haforu_split"));
        };
        match haforu::envelope::split(&input) {
            Ok(jobs) => {
                let mut out = Vec::new();
                for j in jobs {
                    out.extend_from_slice(j.line_no.to_string().as_bytes());
                    out.push(b'\t');
                    out.extend_from_slice(j.text.as_bytes());
                    out.push(b'\n');
                }
                s.publish(out)
            }
            Err(error) => {
                let out = haforu::error_result("batch", error);
                s.publish_output(out)
            }
        }
    })
}

/// Version, ABI version, limits and cache counters as JSON.
#[no_mangle]
pub extern "C" fn haforu_info() -> i32 {
    with(|s| {
        let info = s.engine.info_json(ABI_VERSION as u32);
        s.publish(info)
    })
}

/// Bound the glyph coverage cache (`max_glyphs` glyphs, 0 = off; `max_bytes` bytes) and the
/// bound fonts (`max_fonts`); a negative argument keeps that bound. Returns 1.
#[no_mangle]
pub extern "C" fn haforu_cache_config(max_glyphs: i32, max_bytes: i32, max_fonts: i32) -> i32 {
    with(|s| {
        let glyphs = (max_glyphs >= 0).then_some(Some(max_glyphs as usize));
        let bytes = (max_bytes >= 0).then_some(max_bytes as usize);
        s.engine.configure_glyph_cache(glyphs, bytes);
        if max_fonts >= 0 {
            s.engine.configure_bound_fonts(max_fonts as usize);
        }
        1
    })
}

/// Hand over font file bytes the host read for a needs-font answer and bind them to the key
/// (`key_kind` 1 path, 2 name); returns the handle, or 0 for an unknown buffer or kind.
#[no_mangle]
pub extern "C" fn haforu_font_bind(
    key_kind: i32,
    key_ptr: i32,
    key_len: i32,
    font_ptr: i32,
    font_len: i32,
) -> i32 {
    with(|s| {
        let Some((kind, key)) = s.font_key(key_kind, key_ptr, key_len) else {
            return 0;
        };
        let Some(buf) = s.buffers.remove(&(font_ptr as u32 as usize)) else {
            return 0;
        };
        let mut bytes = buf.into_vec();
        bytes.truncate(font_len as u32 as usize);
        s.engine
            .bind_font(kind, &key, bytes)
            .map(|h| h as i32)
            .unwrap_or(0)
    })
}

/// Drop a key's binding and its font (the host saw the file change); 1 if it was bound.
#[no_mangle]
pub extern "C" fn haforu_font_forget(key_kind: i32, key_ptr: i32, key_len: i32) -> i32 {
    with(|s| {
        let Some((kind, key)) = s.font_key(key_kind, key_ptr, key_len) else {
            return 0;
        };
        s.engine.forget_font(kind, &key) as i32
    })
}

/// The error result of a job that failed in the host: `kind` an error-kind code, `msg` the
/// host's reason; the job bytes (may be empty) give the id and `font.path`. With the
/// `VALIDATE_ONLY` flag the answer is the job's invalid verdict line instead.
#[no_mangle]
pub extern "C" fn haforu_result_error(
    job_ptr: i32,
    job_len: i32,
    line_no: i32,
    kind: i32,
    msg_ptr: i32,
    msg_len: i32,
    flags: i32,
) -> i32 {
    with(|s| {
        let out = match (s.input(job_ptr, job_len), s.input(msg_ptr, msg_len)) {
            (Some(job), Some(msg)) => {
                let kind = haforu::ErrorKind::from_code(kind as u32)
                    .unwrap_or(haforu::ErrorKind::Internal);
                let message = String::from_utf8_lossy(msg);
                if flags & FLAG_VALIDATE_ONLY != 0 {
                    haforu::Engine::host_verdict(job, line_no as u32, kind, &message)
                } else {
                    haforu::Engine::host_error(job, line_no as u32, kind, &message)
                }
            }
            _ => bad_input("haforu_result_error"),
        };
        s.publish_output(out)
    })
}

/// Add `"timing":{"total_ms":X}` to the current single-job result; returns its descriptor.
#[no_mangle]
pub extern "C" fn haforu_result_timing(total_ms: f64) -> i32 {
    with(|s| {
        s.out.add_timing(total_ms);
        s.publish_current()
    })
}

/// Restate the current error result as the error of the host command `cmd` about the file
/// `subject` (flag 1: a font file, written as `font.path`); returns its descriptor. Other
/// results are left as they are.
#[no_mangle]
pub extern "C" fn haforu_result_restate(
    cmd_ptr: i32,
    cmd_len: i32,
    subject_ptr: i32,
    subject_len: i32,
    flags: i32,
) -> i32 {
    with(|s| {
        let restated = match (s.input(cmd_ptr, cmd_len), s.input(subject_ptr, subject_len)) {
            (Some(cmd), Some(subject)) => s.out.restate(
                &String::from_utf8_lossy(cmd),
                &String::from_utf8_lossy(subject),
                flags & 1 != 0,
            ),
            _ => Some(bad_input("haforu_result_restate")),
        };
        match restated {
            Some(out) => s.publish_output(out),
            None => s.publish_current(),
        }
    })
}

/// Judge an input's first line: 0 JSONL, 1 read the whole input and `haforu_split` it.
#[no_mangle]
pub extern "C" fn haforu_envelope_probe(ptr: i32, len: i32) -> i32 {
    with(|s| {
        s.input(ptr, len)
            .is_some_and(haforu::envelope::needs_whole_input) as i32
    })
}

/// The work a job asks for, in pixels touched (`haforu::job::work_estimate`): hosts route
/// expensive jobs by it. 0 for a job that does not parse.
#[no_mangle]
pub extern "C" fn haforu_work_estimate(ptr: i32, len: i32) -> i64 {
    with(|s| {
        s.input(ptr, len)
            .map_or(0, haforu::job::work_estimate)
            .min(i64::MAX as u64) as i64
    })
}

/// Register a comparison image: `width × height` gray pixels (0 = ink), or, with width and
/// height 0, PGM/PNG file bytes. The input buffer stays the host's. JSON:
/// `{"handle":N,"width":W,"height":H}` or an error result (id `image`).
#[no_mangle]
pub extern "C" fn haforu_image_register(ptr: i32, len: i32, width: i32, height: i32) -> i32 {
    with(|s| {
        let State {
            engine,
            buffers,
            out,
            ..
        } = s;
        *out = match input(buffers, ptr, len) {
            None => bad_input("haforu_image_register"),
            Some(bytes) => {
                let (w, h) = (width as u32, height as u32);
                let r = if w == 0 && h == 0 {
                    engine.register_image_encoded(bytes)
                } else {
                    engine.register_image(w, h, bytes)
                };
                match r {
                    Ok(handle) => {
                        let img = engine.image(handle).expect("just registered");
                        Output::success(
                            format!(
                                "{{\"handle\":{handle},\"width\":{},\"height\":{}}}",
                                img.width, img.height
                            )
                            .into_bytes(),
                        )
                    }
                    Err(error) => haforu::error_result("image", error),
                }
            }
        };
        s.publish_current()
    })
}

/// Forget a registered image; 1 if it existed.
#[no_mangle]
pub extern "C" fn haforu_image_drop(handle: i32) -> i32 {
    with(|s| s.engine.drop_image(handle as u32) as i32)
}

/// Run an image operation (`compare`, `resize`) given as JSON; see `wasm/README.md`.
#[no_mangle]
pub extern "C" fn haforu_image_op(ptr: i32, len: i32) -> i32 {
    with(|s| {
        let State {
            engine,
            buffers,
            out,
            ..
        } = s;
        match input(buffers, ptr, len) {
            None => *out = bad_input("haforu_image_op"),
            Some(req) => engine.image_op_json(req, out),
        }
        s.publish_current()
    })
}

/// Metadata of a registered font's face as JSON (names, axes, instances, features, coverage),
/// or an error result (id `font_info`).
#[no_mangle]
pub extern "C" fn haforu_font_info(handle: i32, face_index: i32) -> i32 {
    with(|s| {
        let out = match s.engine.font_info_json(handle as u32, face_index as u32) {
            Ok(json) => Output::success(json),
            Err(error) => haforu::error_result("font_info", error),
        };
        s.publish_output(out)
    })
}

/// Empty the glyph and shaping caches.
#[no_mangle]
pub extern "C" fn haforu_cache_clear() {
    with(|s| {
        s.engine.clear_caches();
        s.publish(Vec::new());
    })
}
