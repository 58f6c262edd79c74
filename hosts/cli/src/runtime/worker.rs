//! One thread's engine instance and the host path of one job: run, read the font the engine
//! asks for, bind it, run again; every host-side failure becomes the engine's error result.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use haforu_guest::{flags, kind, Descriptor, Fault, Guest, SandboxLimits};

use super::bind::Bound;
use super::splice::splice_base64;
use super::Runtime;

/// One finished job: the result line (with `timing`), out-of-band bytes, and its status.
pub struct Outcome {
    pub json: Vec<u8>,
    pub data: Option<Vec<u8>>,
    /// 0 on success, else the error-kind code.
    pub kind: u32,
    /// A success with its image out of band: the image's format code
    /// ([`haforu_guest::image`]); else 0.
    pub image: u32,
    /// With `SPLICE_DATA` and the data still apart ([`Worker::run_parts`]): where its base64
    /// text goes in `json`.
    pub splice_at: Option<usize>,
    /// The job failed because the host could not read the font it names.
    pub font_unreadable: bool,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.kind == 0
    }

    /// The result with the base64 text of its data where the engine said (`SPLICE_DATA`):
    /// exactly the engine's inline result.
    pub fn inline(mut self) -> Outcome {
        if let (Some(at), Some(bytes)) = (self.splice_at.take(), self.data.take()) {
            self.json = splice_base64(&self.json, at, &bytes);
        }
        self
    }
}

/// What `haforu_split` gave: `(line_no, job)` pairs, or the envelope's error result.
pub type Split = Result<Vec<(u32, Vec<u8>)>, Outcome>;

/// One thread's engine instance. Not `Sync`: give every thread its own.
pub struct Worker {
    pub(super) rt: Arc<Runtime>,
    memory_cap: usize,
    pub(super) guest: Option<Guest>,
    jobs: u64,
    default_font: Option<u32>,
    /// (key kind, key) → the file bound under it, for change detection.
    pub(super) bound: HashMap<(u32, Vec<u8>), Bound>,
    pub(super) checked_at: Instant,
    pub(super) checked_generation: u64,
    /// Rebuild the instance after every job ([`Worker::set_single_use`]).
    single_use: bool,
}

impl Worker {
    pub(super) fn new(rt: Arc<Runtime>, memory_cap_bytes: u64) -> Worker {
        Worker {
            rt,
            memory_cap: usize::try_from(memory_cap_bytes).unwrap_or(usize::MAX),
            guest: None,
            jobs: 0,
            default_font: None,
            bound: HashMap::new(),
            checked_at: Instant::now(),
            checked_generation: 0,
            single_use: false,
        }
    }

    /// The live instance (built when there is none), with `budget` (or the configured
    /// timeout) as the deadline of the calls that follow.
    pub fn guest(&mut self, budget: Option<Duration>) -> Result<&mut Guest, Fault> {
        if self.guest.as_ref().is_some_and(Guest::is_poisoned) {
            self.discard();
        }
        if self.guest.is_none() {
            let limits = SandboxLimits {
                memory_cap_bytes: self.memory_cap,
                ..SandboxLimits::default()
            };
            let mut g = Guest::new(&self.rt.module, limits)?;
            let sandbox = &self.rt.sandbox;
            let glyphs = sandbox
                .max_glyphs
                .map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
            let fonts = i32::try_from(sandbox.max_fonts.max(1)).unwrap_or(i32::MAX);
            g.cache_config(glyphs, -1, fonts)?;
            self.rt.instances_built.fetch_add(1, Ordering::Relaxed);
            self.guest = Some(g);
        }
        let timeout = self.rt.sandbox.timeout_ms;
        let g = self.guest.as_mut().expect("built above");
        g.set_deadline(budget.or((timeout > 0).then(|| Duration::from_millis(timeout))));
        Ok(g)
    }

    /// The live instance without touching its deadline (one deadline covers a whole job:
    /// the run, the font bind and the run again); built and armed when there is none.
    pub(super) fn live(&mut self) -> Result<&mut Guest, Fault> {
        match self.guest.as_ref() {
            Some(g) if !g.is_poisoned() => Ok(self.guest.as_mut().expect("live")),
            _ => self.guest(None),
        }
    }

    /// Throws the instance away (after a trap, or to recycle); the next call builds a new one.
    fn discard(&mut self) {
        self.guest = None;
        self.default_font = None;
        self.bound.clear();
        self.jobs = 0;
    }

    /// Counts a trap and drops the instance it poisoned.
    pub(super) fn fault(&mut self, f: Fault) -> Fault {
        if f.trapped {
            self.rt.traps.fetch_add(1, Ordering::Relaxed);
            self.discard();
        }
        f
    }

    /// Copies a descriptor's JSON and data out of the guest.
    pub(super) fn take(&self, d: &Descriptor) -> Result<(Vec<u8>, Vec<u8>), Fault> {
        let g = self
            .guest
            .as_ref()
            .expect("a descriptor comes from a live guest");
        Ok((g.json(d)?.to_vec(), g.data(d)?.to_vec()))
    }

    /// The full host path for one job (flags as for `haforu_run`; `SPLICE_DATA` is honoured by
    /// inserting the base64 text of the data where the engine says). `budget` overrides the
    /// configured deadline (the server passes what is left of a request's deadline).
    pub fn run_job(
        &mut self,
        job: &[u8],
        line_no: u32,
        flags: u32,
        budget: Option<Duration>,
    ) -> Outcome {
        self.run_with(job, line_no, 0, flags, budget).inline()
    }

    /// [`Worker::run_job`] with a `SPLICE_DATA` result left in its parts (`json` keeps
    /// `"data":""`, `splice_at` says where the data goes): the server answers a PNG as the
    /// image, anything else [`Outcome::inline`].
    pub fn run_parts(
        &mut self,
        job: &[u8],
        line_no: u32,
        flags: u32,
        budget: Option<Duration>,
    ) -> Outcome {
        self.run_with(job, line_no, 0, flags, budget)
    }

    /// One job with a font handle of this instance (`render` without `-f`; 0 for none); a
    /// `SPLICE_DATA` result stays in its parts (see [`Worker::run_parts`]).
    pub fn run_with(
        &mut self,
        job: &[u8],
        line_no: u32,
        handle: u32,
        flags: u32,
        budget: Option<Duration>,
    ) -> Outcome {
        let t0 = Instant::now();
        self.recheck_bound();
        let max = self.rt.facts.max_job_bytes;
        if job.len() as u64 > max {
            let reason = format!(
                "the job is {} bytes, more than the engine's limit of {max}",
                job.len()
            );
            return self.error(None, line_no, kind::LIMIT_EXCEEDED, &reason, flags, t0);
        }
        let mut font_unreadable = false;
        let result = (|| -> Result<Descriptor, Fault> {
            let mut d = self.guest(budget)?.run(job, line_no, handle, flags)?;
            for _ in 0..2 {
                if !d.needs_font() {
                    break;
                }
                let (_, key) = self.take(&d)?;
                match self.bind(d.kind, &key) {
                    Ok(()) => d = self.live()?.run(job, line_no, handle, flags)?,
                    Err((code, reason)) => {
                        font_unreadable = true;
                        let g = self.live()?;
                        d = g.result_error(Some(job), line_no, code, &reason, flags)?;
                    }
                }
            }
            if d.needs_font() {
                let reason = "the engine asked for a font twice";
                d = self.guest(None)?.result_error(
                    Some(job),
                    line_no,
                    kind::INTERNAL,
                    reason,
                    flags,
                )?;
            }
            // A verdict line (`VALIDATE_ONLY`) carries no timing.
            if flags & flags::VALIDATE_ONLY != 0 {
                return Ok(d);
            }
            // The run is over: the timing call gets a deadline of its own.
            let g = self.guest(None)?;
            g.result_timing(t0.elapsed().as_secs_f64() * 1e3)
        })();
        let d = match result {
            Ok(d) => d,
            Err(f) => {
                let f = self.fault(f);
                return self.error(Some(job), line_no, f.kind, &f.reason, flags, t0);
            }
        };
        let (json, data) = match self.take(&d) {
            Ok(x) => x,
            Err(f) => return self.error(Some(job), line_no, f.kind, &f.reason, flags, t0),
        };
        let kind = if d.is_ok() { 0 } else { d.kind.max(1) };
        let image = if d.is_ok() { d.kind } else { 0 };
        let data = (!data.is_empty()).then_some(data);
        let splice_at =
            (flags & flags::SPLICE_DATA != 0 && data.is_some()).then_some(d.splice_at as usize);
        self.after_job();
        Outcome {
            json,
            data,
            kind,
            image,
            splice_at,
            font_unreadable,
        }
    }

    /// The engine's error result for a failure the host saw (`haforu_result_error`), with
    /// `timing` measured from `t0`; with `flags` holding `VALIDATE_ONLY`, the invalid verdict
    /// line (no timing). Builds a fresh instance if needed.
    pub fn error(
        &mut self,
        job: Option<&[u8]>,
        line_no: u32,
        code: u32,
        reason: &str,
        flags: u32,
        t0: Instant,
    ) -> Outcome {
        let written = (|| {
            let g = self.guest(None)?;
            let mut d = g.result_error(job, line_no, code, reason, flags)?;
            if flags & flags::VALIDATE_ONLY == 0 {
                d = g.result_timing(t0.elapsed().as_secs_f64() * 1e3)?;
            }
            self.take(&d)
        })();
        match written {
            Ok((json, _)) => Outcome {
                json,
                data: None,
                kind: code,
                image: 0,
                splice_at: None,
                font_unreadable: false,
            },
            Err(f) => {
                // No instance can even write an error result: the engine is unusable.
                eprintln!("haforu: the engine cannot run: {}", f.reason);
                std::process::exit(crate::util::exit::ENGINE);
            }
        }
    }

    /// Recycles the instance when it has served enough jobs or grown too big.
    fn after_job(&mut self) {
        let sandbox = &self.rt.sandbox;
        let Some(g) = self.guest.as_ref() else {
            return;
        };
        self.jobs += 1;
        let big = g.memory_bytes() as u64 > sandbox.recycle_memory_mb << 20;
        let old =
            self.single_use || (sandbox.recycle_jobs > 0 && self.jobs >= sandbox.recycle_jobs);
        if big || old {
            self.rt.recycles.fetch_add(1, Ordering::Relaxed);
            self.discard();
        }
    }

    /// The bundled default font's handle in this instance (`render` without `-f`).
    pub fn default_font(&mut self) -> Result<u32, Fault> {
        if let Some(h) = self.default_font {
            return Ok(h);
        }
        let h = self
            .guest(None)?
            .font_register_default()
            .map_err(|f| self.fault(f))?;
        self.default_font = Some(h);
        Ok(h)
    }

    /// `haforu_envelope_probe`: true when the input must be read whole and split.
    pub fn probe(&mut self, first_line: &[u8]) -> Result<bool, Fault> {
        let r = self.guest(None)?.envelope_probe(first_line);
        r.map_err(|f| self.fault(f))
    }

    /// `haforu_split`: the envelope as `(line_no, job)` pairs, or the envelope's error result.
    pub fn split(&mut self, input: &[u8]) -> Split {
        let t0 = Instant::now();
        let r = (|| {
            let d = self.guest(None)?.split(input)?;
            Ok((d, self.take(&d)?.0))
        })();
        let (d, json) = match r {
            Ok(x) => x,
            Err(f) => {
                let f = self.fault(f);
                return Err(self.error(Some(br#"{"id":"batch"}"#), 0, f.kind, &f.reason, 0, t0));
            }
        };
        if !d.is_ok() {
            let kind = d.kind.max(1);
            return Err(Outcome {
                json,
                data: None,
                kind,
                image: 0,
                splice_at: None,
                font_unreadable: false,
            });
        }
        let mut jobs = Vec::new();
        for line in json.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let tab = line.iter().position(|&b| b == b'\t');
            let n = tab
                .and_then(|t| std::str::from_utf8(&line[..t]).ok())
                .and_then(|s| s.parse::<u32>().ok());
            match (tab, n) {
                (Some(t), Some(n)) => jobs.push((n, line[t + 1..].to_vec())),
                _ => {
                    let reason = "haforu_split gave a line without a line number";
                    return Err(self.error(
                        Some(br#"{"id":"batch"}"#),
                        0,
                        kind::INTERNAL,
                        reason,
                        0,
                        t0,
                    ));
                }
            }
        }
        Ok(jobs)
    }

    /// Calls `f` on the live instance and copies the answer out: (JSON, data, ok).
    pub fn call(
        &mut self,
        f: impl FnOnce(&mut Guest) -> Result<Descriptor, Fault>,
    ) -> Result<(Vec<u8>, Vec<u8>, bool), Fault> {
        let r = f(self.guest(None)?).and_then(|d| {
            let (j, b) = self.take(&d)?;
            Ok((j, b, d.is_ok()))
        });
        r.map_err(|e| self.fault(e))
    }

    /// `haforu_work_estimate`: the work `job` asks for, in pixels touched (0 when the job does
    /// not parse, or the instance failed: the run reports it).
    pub fn work_estimate(&mut self, job: &[u8]) -> u64 {
        let r = self.guest(None).and_then(|g| g.work_estimate(job));
        r.map_err(|f| self.fault(f)).unwrap_or(0)
    }

    /// Rebuild this worker's instance after every job (a lane of big jobs: each one's memory
    /// is given back at once).
    pub fn set_single_use(&mut self) {
        self.single_use = true;
    }

    /// Linear-memory size of the current instance in bytes (0 when none is live).
    pub fn memory_bytes(&self) -> usize {
        self.guest.as_ref().map_or(0, Guest::memory_bytes)
    }
}
