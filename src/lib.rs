//! haforu: a font render engine. Job JSON in (SPEC §1), bitmaps, metrics or glyph runs out
//! (SPEC §2). Pure: bytes in, bytes out — no I/O, clock, threads or unsafe code. The same code
//! runs natively and as the zero-import `haforu.wasm` module (see `wasm/README.md`).
//!
//! ```
//! let mut engine = haforu::Engine::new();
//! let font = engine.register_font(haforu::DEFAULT_FONT.to_vec()).unwrap();
//! let job = br#"{"id":"hi","font":{"size":32},"text":{"content":"Hi"},
//!               "rendering":{"format":"metrics","width":100,"height":40}}"#;
//! let out = engine.run_json(job, 0, Some(font), false);
//! assert!(out.ok, "{}", String::from_utf8_lossy(&out.json));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
pub mod encode;
pub mod envelope;
mod error;
mod font;
pub mod font_info;
pub mod job;
pub mod limits;
mod raster;
mod render;
mod result;
mod shape;

pub use cache::GlyphCacheStats;
pub use error::{Error, ErrorKind};
pub use job::{Format, Job};
pub use render::{InkBox, Metrics};
pub use shape::{parse_feature, serialize_glyphs, ShapedGlyph};

use font::Fonts;
use job::FontSource;
use raster::{OutlineSink, Scratch};
use render::RenderCtx;

/// The bundled default font (Inter variable, Latin subset; SIL OFL, see
/// `src/default_font/OFL.txt`), so every host can render something without a font file.
pub const DEFAULT_FONT: &[u8] = include_bytes!("default_font/Inter-VF-Latin.ttf");

/// The engine version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A rendered job, before serialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The job id.
    pub id: String,
    /// The output format.
    pub format: Format,
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The encoded image payload (`pgm`/`png`) or bare pixels (`raw`); empty otherwise.
    pub data: Vec<u8>,
    /// Tight ink box (image formats).
    pub actual_bbox: [u32; 4],
    /// Metrics (`metrics` format).
    pub metrics: Option<Metrics>,
    /// The glyph run (`glyphs` format).
    pub glyphs: Option<Vec<ShapedGlyph>>,
    /// `font.path` as given.
    pub font_path: Option<String>,
    /// Applied (clamped) axis coordinates, in axis order.
    pub variations: Vec<(String, f32)>,
}

/// A job's failure: the error plus what is known about the job for the error result.
#[derive(Debug, Clone, PartialEq)]
pub struct JobError {
    /// The job id (or its `line-N` fallback).
    pub id: String,
    /// `font.path`, when it was read.
    pub font_path: Option<String>,
    /// What went wrong.
    pub error: Error,
}

/// A serialised result: SPEC §2 JSON (without `timing`) and, optionally, out-of-band bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The result JSON, one line, ending in `}`.
    pub json: Vec<u8>,
    /// The image payload when requested out of band.
    pub data: Vec<u8>,
    /// `true` when the job succeeded.
    pub ok: bool,
}

/// Cache and registry counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Registered fonts.
    pub fonts: usize,
    /// Cached font instances (font × face × location).
    pub instances: usize,
    /// The glyph coverage cache.
    pub glyphs: GlyphCacheStats,
}

/// The engine: registered fonts and caches. Single-threaded; make one per worker.
#[derive(Default)]
pub struct Engine {
    fonts: Fonts,
    cache: cache::GlyphCache,
    shaper: shape::Shaper,
    glyphs: Vec<ShapedGlyph>,
    scratch: Scratch,
    sink: Option<OutlineSink>,
    draw_memory: Vec<u8>,
    ink: Vec<u8>,
}

impl Engine {
    /// A new engine with no fonts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register font file bytes; returns a handle ≥ 1. Parsing happens on first use, so a
    /// broken font registers and each job using it gets a `font_parse` error.
    pub fn register_font(&mut self, bytes: Vec<u8>) -> Result<u32, Error> {
        self.fonts.register(bytes)
    }

    /// Forget a font and what was cached for it. Returns whether it existed.
    pub fn drop_font(&mut self, handle: u32) -> bool {
        match self.fonts.drop_font(handle) {
            Some(ids) => {
                self.cache.forget_instances(&ids);
                true
            }
            None => false,
        }
    }

    /// Empty the glyph and instance caches (fonts stay registered).
    pub fn clear_caches(&mut self) {
        self.cache.clear();
        self.fonts.clear_instances();
    }

    /// Cache and registry counters.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            fonts: self.fonts.len(),
            instances: self.fonts.instance_count(),
            glyphs: self.cache.stats(),
        }
    }

    /// Render a validated job. `font_handle` overrides the job's font source.
    pub fn render(&mut self, job: &Job, font_handle: Option<u32>) -> Result<Rendered, JobError> {
        let mut data = Vec::new();
        let mut r = self.render_into(job, font_handle, &mut data)?;
        r.data = data;
        Ok(r)
    }

    /// Like [`render`](Self::render), but writes the image payload into `data` (cleared
    /// first, capacity reused) and leaves [`Rendered::data`] empty.
    pub fn render_into(
        &mut self,
        job: &Job,
        font_handle: Option<u32>,
        data: &mut Vec<u8>,
    ) -> Result<Rendered, JobError> {
        data.clear();
        let fail = |error: Error| JobError {
            id: job.id.clone(),
            font_path: job.font.path.clone(),
            error,
        };
        let (handle, temporary) = match (font_handle, &job.font.source) {
            (Some(h), _) => (h, false),
            (None, FontSource::Handle(h)) => (*h, false),
            (None, FontSource::Data(bytes)) => {
                (self.fonts.register(bytes.clone()).map_err(fail)?, true)
            }
            (None, FontSource::Unspecified) => {
                return Err(fail(Error::bad_job(
                    "the font needs one of `font.path`, `font.data` or `font.handle`",
                )))
            }
            (None, FontSource::Path(p)) => {
                return Err(fail(Error::new(
                    ErrorKind::FontNotFound,
                    format!("font path `{p}` was not resolved: font paths are resolved by the host, which passes the font's handle"),
                )))
            }
        };
        let result = self.render_with(job, handle, data);
        if temporary {
            self.drop_font(handle);
        }
        result.map_err(|e| {
            let mut e = fail(e);
            if let Some(p) = &job.font.path {
                e.error.message = format!("{} (font `{p}`)", e.error.message);
            }
            e
        })
    }

    fn render_with(
        &mut self,
        job: &Job,
        handle: u32,
        data: &mut Vec<u8>,
    ) -> Result<Rendered, Error> {
        let (inst, evicted) = self.fonts.instance(
            handle,
            job.font.face_index,
            job.font.instance.as_deref(),
            &job.font.variations,
        )?;
        if let Some(id) = evicted {
            self.cache.forget_instances(&[id]);
        }
        let mut glyphs = std::mem::take(&mut self.glyphs);
        let shaped = self.shaper.shape(inst, &job.text, &mut glyphs);
        let variations = inst.applied.clone();
        let spec = job.rendering;
        let mut out = Rendered {
            id: job.id.clone(),
            format: spec.format,
            width: spec.width,
            height: spec.height,
            data: Vec::new(),
            actual_bbox: [0; 4],
            metrics: None,
            glyphs: None,
            font_path: job.font.path.clone(),
            variations,
        };
        if let Err(e) = shaped {
            self.glyphs = glyphs;
            return Err(e);
        }
        if spec.format == Format::Glyphs {
            out.glyphs = Some(glyphs.clone());
            self.glyphs = glyphs;
            return Ok(out);
        }
        let mut sink = self
            .sink
            .take()
            .unwrap_or_else(|| OutlineSink::new(0.0, 0.0));
        let mut ctx = RenderCtx {
            cache: &mut self.cache,
            scratch: &mut self.scratch,
            sink: &mut sink,
            draw_memory: &mut self.draw_memory,
            ink: &mut self.ink,
        };
        let ink = render::compose(
            &mut ctx,
            inst,
            &glyphs,
            job.font.size_px,
            spec.width,
            spec.height,
        );
        self.sink = Some(sink);
        self.glyphs = glyphs;
        let ink = ink?;
        match spec.format {
            Format::Metrics => out.metrics = Some(ink.metrics()),
            Format::Raw | Format::Pgm | Format::Png => {
                out.actual_bbox = ink.tight_bbox();
                match spec.format {
                    Format::Raw => ink.write_pixels(data)?,
                    Format::Pgm => {
                        encode::pgm_header(spec.width, spec.height, data);
                        ink.write_pixels(data)?;
                    }
                    _ => {
                        let mut px = Vec::new();
                        ink.write_pixels(&mut px)?;
                        *data = encode::png(spec.width, spec.height, &px)?;
                    }
                }
            }
            Format::Glyphs => unreachable!("handled above"),
        }
        self.ink = ink.ink;
        Ok(out)
    }

    /// Parse, validate and run one job given as JSON text, returning the SPEC result JSON.
    ///
    /// `line_no` feeds the `line-N` fallback id (0 gives `job`). `font_handle` overrides the
    /// job's font source. With `data_out_of_band`, image bytes go to [`Output::data`] and the
    /// JSON's `rendering` object carries no `data`.
    pub fn run_json(
        &mut self,
        job_json: &[u8],
        line_no: u32,
        font_handle: Option<u32>,
        data_out_of_band: bool,
    ) -> Output {
        let mut out = Output::default();
        self.run_json_into(job_json, line_no, font_handle, data_out_of_band, &mut out);
        out
    }

    /// Like [`run_json`](Self::run_json), but reuses `out`'s buffers (hosts running many jobs
    /// keep one `Output` and avoid reallocating a canvas per job).
    pub fn run_json_into(
        &mut self,
        job_json: &[u8],
        line_no: u32,
        font_handle: Option<u32>,
        data_out_of_band: bool,
        out: &mut Output,
    ) {
        out.json.clear();
        out.data.clear();
        let fail = |out: &mut Output, e: JobError| {
            out.json = error_output(&e).json;
            out.ok = false;
        };
        let value = match job::parse_json(job_json) {
            Ok(v) => v,
            Err(error) => {
                return fail(
                    out,
                    JobError {
                        id: job::fallback_id(None, line_no),
                        font_path: None,
                        error,
                    },
                )
            }
        };
        let job = match Job::from_value(&value) {
            Ok(j) => j,
            Err(error) => {
                let font_path = value
                    .get("font")
                    .and_then(|f| f.get("path"))
                    .and_then(|p| p.as_str())
                    .map(str::to_string);
                return fail(
                    out,
                    JobError {
                        id: job::fallback_id(Some(&value), line_no),
                        font_path,
                        error,
                    },
                );
            }
        };
        match self.render_into(&job, font_handle, &mut out.data) {
            Ok(r) => result::write_success(&r, data_out_of_band, out),
            Err(e) => {
                out.data.clear();
                fail(out, e)
            }
        }
    }

    /// Run a whole job list (batch object or JSONL): one result line per job, in input order.
    /// Fonts must come as `font.handle` or `font.data`. `Err` holds the error result for an
    /// invalid envelope.
    pub fn run_batch(&mut self, input: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
        let jobs = match envelope::split(input) {
            Ok(j) => j,
            Err(error) => {
                return Err(error_output(&JobError {
                    id: "batch".into(),
                    font_path: None,
                    error,
                })
                .json)
            }
        };
        let mut out = Vec::new();
        for j in jobs {
            out.extend_from_slice(
                &self
                    .run_json(j.text.as_bytes(), j.line_no, None, false)
                    .json,
            );
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// The SPEC §2 error result for a failed job.
pub fn error_output(e: &JobError) -> Output {
    Output {
        json: result::error_json(&e.id, e.font_path.as_deref(), &e.error),
        data: Vec::new(),
        ok: false,
    }
}

/// Limits as `(name, value)` pairs, for diagnostics.
pub fn limits_json() -> serde_json::Value {
    use limits::*;
    serde_json::json!({
        "max_size_px": MAX_SIZE_PX,
        "max_canvas_side": MAX_CANVAS_SIDE,
        "max_canvas_pixels": MAX_CANVAS_PIXELS,
        "max_text_bytes": MAX_TEXT_BYTES,
        "max_features": MAX_FEATURES,
        "max_language_len": MAX_LANGUAGE_LEN,
        "max_variations": MAX_VARIATIONS,
        "max_id_bytes": MAX_ID_BYTES,
        "max_font_bytes": MAX_FONT_BYTES,
        "max_job_json_bytes": MAX_JOB_JSON_BYTES,
        "max_segments_per_glyph": MAX_SEGMENTS_PER_GLYPH,
        "max_raster_pixels_per_job": MAX_RASTER_PIXELS_PER_JOB,
        "glyph_cache_bytes": GLYPH_CACHE_BYTES,
        "max_cached_glyph_bytes": MAX_CACHED_GLYPH_BYTES,
        "max_cached_instances": MAX_CACHED_INSTANCES,
        "max_registered_fonts": MAX_REGISTERED_FONTS,
    })
}
