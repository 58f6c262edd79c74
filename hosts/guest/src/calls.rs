//! One typed method per function export (wasm/README.md, *Exports*).

use crate::descriptor::{Descriptor, Fault};
use crate::instance::Guest;

impl Guest {
    /// `haforu_run(job, line_no, font_handle, flags)`: one job (any bytes).
    pub fn run(
        &mut self,
        job: &[u8],
        line_no: u32,
        font_handle: u32,
        flags: u32,
    ) -> Result<Descriptor, Fault> {
        let p = self.stage(&[job])?;
        let (f, n) = (self.f.run.clone(), job.len() as u32);
        let d = self.call(|s| f.call(s, (p, n, line_no, font_handle, flags)))?;
        self.descriptor(d)
    }

    /// `haforu_run_batch(input, flags)`: a whole job list, results as JSONL.
    pub fn run_batch(&mut self, input: &[u8], flags: u32) -> Result<Descriptor, Fault> {
        let p = self.stage(&[input])?;
        let (f, n) = (self.f.run_batch.clone(), input.len() as u32);
        let d = self.call(|s| f.call(s, (p, n, flags)))?;
        self.descriptor(d)
    }

    /// `haforu_split(input)`: the job list as `N<TAB>JOB` lines, or the envelope's error.
    pub fn split(&mut self, input: &[u8]) -> Result<Descriptor, Fault> {
        let p = self.stage(&[input])?;
        let (f, n) = (self.f.split.clone(), input.len() as u32);
        let d = self.call(|s| f.call(s, (p, n)))?;
        self.descriptor(d)
    }

    /// `haforu_envelope_probe(first_line)`: false for JSONL (stream it line by line), true
    /// when the input must be read whole and given to [`Guest::split`].
    pub fn envelope_probe(&mut self, first_line: &[u8]) -> Result<bool, Fault> {
        let p = self.stage(&[first_line])?;
        let (f, n) = (self.f.envelope_probe.clone(), first_line.len() as u32);
        Ok(self.call(|s| f.call(s, (p, n)))? == 1)
    }

    /// `haforu_work_estimate(job)`: the work the job asks for, in pixels touched (0 for a
    /// job that does not parse); a server routes expensive jobs by it.
    pub fn work_estimate(&mut self, job: &[u8]) -> Result<u64, Fault> {
        let p = self.stage(&[job])?;
        let (f, n) = (self.f.work_estimate.clone(), job.len() as u32);
        self.call(|s| f.call(s, (p, n)))
    }

    /// `haforu_result_error`: the engine's error result for a failure the host saw. `job` is
    /// the job's text when it is in memory (it gives the id and `font.path`), else `None`
    /// (the id is `line-N`, or `job` for `line_no` 0); `reason` is the bare message. `flags`
    /// are the run's flags: with [`crate::flags::VALIDATE_ONLY`] the engine writes the invalid
    /// verdict line instead of an error result.
    pub fn result_error(
        &mut self,
        job: Option<&[u8]>,
        line_no: u32,
        kind: u32,
        reason: &str,
        flags: u32,
    ) -> Result<Descriptor, Fault> {
        let job = job.unwrap_or_default();
        let p = self.stage(&[job, reason.as_bytes()])?;
        let (jl, ml) = (job.len() as u32, reason.len() as u32);
        let f = self.f.result_error.clone();
        let d = self.call(|s| f.call(s, (p, jl, line_no, kind, p + jl, ml, flags)))?;
        self.descriptor(d)
    }

    /// `haforu_result_timing(total_ms)`: adds `timing` to the current single-job result.
    pub fn result_timing(&mut self, total_ms: f64) -> Result<Descriptor, Fault> {
        let f = self.f.result_timing.clone();
        let d = self.call(|s| f.call(s, total_ms))?;
        self.descriptor(d)
    }

    /// `haforu_result_restate(command, subject, font)`: the current error result restated as
    /// the error of the host command `command` (`info`, `compare`) about the file `subject`
    /// (`font`: it is a font file, written as `font.path`). Other results come back unchanged.
    pub fn result_restate(
        &mut self,
        command: &str,
        subject: &str,
        font: bool,
    ) -> Result<Descriptor, Fault> {
        let p = self.stage(&[command.as_bytes(), subject.as_bytes()])?;
        let (cl, sl) = (command.len() as u32, subject.len() as u32);
        let f = self.f.result_restate.clone();
        let d = self.call(|s| f.call(s, (p, cl, p + cl, sl, u32::from(font))))?;
        self.descriptor(d)
    }

    /// `d` when it is a success; else the error restated for `command` about `subject`
    /// ([`Guest::result_restate`]).
    pub fn restated_unless_ok(
        &mut self,
        d: Descriptor,
        command: &str,
        subject: &str,
        font: bool,
    ) -> Result<Descriptor, Fault> {
        if d.is_ok() {
            Ok(d)
        } else {
            self.result_restate(command, subject, font)
        }
    }

    /// `haforu_font_register`: hands the bytes over; returns the handle.
    pub fn font_register(&mut self, font: &[u8]) -> Result<u32, Fault> {
        let (p, n) = self.hand_over(font, "the font")?;
        let f = self.f.font_register.clone();
        match self.call(|s| f.call(s, (p, n)))? {
            0 => Err(Fault::internal(
                "haforu_font_register refused a live buffer",
            )),
            h => Ok(h),
        }
    }

    /// `haforu_font_register_default`: the bundled font's handle.
    pub fn font_register_default(&mut self) -> Result<u32, Fault> {
        let f = self.f.font_register_default.clone();
        self.call(|s| f.call(s, ()))
    }

    /// `haforu_font_bind(key_kind, key, font)`: answers a needs-font result; returns the handle.
    pub fn font_bind(&mut self, key_kind: u32, key: &[u8], font: &[u8]) -> Result<u32, Fault> {
        let (fp, fl) = self.hand_over(font, "the font")?;
        let kp = self.stage(&[key])?;
        let f = self.f.font_bind.clone();
        let kl = key.len() as u32;
        match self.call(|s| f.call(s, (key_kind, kp, kl, fp, fl)))? {
            0 => Err(Fault::internal("haforu_font_bind refused the font")),
            h => Ok(h),
        }
    }

    /// `haforu_font_forget(key_kind, key)`: true if the key was bound.
    pub fn font_forget(&mut self, key_kind: u32, key: &[u8]) -> Result<bool, Fault> {
        let p = self.stage(&[key])?;
        let (f, n) = (self.f.font_forget.clone(), key.len() as u32);
        Ok(self.call(|s| f.call(s, (key_kind, p, n)))? == 1)
    }

    /// `haforu_font_drop(handle)`: true if the font existed.
    pub fn font_drop(&mut self, handle: u32) -> Result<bool, Fault> {
        let f = self.f.font_drop.clone();
        Ok(self.call(|s| f.call(s, handle))? == 1)
    }

    /// `haforu_info`: version, limits, error kinds, caches (JSON).
    pub fn info(&mut self) -> Result<Descriptor, Fault> {
        let f = self.f.info.clone();
        let d = self.call(|s| f.call(s, ()))?;
        self.descriptor(d)
    }

    /// `haforu_cache_config(max_glyphs, max_bytes, max_fonts)`; a negative value keeps a bound.
    pub fn cache_config(
        &mut self,
        max_glyphs: i32,
        max_bytes: i32,
        max_fonts: i32,
    ) -> Result<(), Fault> {
        let f = self.f.cache_config.clone();
        self.call(|s| f.call(s, (max_glyphs, max_bytes, max_fonts)))
            .map(|_| ())
    }

    /// `haforu_cache_clear`: empties the glyph and shaping caches.
    pub fn cache_clear(&mut self) -> Result<(), Fault> {
        let f = self.f.cache_clear.clone();
        self.call(|s| f.call(s, ()))
    }

    /// `haforu_image_register(bytes, width, height)`: gray pixels, or with 0×0 an encoded
    /// PGM/PNG. JSON `{"handle","width","height"}` or an error result.
    pub fn image_register(
        &mut self,
        bytes: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Descriptor, Fault> {
        let p = self.stage(&[bytes])?;
        let (f, n) = (self.f.image_register.clone(), bytes.len() as u32);
        let d = self.call(|s| f.call(s, (p, n, width, height)))?;
        self.descriptor(d)
    }

    /// `haforu_image_drop(handle)`: true if the image existed.
    pub fn image_drop(&mut self, handle: u32) -> Result<bool, Fault> {
        let f = self.f.image_drop.clone();
        Ok(self.call(|s| f.call(s, handle))? == 1)
    }

    /// `haforu_image_op(request)`: an image operation given as JSON.
    pub fn image_op(&mut self, request: &[u8]) -> Result<Descriptor, Fault> {
        let p = self.stage(&[request])?;
        let (f, n) = (self.f.image_op.clone(), request.len() as u32);
        let d = self.call(|s| f.call(s, (p, n)))?;
        self.descriptor(d)
    }

    /// `haforu_font_info(handle, face_index)`: the face's metadata JSON or an error result.
    pub fn font_info(&mut self, handle: u32, face_index: u32) -> Result<Descriptor, Fault> {
        let f = self.f.font_info.clone();
        let d = self.call(|s| f.call(s, (handle, face_index)))?;
        self.descriptor(d)
    }
}
