//! The worker pool shared by `batch`, `validate` and `serve`: N threads, each owning one
//! [`Worker`] (its own Store and instance), fed by one bounded queue of tasks.
//!
//! Submitting blocks (`batch`: the reader waits for room), waits asynchronously (`serve`'s
//! streaming `/batch`: backpressure to the client) or fails at once when the queue is full
//! (`serve`'s `/render`: 503). Results keep input order through [`Ordered`] (batch) or a
//! queue of one-shot receivers (serve).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::runtime::{Runtime, Worker};

/// A unit of work: runs on some worker thread with that thread's engine instance.
pub type Task = Box<dyn FnOnce(&mut Worker) + Send>;

/// Why a task was not queued.
pub enum Refused {
    /// The queue is full.
    Full,
    /// The pool is shutting down.
    Closed,
}

pub struct Pool {
    tx: async_channel::Sender<Task>,
    threads: Vec<JoinHandle<()>>,
    capacity: usize,
}

impl Pool {
    /// Starts `workers` threads (at least one) behind a queue of `queue` tasks.
    pub fn new(rt: &Arc<Runtime>, workers: usize, queue: usize) -> Pool {
        Pool::with_workers("haforu-worker", workers, queue, || rt.worker(), || {})
    }

    /// [`Pool::new`] with threads named `name-N`, each running the worker `make` builds after
    /// calling `on_start` on its own thread.
    pub fn with_workers(
        name: &str,
        workers: usize,
        queue: usize,
        make: impl Fn() -> Worker,
        on_start: fn(),
    ) -> Pool {
        let capacity = queue.max(1);
        let (tx, rx) = async_channel::bounded::<Task>(capacity);
        let threads = (0..workers.max(1))
            .map(|i| {
                let rx = rx.clone();
                let mut worker = make();
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        on_start();
                        while let Ok(task) = rx.recv_blocking() {
                            task(&mut worker);
                        }
                    })
                    .expect("spawn worker")
            })
            .collect();
        Pool {
            tx,
            threads,
            capacity,
        }
    }

    /// Queues `task`, waiting for room; false once the pool is closed.
    pub fn submit_blocking(&self, task: Task) -> bool {
        self.tx.send_blocking(task).is_ok()
    }

    /// Queues `task`, waiting asynchronously for room; false once the pool is closed.
    pub async fn submit(&self, task: Task) -> bool {
        self.tx.send(task).await.is_ok()
    }

    /// Queues `task` only if there is room now.
    pub fn try_submit(&self, task: Task) -> Result<(), Refused> {
        self.try_hand(task).map_err(|(r, _)| r)
    }

    /// Like [`Pool::try_submit`], but a refused task comes back (to run elsewhere).
    pub fn try_hand(&self, task: Task) -> Result<(), (Refused, Task)> {
        self.tx.try_send(task).map_err(|e| {
            let refused = if e.is_full() {
                Refused::Full
            } else {
                Refused::Closed
            };
            (refused, e.into_inner())
        })
    }

    /// True when a task would be refused as [`Refused::Full`] now.
    pub fn is_full(&self) -> bool {
        self.tx.is_full()
    }

    /// Tasks waiting for a worker.
    pub fn queued(&self) -> usize {
        self.tx.len()
    }

    /// Worker threads.
    pub fn workers(&self) -> usize {
        self.threads.len()
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stops taking tasks; the workers finish what is queued.
    pub fn close(&self) {
        self.tx.close();
    }

    /// Closes the queue and waits for the workers to finish.
    pub fn join(self) {
        self.tx.close();
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Puts results numbered 0, 1, 2, … back in order as they arrive in any order.
pub struct Ordered<T> {
    pending: BTreeMap<u64, T>,
    next: u64,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered {
            pending: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<T> Ordered<T> {
    /// Adds result `seq`; returns every result that is now next in line.
    pub fn push(&mut self, seq: u64, item: T) -> Vec<T> {
        self.pending.insert(seq, item);
        let mut ready = Vec::new();
        while let Some(item) = self.pending.remove(&self.next) {
            self.next += 1;
            ready.push(item);
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_releases_in_sequence() {
        let mut o = Ordered::default();
        assert!(o.push(1, "b").is_empty());
        assert!(o.push(2, "c").is_empty());
        assert_eq!(o.push(0, "a"), vec!["a", "b", "c"]);
        assert_eq!(o.push(3, "d"), vec!["d"]);
    }
}
