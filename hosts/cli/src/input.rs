//! Reading a job list: recognising the envelope (SPEC §1, wasm/README.md `haforu_split`) and
//! streaming JSONL line by line with a bounded line length, so that input of any length runs in
//! bounded memory.

use std::io::{self, BufRead, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Longest JSONL line the host accepts. Jobs are small (text ≤ 10,000 bytes); only inline
/// `font.data` makes a line long, and 64 MiB of base64 is a 48 MiB font.
pub const LINE_BYTES_MAX: usize = 64 << 20;

/// One unit of input.
pub enum Item {
    /// A job line (1-based line number, text without the newline).
    Job(u32, Vec<u8>),
    /// A line longer than [`LINE_BYTES_MAX`] (skipped).
    TooLong(u32),
}

/// A recognised job list.
pub enum Source {
    /// JSONL, read lazily.
    Lines(LineReader),
    /// A batch object, whole (to be split by the engine).
    Object(Vec<u8>),
}

/// Counts bytes as they are read (for the progress bar).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// JSONL lines with their numbers; blank lines are skipped but counted.
pub struct LineReader {
    inner: Box<dyn BufRead + Send>,
    line_no: u32,
    pending: Option<Item>,
}

impl LineReader {
    pub fn new(inner: Box<dyn BufRead + Send>) -> LineReader {
        LineReader {
            inner,
            line_no: 0,
            pending: None,
        }
    }

    /// The next non-blank line, or `None` at the end.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        if let Some(item) = self.pending.take() {
            return Ok(Some(item));
        }
        loop {
            let mut line = Vec::new();
            let (got_any, too_long) = read_line_capped(&mut self.inner, &mut line)?;
            if !got_any {
                return Ok(None);
            }
            self.line_no = self.line_no.saturating_add(1);
            if too_long {
                return Ok(Some(Item::TooLong(self.line_no)));
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(Item::Job(self.line_no, line)));
        }
    }
}

/// Reads one line (without `\n`) into `out`, at most [`LINE_BYTES_MAX`] bytes; the rest of an
/// overlong line is consumed and dropped. Returns (anything read, line was too long).
fn read_line_capped(r: &mut dyn BufRead, out: &mut Vec<u8>) -> io::Result<(bool, bool)> {
    let mut any = false;
    let mut too_long = false;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((any, too_long));
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if out.len() + chunk.len() > LINE_BYTES_MAX {
                too_long = true;
                out.clear();
                out.shrink_to_fit();
            } else {
                out.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        if done.is_some() {
            return Ok((true, too_long));
        }
    }
}

/// Recognises the envelope of `input` and returns the source plus a counter of bytes read.
///
/// The first non-blank line goes to the engine (`probe`, which is `haforu_envelope_probe`):
/// `false` means JSONL, streamed line by line from there; `true` means the input opens a batch
/// object or a JSON text spanning lines, so it is read whole for `haforu_split` (which also
/// turns a text that is JSONL after all into one job per line).
pub fn open(
    input: Box<dyn Read + Send>,
    probe: &mut dyn FnMut(&[u8]) -> bool,
) -> io::Result<(Source, Arc<AtomicU64>)> {
    let count = Arc::new(AtomicU64::new(0));
    let mut r: Box<dyn BufRead + Send> = Box::new(io::BufReader::with_capacity(
        256 << 10,
        Counting {
            inner: input,
            count: Arc::clone(&count),
        },
    ));
    // Leading blank lines and the first non-blank line, kept verbatim.
    let mut prefix = Vec::new();
    let mut first = Vec::new();
    loop {
        let mut line = Vec::new();
        let (any, too_long) = read_line_capped(&mut *r, &mut line)?;
        if !any {
            break;
        }
        if too_long {
            // Not a batch object we could hold anyway: report the line, go on with the rest.
            let n = prefix.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let lines = LineReader {
                inner: r,
                line_no: n,
                pending: Some(Item::TooLong(n)),
            };
            return Ok((Source::Lines(lines), count));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            prefix.extend_from_slice(&line);
            prefix.push(b'\n');
            continue;
        }
        first = line;
        break;
    }
    let mut head = prefix;
    head.extend_from_slice(&first);
    head.push(b'\n');
    if first.is_empty() || !probe(&first) {
        let lines = LineReader::new(Box::new(Cursor::new(head).chain(r)));
        return Ok((Source::Lines(lines), count));
    }
    r.read_to_end(&mut head)?;
    Ok((Source::Object(head), count))
}

/// The number of jobs in a JSONL text: its lines holding anything but ASCII whitespace (the
/// lines [`LineReader`] yields). One pass over `r`, for the progress bar.
pub fn count_job_lines(mut r: impl Read) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let (mut jobs, mut content) = (0u64, false);
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &b in &buf[..n] {
            let newline = b == b'\n';
            jobs += u64::from(newline & content);
            content = (content | !b.is_ascii_whitespace()) & !newline;
        }
    }
    Ok(jobs + u64::from(content))
}
