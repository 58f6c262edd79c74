//! Two lanes, so that expensive jobs cannot take every worker from cheap ones.
//!
//! Every job first reaches a worker of the main pool, which asks the engine what the job
//! costs (`haforu_work_estimate`, pixels touched: microseconds; the host never reads the job).
//! A job over `--heavy-work` megapixels, or a request body over [`HEAVY_BODY_BYTES`], moves to
//! the heavy lane: `--heavy-workers` threads of their own (default 1) behind a short queue
//! (`--heavy-queue`), whose instances are rebuilt after every job. When
//! that queue is full, `/render` answers `overloaded` (503) at once and `/batch` runs the job
//! where it is (a batch waits rather than fails). `--heavy-workers 0` turns the lane off.
//! On Linux the heavy lane's threads run at a lower priority (nice +10): on a busy machine
//! cheap jobs are scheduled first, and heavy ones use what CPU is left.

use std::sync::Arc;

use crate::pool::{Pool, Refused, Task};
use crate::runtime::{Runtime, Worker};

/// A request body this large (a font by `font.data`, an inline comparison target) goes to the
/// heavy lane without being estimated: reading it is itself the cost.
pub const HEAVY_BODY_BYTES: usize = 1 << 20;

pub struct Lanes {
    heavy: Option<Pool>,
    /// Jobs whose work estimate passes this (pixels) are heavy.
    heavy_work: u64,
}

/// What became of a job that a main-pool worker found heavy.
pub enum Moved {
    /// Queued on the heavy lane.
    Queued,
    /// The heavy lane is full: the caller answers or runs it itself.
    Full(Task),
}

impl Lanes {
    pub fn new(rt: &Arc<Runtime>, workers: usize, queue: usize, heavy_mpx: u64) -> Lanes {
        let heavy = (workers > 0).then(|| {
            Pool::with_workers(
                "haforu-heavy",
                workers,
                queue,
                || {
                    let mut w = rt.worker();
                    // Each heavy job gets a fresh instance, so the memory it took (a giant
                    // canvas, a big font) is given back at once; a new instance (~0.3 ms) costs
                    // far less than a job big enough for this lane.
                    w.set_single_use();
                    w
                },
                lower_priority,
            )
        });
        Lanes {
            heavy,
            heavy_work: heavy_mpx.saturating_mul(1_000_000),
        }
    }

    /// True when `job` (its body `len` bytes) belongs on the heavy lane, judged on the HTTP
    /// side by size alone.
    pub fn heavy_by_size(&self, len: usize) -> bool {
        self.heavy.is_some() && len > HEAVY_BODY_BYTES
    }

    /// True when the engine says `job` is expensive (asked on worker `w`).
    pub fn heavy_by_estimate(&self, w: &mut Worker, job: &[u8]) -> bool {
        self.heavy.is_some() && w.work_estimate(job) > self.heavy_work
    }

    /// Moves a task to the heavy lane. After it, the allocator's free pages go back to the
    /// system: a heavy job's buffers (a giant canvas's result, a big font) are freed by then.
    pub fn hand(&self, task: Task) -> Moved {
        let Some(pool) = &self.heavy else {
            return Moved::Full(task);
        };
        let task: Task = Box::new(move |w: &mut Worker| {
            task(w);
            crate::runtime::give_back_freed_memory();
        });
        match pool.try_hand(task) {
            Ok(()) => Moved::Queued,
            Err((Refused::Full | Refused::Closed, task)) => Moved::Full(task),
        }
    }

    /// The heavy lane is on and has no room now.
    pub fn heavy_full(&self) -> bool {
        self.heavy.as_ref().is_some_and(Pool::is_full)
    }

    /// (workers, queue capacity) of the heavy lane; (0, 0) when it is off.
    pub fn heavy_shape(&self) -> (usize, usize) {
        self.heavy
            .as_ref()
            .map_or((0, 0), |p| (p.workers(), p.capacity()))
    }

    /// Stops taking heavy jobs; queued ones finish.
    pub fn close(&self) {
        if let Some(p) = &self.heavy {
            p.close();
        }
    }

    /// Waits for the heavy lane's threads.
    pub fn join(self) {
        if let Some(p) = self.heavy {
            p.join();
        }
    }
}

/// Lowers the calling thread's scheduling priority (Linux: `nice` is per thread). Best effort:
/// a failure leaves the priority as it was.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread with valid arguments; no memory is
    // shared with the kernel.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}
