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
//! assert!(out.is_ok(), "{}", String::from_utf8_lossy(&out.json));
//! ```
//!
//! Modules, in layers (a module `use`s only layers below its own; no import loops):
//! 0. `error` (kinds, messages), `limits`
//! 1. `face` (opening a face), `encode`, `envelope`, `raster`, `compare`, `bindings`
//! 2. `job` (the schema; features parsed once, into HarfRust's type), `font` (registry,
//!    instances), `font_info`, `cache`
//! 3. `shape`: font instance + job text → glyph run
//! 4. `render`: glyph run → ink box (glyph cache, rasteriser, the engine's `Scratch`)
//! 5. `result`: the output types and the result JSON
//! 6. this root: [`Engine`] drives one job through 2–5
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bindings;
mod cache;
pub mod compare;
pub mod encode;
pub mod envelope;
mod error;
mod face;
mod font;
pub mod font_info;
pub mod job;
pub mod limits;
mod raster;
mod render;
pub mod result;
mod shape;

pub use bindings::FontKeyKind;
pub use cache::GlyphCacheStats;
pub use error::{Error, ErrorContext, ErrorKind};
pub use job::{parse_feature, Format, Job};
pub use render::{InkBox, Metrics};
pub use result::{
    error_output, error_result, JobError, Output, Rendered, RunOptions, Status, SweepPoint,
};
pub use shape::{serialize_glyphs, ShapedGlyph};

use font::Fonts;
use job::FontSource;
use render::Scratch;

/// The bundled default font (Inter variable, Latin subset; SIL OFL, see
/// `src/default_font/OFL.txt`), so every host can render something without a font file.
pub const DEFAULT_FONT: &[u8] = include_bytes!("default_font/Inter-VF-Latin.ttf");

/// The engine version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Cache and registry counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Registered fonts.
    pub fonts: usize,
    /// Cached font instances (font × face × location).
    pub instances: usize,
    /// The glyph coverage cache.
    pub glyphs: GlyphCacheStats,
    /// Fonts bound to a path or name by the host ([`Engine::bind_font`]).
    pub bound_fonts: BoundFontStats,
}

/// The bound-font table's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BoundFontStats {
    /// Bindings now.
    pub entries: usize,
    /// The count bound.
    pub capacity: usize,
}

/// The engine: registered fonts and caches. Single-threaded; make one per worker.
#[derive(Default)]
pub struct Engine {
    fonts: Fonts,
    bindings: bindings::Bindings,
    images: std::collections::HashMap<u32, std::sync::Arc<compare::InkImage>>,
    next_image: u32,
    weights: Option<compare::Weights>,
    cache: cache::GlyphCache,
    /// Working memory, lent whole to each render.
    scratch: Scratch,
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
        self.bindings.forget_handle(handle);
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
            bound_fonts: BoundFontStats {
                entries: self.bindings.len(),
                capacity: self.bindings.max_fonts(),
            },
        }
    }

    /// Render a validated job. `font_handle` overrides the job's font source.
    pub fn render(&mut self, job: &Job, font_handle: Option<u32>) -> Result<Rendered, JobError> {
        self.render_owned(job, font_handle, false)
    }

    /// Like [`render`](Self::render), but a `raw` image whose ink box is at most a quarter of
    /// the canvas comes as the box alone ([`RunOptions::ink_box`]): [`Rendered::data_box`] says
    /// which part of the canvas `data` holds (always set for `raw`; paper elsewhere). For hosts
    /// that build the canvas themselves.
    pub fn render_ink_box(
        &mut self,
        job: &Job,
        font_handle: Option<u32>,
    ) -> Result<Rendered, JobError> {
        self.render_owned(job, font_handle, true)
    }

    /// [`render_job`](Self::render_job) with the payload in [`Rendered::data`].
    fn render_owned(
        &mut self,
        job: &Job,
        font_handle: Option<u32>,
        ink_box: bool,
    ) -> Result<Rendered, JobError> {
        let mut data = Vec::new();
        let mut r = self.render_job(job, font_handle, &mut data, ink_box)?;
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
        self.render_job(job, font_handle, data, false)
    }

    /// [`render_into`](Self::render_into); with `ink_box`, a `raw` image may be only its ink
    /// box ([`RunOptions::ink_box`], [`Rendered::data_box`]).
    fn render_job(
        &mut self,
        job: &Job,
        font_handle: Option<u32>,
        data: &mut Vec<u8>,
        ink_box: bool,
    ) -> Result<Rendered, JobError> {
        data.clear();
        let fail = |error: Error| JobError {
            id: job.id.clone(),
            font_path: job.font.path.clone(),
            error,
        };
        let (handle, temporary) = self.job_font(job, font_handle).map_err(fail)?;
        let result = match &job.compare {
            None => Ok(None),
            Some(c) => self.target(&c.target).map(|t| Some((t, c.method))),
        }
        .and_then(|target| {
            let variations = &job.font.variations;
            self.render_with(job, handle, variations, target.as_ref(), data, ink_box)
        });
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
        variations: &[([u8; 4], f32)],
        target: Option<&Target>,
        data: &mut Vec<u8>,
        ink_box: bool,
    ) -> Result<Rendered, Error> {
        let (inst, evicted) = self.fonts.instance(
            handle,
            job.font.face_index,
            job.font.instance.as_deref(),
            variations,
        )?;
        if let Some(id) = evicted {
            self.cache.forget_instances(&[id]);
        }
        let scratch = &mut self.scratch;
        let shaped = scratch.shaper.shape(inst, &job.text, &mut scratch.glyphs);
        let variations = inst.applied.clone();
        let mut warnings = job.warnings.clone();
        warnings.extend(inst.warnings.iter().cloned());
        let spec = job.rendering;
        let mut out = Rendered {
            id: job.id.clone(),
            format: spec.format,
            width: spec.width,
            height: spec.height,
            data: Vec::new(),
            actual_bbox: [0; 4],
            data_box: None,
            metrics: None,
            glyphs: None,
            font_path: job.font.path.clone(),
            variations,
            warnings,
            compare: None,
        };
        shaped?;
        if spec.format == Format::Glyphs {
            out.glyphs = Some(scratch.glyphs.clone());
            return Ok(out);
        }
        let ink = render::compose(
            &mut self.cache,
            scratch,
            inst,
            job.font.size_px,
            spec.width,
            spec.height,
        )?;
        if let Some((target, method)) = target {
            let view = ink.view();
            out.compare = Some(compare::align_and_compare_cached(
                &view,
                &target.view(),
                *method,
                &mut self.weights,
            ));
        }
        match spec.format {
            Format::Metrics => out.metrics = Some(ink.metrics()),
            Format::Raw | Format::Pgm | Format::Png => {
                out.actual_bbox = ink.tight_bbox();
                match spec.format {
                    Format::Raw if ink_box => out.data_box = Some(ink.write_box_or_canvas(data)?),
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
        self.scratch.recycle(ink);
        Ok(out)
    }

    /// Render every point of a sweep job (SPEC §4): the job's text at each coordinate set,
    /// applied over `font.instance` and `font.variations`. The font, the face and the compare
    /// target are resolved once; a point that fails carries its own error.
    pub fn render_sweep(
        &mut self,
        job: &Job,
        font_handle: Option<u32>,
    ) -> Result<Vec<SweepPoint>, JobError> {
        let fail = |error: Error| {
            let mut error = error;
            if let Some(p) = &job.font.path {
                error.message = format!("{} (font `{p}`)", error.message);
            }
            JobError {
                id: job.id.clone(),
                font_path: job.font.path.clone(),
                error,
            }
        };
        let Some(points) = &job.sweep else {
            return Err(fail(Error::bad_job("the job has no `sweep`")));
        };
        let (handle, temporary) = self.job_font(job, font_handle).map_err(fail)?;
        let prepared = self
            .fonts
            .face(handle, job.font.face_index)
            .map(|_| ())
            .and_then(|_| match &job.compare {
                None => Ok(None),
                Some(c) => self.target(&c.target).map(|t| Some((t, c.method))),
            });
        let target = match prepared {
            Ok(t) => t,
            Err(e) => {
                if temporary {
                    self.drop_font(handle);
                }
                return Err(fail(e));
            }
        };
        let mut out = Vec::with_capacity(points.len());
        let mut payload = 0usize;
        let mut coords = job.font.variations.clone();
        let base = coords.len();
        for point in points {
            let requested = |p: &[([u8; 4], f32)]| {
                p.iter()
                    .map(|(t, v)| (font::tag_text(t), *v))
                    .collect::<Vec<_>>()
            };
            let p = match point {
                Ok(p) => p,
                Err(e) => {
                    out.push(SweepPoint::Failed {
                        requested: Vec::new(),
                        error: e.clone(),
                    });
                    continue;
                }
            };
            coords.truncate(base);
            coords.extend_from_slice(p);
            let mut data = Vec::new();
            match self.render_with(job, handle, &coords, target.as_ref(), &mut data, false) {
                Ok(mut r) if payload + data.len() > limits::MAX_SWEEP_PAYLOAD_BYTES => {
                    r.data.clear();
                    out.push(SweepPoint::Failed {
                        requested: requested(p),
                        error: Error::new(
                            ErrorKind::LimitExceeded,
                            format!(
                                "the sweep's image payloads exceed {} bytes; use `metrics` with `compare`, or fewer points",
                                limits::MAX_SWEEP_PAYLOAD_BYTES
                            ),
                        ),
                    });
                }
                Ok(mut r) => {
                    payload += data.len();
                    r.data = data;
                    out.push(SweepPoint::Done(Box::new(r)));
                }
                Err(error) => out.push(SweepPoint::Failed {
                    requested: requested(p),
                    error,
                }),
            }
        }
        if temporary {
            self.drop_font(handle);
        }
        Ok(out)
    }

    /// The font handle for a job, and whether it is temporary (inline `font.data`).
    fn job_font(&mut self, job: &Job, font_handle: Option<u32>) -> Result<(u32, bool), Error> {
        match (font_handle, &job.font.source) {
            (Some(h), _) => Ok((h, false)),
            (None, FontSource::Handle(h)) => Ok((*h, false)),
            (None, FontSource::Data(bytes)) => Ok((self.fonts.register(bytes.clone())?, true)),
            (None, FontSource::Unspecified) => Err(Error::bad_job(
                "the font needs one of `font.path`, `font.data` or `font.handle`",
            )),
            (None, FontSource::Path(p)) => Err(Error::new(
                ErrorKind::FontNotFound,
                format!("font path `{p}` is not bound: the host reads font files and binds them"),
            )),
            (None, FontSource::Name(n)) => Err(Error::new(
                ErrorKind::FontNotFound,
                format!("font name `{n}` is not bound: the host reads font files and binds them"),
            )),
        }
    }

    /// Where a job's font comes from under the host's rules: `Ok(Some(h))` a given or bound
    /// handle, `Ok(None)` the job's own source (`font.data`, `font.handle`), `Err(Ok(key))` a
    /// file the host must read, `Err(Err(e))` a source these rules refuse.
    #[allow(clippy::type_complexity)]
    fn host_font(
        &mut self,
        job: &Job,
        font_handle: Option<u32>,
        opts: RunOptions,
    ) -> Result<Option<u32>, Result<(FontKeyKind, String), Error>> {
        if font_handle.is_some() {
            return Ok(font_handle);
        }
        match &job.font.source {
            FontSource::Handle(_) if opts.no_handles => {
                Err(Err(Error::bad_job(if opts.named_fonts {
                    "font.handle is private to the engine; use font.name or font.data"
                } else {
                    "font.handle is private to one engine instance; give font.path or font.data"
                })))
            }
            FontSource::Path(_) if opts.named_fonts => Err(Err(Error::bad_job(
                "the server does not read font paths; name a font from its fonts directory \
                 with font.name, or send the bytes as font.data",
            ))),
            FontSource::Name(_) if !opts.named_fonts => Err(Err(Error::bad_job(
                "font.name names a font of a server's fonts directory; give font.path or font.data",
            ))),
            FontSource::Path(key) => self.bound(FontKeyKind::Path, key),
            FontSource::Name(key) => self.bound(FontKeyKind::Name, key),
            _ => Ok(None),
        }
    }

    #[allow(clippy::type_complexity)]
    fn bound(
        &mut self,
        kind: FontKeyKind,
        key: &str,
    ) -> Result<Option<u32>, Result<(FontKeyKind, String), Error>> {
        match self.bindings.get(kind, key) {
            Some(h) => Ok(Some(h)),
            None => Err(Ok((kind, key.to_string()))),
        }
    }

    /// Bind font file bytes the host read to a `font.path` / `font.name` key (answering a
    /// *needs font* result); later jobs naming the key use this font. A key bound before
    /// drops its old font; bindings past the bounds drop the least recently used.
    pub fn bind_font(
        &mut self,
        kind: FontKeyKind,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<u32, Error> {
        let len = bytes.len();
        let handle = self.fonts.register(bytes)?;
        for old in self.bindings.bind(kind, key, handle, len) {
            self.drop_font(old);
        }
        Ok(handle)
    }

    /// The host says a bound file changed or went away: drop the binding and its font.
    pub fn forget_font(&mut self, kind: FontKeyKind, key: &str) -> bool {
        match self.bindings.forget(kind, key) {
            Some(h) => {
                self.drop_font(h);
                true
            }
            None => false,
        }
    }

    /// Bound the number of bound fonts (at least 1); the least recently used go now.
    pub fn configure_bound_fonts(&mut self, max_fonts: usize) {
        for h in self.bindings.set_max_fonts(max_fonts) {
            self.drop_font(h);
        }
    }

    /// The error result of a job that failed in the host (an unreadable font file, a trap, a
    /// deadline, a full queue): the id and `font.path` are read from the job text when it can
    /// be parsed (else the `line-N` / `job` fallback), and `message` gets the usual prefix.
    pub fn host_error(job_json: &[u8], line_no: u32, kind: ErrorKind, message: &str) -> Output {
        error_output(&host_job_error(job_json, line_no, kind, message))
    }

    /// Like [`host_error`](Self::host_error), for a `VALIDATE_ONLY` run: the answer is the
    /// invalid verdict line (`{"id","valid":false,"error","error_kind"}`).
    pub fn host_verdict(job_json: &[u8], line_no: u32, kind: ErrorKind, message: &str) -> Output {
        let e = host_job_error(job_json, line_no, kind, message);
        let mut out = Output::default();
        result::write_verdict(&e.id, Err(&e), &[], &mut out);
        out
    }

    /// The first steps of a run and of a validation: parse the job, build it, and find its
    /// font (the handle passed, or the host's binding of its path or name). `Err` is the
    /// answer when they fail: the job's error, or the font the host must provide.
    fn prepare(
        &mut self,
        job_json: &[u8],
        line_no: u32,
        font_handle: Option<u32>,
        opts: RunOptions,
    ) -> Result<(Job, Option<u32>), Prepared> {
        let value = job::parse_json(job_json).map_err(|error| {
            Prepared::Failed(JobError {
                id: job::fallback_id(None, line_no),
                font_path: None,
                error,
            })
        })?;
        let job = Job::from_value(&value).map_err(|error| {
            Prepared::Failed(JobError {
                id: job::fallback_id(Some(&value), line_no),
                font_path: font_path_of(&value),
                error,
            })
        })?;
        match self.host_font(&job, font_handle, opts) {
            Ok(h) => Ok((job, h)),
            Err(Ok((kind, key))) => Err(Prepared::NeedsFont(kind, key)),
            Err(Err(error)) => Err(Prepared::Failed(JobError {
                id: job.id.clone(),
                font_path: job.font.path.clone(),
                error,
            })),
        }
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
        let opts = RunOptions {
            data_out_of_band,
            ..RunOptions::default()
        };
        self.run_json_with(job_json, line_no, font_handle, opts, out)
    }

    /// Like [`run_json_into`](Self::run_json_into), with every output option.
    pub fn run_json_with(
        &mut self,
        job_json: &[u8],
        line_no: u32,
        font_handle: Option<u32>,
        opts: RunOptions,
        out: &mut Output,
    ) {
        out.json.clear();
        out.data.clear();
        out.splice_at = None;
        let fail = |out: &mut Output, e: JobError| {
            *out = error_output(&e);
        };
        let (job, font_handle) = match self.prepare(job_json, line_no, font_handle, opts) {
            Ok(p) => p,
            Err(Prepared::NeedsFont(kind, key)) => {
                return result::write_needs_font(kind, &key, out)
            }
            Err(Prepared::Failed(e)) => return fail(out, e),
        };
        if job.sweep.is_some() {
            match self.render_sweep(&job, font_handle) {
                Ok(points) => result::write_sweep(&job, &points, opts.points_out_of_band, out),
                Err(e) => fail(out, e),
            }
            return;
        }
        let ink_box = opts.ink_box && opts.data_out_of_band;
        match self.render_job(&job, font_handle, &mut out.data, ink_box) {
            Ok(r) => result::write_success(&r, opts, out),
            Err(e) => fail(out, e),
        }
    }

    /// Register a comparison image (gray pixels, 0 = ink, row-major); returns a handle ≥ 1.
    pub fn register_image(&mut self, width: u32, height: u32, pixels: &[u8]) -> Result<u32, Error> {
        let img = compare::InkImage::from_gray(width, height, pixels)?;
        self.add_image(img)
    }

    /// Register a comparison image from PGM (P5) or grayscale PNG bytes.
    pub fn register_image_encoded(&mut self, bytes: &[u8]) -> Result<u32, Error> {
        let img = compare::InkImage::decode(bytes)?;
        self.add_image(img)
    }

    fn add_image(&mut self, img: compare::InkImage) -> Result<u32, Error> {
        if self.images.len() >= limits::MAX_REGISTERED_IMAGES {
            return Err(Error::over_limit(
                "registered images",
                self.images.len(),
                limits::MAX_REGISTERED_IMAGES,
                "",
            )
            .hint("drop some first"));
        }
        loop {
            self.next_image = self.next_image.wrapping_add(1).max(1);
            if !self.images.contains_key(&self.next_image) {
                break;
            }
        }
        self.images
            .insert(self.next_image, std::sync::Arc::new(img));
        Ok(self.next_image)
    }

    /// A registered image, or `None`.
    pub fn image(&self, handle: u32) -> Option<&compare::InkImage> {
        self.images.get(&handle).map(|a| &**a)
    }

    /// Forget a registered image. Returns whether it existed.
    pub fn drop_image(&mut self, handle: u32) -> bool {
        self.images.remove(&handle).is_some()
    }

    fn target(
        &self,
        source: &job::TargetSource,
    ) -> Result<std::sync::Arc<compare::InkImage>, Error> {
        match source {
            job::TargetSource::Handle(h) => self.images.get(h).cloned().ok_or_else(|| {
                Error::field(
                    ErrorKind::BadJob,
                    "compare.target",
                    format!("no image is registered with handle {h}"),
                )
            }),
            job::TargetSource::Data(bytes) => compare::InkImage::decode(bytes)
                .map(std::sync::Arc::new)
                .map_err(|e| Error::field(e.kind, "compare.target", e.message)),
        }
    }

    /// Compare two registered images (SPEC §4); with `aligned`, also both images pasted on the
    /// aligned canvas.
    pub fn compare_images(
        &self,
        a: u32,
        b: u32,
        method: compare::Align,
        aligned: bool,
    ) -> Result<(compare::Comparison, Option<AlignedPair>), Error> {
        let get = |h: u32| {
            self.image(h).ok_or_else(|| {
                Error::new(
                    ErrorKind::BadJob,
                    format!("no image is registered with handle {h}"),
                )
            })
        };
        let (a, b) = (get(a)?.view(), get(b)?.view());
        let c = compare::align_and_compare(&a, &b, method);
        let pair = aligned.then(|| {
            let (_, _, pa, pb) = compare::aligned_pair(&a, &b, method);
            (pa, pb)
        });
        Ok((c, pair))
    }

    /// Run an image operation given as JSON (`haforu_image_op`): `{"op":"compare","a":H,"b":H,
    /// "method":"center","aligned":false}` or `{"op":"resize","image":H,"multiplier":M}`.
    /// The JSON answer is `{"status":"success","compare":{...}}` (aligned images out of band,
    /// `a` then `b`) or `{"status":"success","width":W,"height":H}` (pixels out of band), or
    /// an error result with id `image_op`.
    pub fn image_op_json(&mut self, request: &[u8], out: &mut Output) {
        out.json.clear();
        out.data.clear();
        match self.image_op(request, &mut out.data) {
            Ok(json) => {
                out.json = json;
                out.status = Status::Success;
                out.message.clear();
                out.data_format = None;
                out.splice_at = None;
            }
            Err(error) => {
                *out = error_result("image_op", error);
            }
        }
    }

    fn image_op(&mut self, request: &[u8], data: &mut Vec<u8>) -> Result<Vec<u8>, Error> {
        let v = job::parse_json(request)?;
        let field = |k: &str| v.get(k);
        let handle = |k: &str| -> Result<u32, Error> {
            field(k)
                .and_then(serde_json::Value::as_u64)
                .filter(|h| (1..=u32::MAX as u64).contains(h))
                .map(|h| h as u32)
                .ok_or_else(|| {
                    Error::bad_job(format!("image op: `{k}` must be an image handle ≥ 1"))
                })
        };
        match field("op").and_then(serde_json::Value::as_str) {
            Some("compare") => {
                let method =
                    match field("method") {
                        None | Some(serde_json::Value::Null) => compare::Align::Center,
                        Some(m) => compare::Align::parse(m.as_str().ok_or_else(|| {
                            Error::bad_job("image op: `method` must be a string")
                        })?)?,
                    };
                let aligned = field("aligned").and_then(serde_json::Value::as_bool) == Some(true);
                let (c, pair) = self.compare_images(handle("a")?, handle("b")?, method, aligned)?;
                if let Some((pa, pb)) = pair {
                    data.extend_from_slice(&pa);
                    data.extend_from_slice(&pb);
                }
                // Keys in SPEC order (a `json!` map would sort them).
                #[derive(serde::Serialize)]
                struct Answer<'a> {
                    status: &'static str,
                    compare: &'a compare::Comparison,
                }
                let answer = Answer {
                    status: "success",
                    compare: &c,
                };
                Ok(serde_json::to_vec(&answer).expect("JSON serialises"))
            }
            Some("resize") => {
                let h = handle("image")?;
                let m = field("multiplier")
                    .and_then(serde_json::Value::as_f64)
                    .ok_or_else(|| Error::bad_job("image op: `multiplier` must be a number"))?;
                let img = self.image(h).ok_or_else(|| {
                    Error::bad_job(format!("no image is registered with handle {h}"))
                })?;
                let (w, hgt, px) =
                    compare::resize_bilinear(img.width, img.height, &img.to_gray(), m)?;
                data.extend_from_slice(&px);
                Ok(
                    format!("{{\"status\":\"success\",\"width\":{w},\"height\":{hgt}}}")
                        .into_bytes(),
                )
            }
            Some(other) => Err(Error::bad_job(format!(
                "image op `{other}` is unknown; use compare or resize"
            ))),
            None => Err(Error::bad_job("image op: missing string field `op`")),
        }
    }

    /// Font metadata (names, axes, instances, features, coverage) of a registered font's face,
    /// as JSON (`haforu_font_info`).
    pub fn font_info_json(&mut self, handle: u32, face_index: u32) -> Result<Vec<u8>, Error> {
        let bytes = self.fonts.bytes(handle)?;
        let info = font_info::font_info(&bytes, face_index, font_info::DEFAULT_MAX_CODEPOINTS)?;
        Ok(serde_json::to_vec(&info).expect("JSON serialises"))
    }

    /// Check one job the way `haforu validate` does (`VALIDATE_ONLY`): parse and validate it,
    /// resolve its font under the host's rules (an unbound path answers *needs font*, as a run
    /// does), open the face and apply the coordinates, shape the text, and decode a compare
    /// target; nothing is rasterised except for a job with `compare` (checked as `metrics`).
    /// The answer is a verdict line, `{"id","valid":true,"warnings"?}` or `{"id","valid":false,
    /// "error","error_kind","warnings"?}`; a sweep is valid when every point is (the first
    /// failed point gives the error; point warnings follow as `sweep[i]: …`).
    pub fn validate_json(
        &mut self,
        job_json: &[u8],
        line_no: u32,
        font_handle: Option<u32>,
        opts: RunOptions,
        out: &mut Output,
    ) {
        out.json.clear();
        out.data.clear();
        out.splice_at = None;
        let invalid =
            |out: &mut Output, e: JobError| result::write_verdict(&e.id, Err(&e), &[], out);
        let (mut job, font_handle) = match self.prepare(job_json, line_no, font_handle, opts) {
            Ok(p) => p,
            Err(Prepared::NeedsFont(kind, key)) => {
                return result::write_needs_font(kind, &key, out)
            }
            Err(Prepared::Failed(e)) => return invalid(out, e),
        };
        if job.rendering.format != Format::Glyphs {
            job.rendering.format = if job.compare.is_some() {
                Format::Metrics
            } else {
                Format::Glyphs
            };
        }
        let mut data = std::mem::take(&mut out.data);
        if job.sweep.is_some() {
            match self.render_sweep(&job, font_handle) {
                Ok(points) => result::write_sweep_verdict(&job, &points, out),
                Err(e) => invalid(out, e),
            }
        } else {
            match self.render_into(&job, font_handle, &mut data) {
                Ok(r) => result::write_verdict(&job.id, Ok(()), &r.warnings, out),
                Err(e) => invalid(out, e),
            }
        }
        data.clear();
        out.data = data;
    }

    /// Set the glyph coverage cache's bounds: `max_glyphs` (`Some(None)`: no count cap,
    /// `Some(Some(0))`: cache off) and/or its byte budget; `None` keeps a bound as it is.
    pub fn configure_glyph_cache(
        &mut self,
        max_glyphs: Option<Option<usize>>,
        max_bytes: Option<usize>,
    ) {
        self.cache.configure(max_glyphs, max_bytes);
    }

    /// Run a whole job list (batch object or JSONL): one result line per job, in input order.
    /// Fonts must come as `font.handle` or `font.data`. `Err` holds the error result for an
    /// invalid envelope.
    pub fn run_batch(&mut self, input: &[u8]) -> Result<Vec<u8>, Output> {
        let jobs = envelope::split(input).map_err(|error| error_result("batch", error))?;
        let mut out = Vec::new();
        let mut one = Output::default();
        for j in jobs {
            let job = j.text.as_bytes();
            self.run_json_with(job, j.line_no, None, RunOptions::default(), &mut one);
            if let Status::NeedsFont(_) = one.status {
                let key = String::from_utf8_lossy(&one.data).into_owned();
                one = Self::host_error(
                    job,
                    j.line_no,
                    ErrorKind::FontNotFound,
                    &format!(
                        "font `{key}` is not bound: bind it before the batch, or give font.data"
                    ),
                );
            }
            out.extend_from_slice(&one.json);
            out.push(b'\n');
        }
        Ok(out)
    }

    /// `haforu_info`'s JSON: version, ABI version, limits, error kinds (in code order) and
    /// cache counters.
    pub fn info_json(&self, abi_version: u32) -> Vec<u8> {
        let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        serde_json::json!({
            "version": VERSION,
            "abi_version": abi_version,
            "limits": limits_json(),
            "error_kinds": kinds,
            "cache": self.cache_stats(),
        })
        .to_string()
        .into_bytes()
    }
}

/// Two images pasted on their aligned canvas (gray pixels), `a` then `b`.
pub type AlignedPair = (Vec<u8>, Vec<u8>);

/// A resolved comparison target and its alignment.
type Target = (std::sync::Arc<compare::InkImage>, compare::Align);

/// Why a job could not be prepared: [`Engine::prepare`]'s answer.
enum Prepared {
    /// The job's error result (or invalid verdict).
    Failed(JobError),
    /// The font the host must read and bind.
    NeedsFont(FontKeyKind, String),
}

/// The [`JobError`] of a failure only a host saw: the id and `font.path` from the job text when
/// it parses, else the `line-N` / `job` fallback.
fn host_job_error(job_json: &[u8], line_no: u32, kind: ErrorKind, message: &str) -> JobError {
    let value = job::parse_json(job_json).ok();
    JobError {
        id: job::fallback_id(value.as_ref(), line_no),
        font_path: value.as_ref().and_then(font_path_of),
        error: Error::new(kind, message),
    }
}

/// `font.path` of a job value, when it is a string (echoed in error results).
fn font_path_of(value: &serde_json::Value) -> Option<String> {
    value
        .get("font")
        .and_then(|f| f.get("path"))
        .and_then(|p| p.as_str())
        .map(str::to_string)
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
        "max_segments_per_curve": MAX_SEGMENTS_PER_CURVE,
        "max_cells_per_glyph": MAX_CELLS_PER_GLYPH,
        "max_composite_depth": MAX_COMPOSITE_DEPTH,
        "max_composite_components": MAX_COMPOSITE_COMPONENTS,
        "max_outline_points": MAX_OUTLINE_POINTS,
        "shaping_ops_per_char": SHAPING_OPS_PER_CHAR,
        "min_shaping_ops": MIN_SHAPING_OPS,
        "shaped_glyphs_per_char": SHAPED_GLYPHS_PER_CHAR,
        "min_shaped_glyphs": MIN_SHAPED_GLYPHS,
        "max_lookup_nesting": MAX_LOOKUP_NESTING,
        "max_raster_pixels_per_job": MAX_RASTER_PIXELS_PER_JOB,
        "glyph_cache_bytes": GLYPH_CACHE_BYTES,
        "max_cached_glyph_bytes": MAX_CACHED_GLYPH_BYTES,
        "max_cached_instances": MAX_CACHED_INSTANCES,
        "max_plans_per_instance": MAX_PLANS_PER_INSTANCE,
        "max_scalers_per_instance": MAX_SCALERS_PER_INSTANCE,
        "max_registered_fonts": MAX_REGISTERED_FONTS,
        "max_sweep_points": MAX_SWEEP_POINTS,
        "max_sweep_payload_bytes": MAX_SWEEP_PAYLOAD_BYTES,
        "max_registered_images": MAX_REGISTERED_IMAGES,
    })
}
