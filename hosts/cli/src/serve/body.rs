//! A streamed request body as non-blank lines, under the body limit.

use axum::body::Body;
use futures_util::StreamExt;

pub enum Line {
    Job(u32, Vec<u8>),
    End,
    Broken,
    TooLarge,
}

/// Splits a streamed request body into non-blank lines, enforcing the body limit.
pub struct BodyLines {
    stream: axum::body::BodyDataStream,
    buf: Vec<u8>,
    pos: usize,
    total: usize,
    max: usize,
    line_no: u32,
    eof: bool,
}

impl BodyLines {
    pub fn new(body: Body, max: usize) -> BodyLines {
        BodyLines {
            stream: body.into_data_stream(),
            buf: Vec::new(),
            pos: 0,
            total: 0,
            max,
            line_no: 0,
            eof: false,
        }
    }

    /// Pulls one more chunk; false at the end of the body.
    async fn fill(&mut self) -> Result<bool, Line> {
        if self.eof {
            return Ok(false);
        }
        match self.stream.next().await {
            None => {
                self.eof = true;
                Ok(false)
            }
            Some(Err(_)) => Err(Line::Broken),
            Some(Ok(chunk)) => {
                self.total += chunk.len();
                if self.total > self.max {
                    return Err(Line::TooLarge);
                }
                if self.pos > 0 {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
                self.buf.extend_from_slice(&chunk);
                Ok(true)
            }
        }
    }

    pub async fn next_line(&mut self) -> Line {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let mut line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 1;
                self.line_no += 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Line::Job(self.line_no, line);
            }
            match self.fill().await {
                Ok(true) => continue,
                Ok(false) => {
                    if self.pos < self.buf.len() {
                        let line = self.buf[self.pos..].to_vec();
                        self.pos = self.buf.len();
                        self.line_no += 1;
                        if !line.iter().all(u8::is_ascii_whitespace) {
                            return Line::Job(self.line_no, line);
                        }
                    }
                    return Line::End;
                }
                Err(l) => return l,
            }
        }
    }

    /// The rest of the body after the lines read so far (for a job list read whole).
    pub async fn rest(&mut self) -> Result<Vec<u8>, Line> {
        while self.fill().await? {}
        let rest = self.buf[self.pos..].to_vec();
        self.pos = self.buf.len();
        Ok(rest)
    }
}
