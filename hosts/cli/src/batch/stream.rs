//! `haforu stream`: one job per line in, one result per line out, flushed per line.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::io::{display, open_input, open_output, print_stats, processed, Totals};
use super::{line_too_long, write_line, JOB_FLAGS};
use crate::input::{Item, LineReader};
use crate::runtime::Runtime;
use crate::util::{self, exit};

pub struct StreamOptions {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub strict: bool,
    pub stats: bool,
}

/// Runs `haforu stream`: one job per line in, one result per line out, flushed per line, in
/// input order. A bad line gives an error result; only the end of input stops it.
pub fn stream(rt: Arc<Runtime>, opts: StreamOptions) -> i32 {
    let t0 = Instant::now();
    let reader = match open_input(&opts.input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("haforu: cannot read {}: {e}", display(&opts.input));
            return exit::USAGE;
        }
    };
    let mut lines = LineReader::new(Box::new(io::BufReader::new(reader)));
    let mut out = match open_output(&opts.output) {
        Ok(w) => w,
        Err(rc) => return rc,
    };
    let mut worker = rt.worker();
    let mut totals = Totals::default();
    let rc = loop {
        let item = match lines.next_item() {
            Ok(Some(i)) => i,
            Ok(None) => break processed(opts.strict, !totals.errors.is_empty()),
            Err(e) => {
                eprintln!("haforu: reading {}: {e}", display(&opts.input));
                break exit::USAGE;
            }
        };
        let o = match item {
            Item::Job(n, text) => worker.run_job(&text, n, JOB_FLAGS, None),
            Item::TooLong(n) => line_too_long(&mut worker, n, JOB_FLAGS),
        };
        totals.count_outcome(&rt, &o);
        if let Err(e) = write_line(&mut out, &o.json) {
            if util::is_broken_pipe(&e) {
                break exit::OK;
            }
            eprintln!("haforu: writing results: {e}");
            break exit::OUTPUT;
        }
    };
    if opts.stats {
        print_stats(&rt, &totals, t0, 1);
    }
    rc
}
