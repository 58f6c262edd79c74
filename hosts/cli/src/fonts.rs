//! Font files read on the host, shared by all workers.
//!
//! The wasm module never sees a path: the host reads the file, keeps its bytes here (keyed by
//! path, checked against size and mtime on every use, least recently used dropped past a byte
//! budget) and each worker registers the bytes once per instance under the entry's `id`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::job::ErrorKind;

/// Bytes of font files kept in memory across jobs.
const FONT_CACHE_BYTES_MAX: usize = 512 << 20;
/// Largest font file the host reads (the engine cannot hold more in a 32-bit memory anyway).
pub const FONT_FILE_BYTES_MAX: u64 = 1 << 30;

/// Font bytes with a process-unique id (a new id whenever the file changes).
pub struct LoadedFont {
    pub id: u64,
    pub bytes: Arc<[u8]>,
}

/// Why a font file could not be used.
#[derive(Debug)]
pub enum FontError {
    Io(std::io::Error),
    Empty,
    TooLarge(u64),
}

impl FontError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            FontError::Io(_) => ErrorKind::FontNotFound,
            FontError::Empty => ErrorKind::FontParse,
            FontError::TooLarge(_) => ErrorKind::LimitExceeded,
        }
    }
}

impl fmt::Display for FontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FontError::Io(e) => write!(f, "{e}"),
            FontError::Empty => write!(f, "the file is empty"),
            FontError::TooLarge(n) => write!(
                f,
                "the file has {n} bytes, more than the {FONT_FILE_BYTES_MAX} this host reads"
            ),
        }
    }
}

struct Entry {
    len: u64,
    mtime: Option<SystemTime>,
    font: Arc<LoadedFont>,
    last_use: u64,
}

#[derive(Default)]
struct Inner {
    by_path: HashMap<PathBuf, Entry>,
    bytes: usize,
    clock: u64,
}

/// The shared cache of font files.
pub struct FontFiles {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
}

impl Default for FontFiles {
    fn default() -> Self {
        Self::new()
    }
}

impl FontFiles {
    pub fn new() -> FontFiles {
        FontFiles {
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new(1),
        }
    }

    /// Wraps bytes that do not come from a file (the bundled default font, inline data).
    pub fn adopt(&self, bytes: Arc<[u8]>) -> Arc<LoadedFont> {
        Arc::new(LoadedFont {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            bytes,
        })
    }

    /// The bytes of the file at `path`, read again only when its size or mtime changed.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Arc<LoadedFont>, FontError> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(FontError::Io)?;
        if meta.is_dir() {
            return Err(FontError::Io(std::io::Error::other("it is a directory")));
        }
        let (len, mtime) = (meta.len(), meta.modified().ok());
        {
            let mut inner = self.inner.lock().expect("font cache lock");
            inner.clock += 1;
            let now = inner.clock;
            if let Some(e) = inner.by_path.get_mut(path) {
                if e.len == len && e.mtime == mtime {
                    e.last_use = now;
                    return Ok(Arc::clone(&e.font));
                }
            }
        }
        if len == 0 {
            return Err(FontError::Empty);
        }
        if len > FONT_FILE_BYTES_MAX {
            return Err(FontError::TooLarge(len));
        }
        let bytes = std::fs::read(path).map_err(FontError::Io)?;
        if bytes.is_empty() {
            return Err(FontError::Empty);
        }
        let font = self.adopt(bytes.into());
        let mut inner = self.inner.lock().expect("font cache lock");
        inner.clock += 1;
        let now = inner.clock;
        let size = font.bytes.len();
        if let Some(old) = inner.by_path.remove(path) {
            inner.bytes -= old.font.bytes.len();
        }
        while inner.bytes + size > FONT_CACHE_BYTES_MAX && !inner.by_path.is_empty() {
            let victim = inner
                .by_path
                .iter()
                .min_by_key(|(_, e)| e.last_use)
                .map(|(p, _)| p.clone())
                .expect("non-empty");
            let old = inner.by_path.remove(&victim).expect("present");
            inner.bytes -= old.font.bytes.len();
        }
        inner.bytes += size;
        inner.by_path.insert(
            path.to_path_buf(),
            Entry {
                len,
                mtime,
                font: Arc::clone(&font),
                last_use: now,
            },
        );
        Ok(font)
    }

    /// (files, bytes) currently cached.
    pub fn stats(&self) -> (usize, usize) {
        let inner = self.inner.lock().expect("font cache lock");
        (inner.by_path.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_on_change_and_errors() {
        let dir = std::env::temp_dir().join(format!("haforu-fonts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.ttf");
        std::fs::write(&p, b"abc").unwrap();
        let files = FontFiles::new();
        let a = files.load(&p).unwrap();
        let b = files.load(&p).unwrap();
        assert_eq!(a.id, b.id);
        std::fs::write(&p, b"abcd").unwrap();
        let c = files.load(&p).unwrap();
        assert_ne!(a.id, c.id);
        assert_eq!(&*c.bytes, b"abcd");
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(files.load(&p), Err(FontError::Empty)));
        assert!(matches!(
            files.load(dir.join("missing.ttf")),
            Err(FontError::Io(_))
        ));
        assert!(files.load(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
