//! Font files read on the host, shared by all workers.
//!
//! The engine opens no files: when a job names a font it does not have, it answers *needs
//! font* and the host reads the file. Only regular files are read (never a FIFO, a device or a
//! directory), at most the engine's `limits.max_font_bytes`, and no further than that. The
//! bytes are kept here (keyed by file, checked against size and mtime on every load, least
//! recently used dropped past a byte budget). When a load notices that a file changed, the
//! [generation](FontFiles::generation) goes up, which tells every worker to re-check the files
//! it bound in its engine instance.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use haforu_guest::kind;

/// Bytes of font files kept in memory across jobs.
const FONT_CACHE_BYTES_MAX: usize = 512 << 20;

/// The bytes of one version of a font file.
pub struct LoadedFont {
    pub bytes: Arc<[u8]>,
}

/// The size and mtime a file had when it was read (a change means: read it again).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            mtime: meta.modified().ok(),
        }
    }

    /// The file's stamp now, or `None` if it is gone or no longer a regular file.
    pub fn now(path: &Path) -> Option<Stamp> {
        std::fs::metadata(path)
            .ok()
            .filter(Metadata::is_file)
            .map(|m| Stamp::of(&m))
    }
}

/// Why a font file could not be used.
#[derive(Debug)]
pub enum FontError {
    Io(std::io::Error),
    /// A directory, FIFO, device or socket.
    NotRegular,
    Empty,
    TooLarge {
        len: u64,
        max: u64,
    },
}

impl FontError {
    /// The error-kind code of the job's error result.
    pub fn kind(&self) -> u32 {
        match self {
            FontError::Io(_) | FontError::NotRegular => kind::FONT_NOT_FOUND,
            FontError::Empty => kind::FONT_PARSE,
            FontError::TooLarge { .. } => kind::LIMIT_EXCEEDED,
        }
    }
}

impl fmt::Display for FontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FontError::Io(e) => write!(f, "{e}"),
            FontError::NotRegular => write!(f, "not a regular file"),
            FontError::Empty => write!(f, "the file is empty"),
            FontError::TooLarge { len, max } => write!(
                f,
                "the file has {len} bytes, more than the engine's limit of {max} (limits.max_font_bytes)"
            ),
        }
    }
}

struct Entry {
    stamp: Stamp,
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
    generation: AtomicU64,
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
            generation: AtomicU64::new(0),
        }
    }

    /// Goes up whenever a load finds that a cached file changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// The bytes of the regular file at `path` (at most `max` bytes) and their stamp, read
    /// again only when its size or mtime changed.
    pub fn load(
        &self,
        path: impl AsRef<Path>,
        max: u64,
    ) -> Result<(Arc<LoadedFont>, Stamp), FontError> {
        let path = path.as_ref();
        // A FIFO or device is refused before it is opened (opening a FIFO blocks).
        let meta = std::fs::metadata(path).map_err(FontError::Io)?;
        check_regular(&meta, max)?;
        let stamp = Stamp::of(&meta);
        {
            let mut inner = self.inner.lock().expect("font cache lock");
            inner.clock += 1;
            let now = inner.clock;
            if let Some(e) = inner.by_path.get_mut(path) {
                if e.stamp == stamp {
                    e.last_use = now;
                    return Ok((Arc::clone(&e.font), stamp));
                }
                self.generation.fetch_add(1, Ordering::Relaxed);
            }
        }
        let bytes = read_regular(path, max)?;
        let font = Arc::new(LoadedFont {
            bytes: bytes.into(),
        });
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
                stamp,
                font: Arc::clone(&font),
                last_use: now,
            },
        );
        Ok((font, stamp))
    }

    /// (files, bytes) currently cached.
    pub fn stats(&self) -> (usize, usize) {
        let inner = self.inner.lock().expect("font cache lock");
        (inner.by_path.len(), inner.bytes)
    }
}

/// A regular file of at most `max` bytes, by its metadata.
fn check_regular(meta: &std::fs::Metadata, max: u64) -> Result<(), FontError> {
    if !meta.is_file() {
        return Err(FontError::NotRegular);
    }
    if meta.len() > max {
        return Err(FontError::TooLarge {
            len: meta.len(),
            max,
        });
    }
    Ok(())
}

/// Reads a regular file of at most `max` bytes: opened without blocking, checked again on the
/// open descriptor (the path may have been swapped), read no further than `max + 1` bytes.
fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, FontError> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(FontError::Io)?;
    let meta = file.metadata().map_err(FontError::Io)?;
    check_regular(&meta, max)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(FontError::Io)?;
    if bytes.len() as u64 > max {
        return Err(FontError::TooLarge {
            len: bytes.len() as u64,
            max,
        });
    }
    if bytes.is_empty() {
        return Err(FontError::Empty);
    }
    Ok(bytes)
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
        let (a, _) = files.load(&p, 100).unwrap();
        let (b, _) = files.load(&p, 100).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(files.generation(), 0);
        std::fs::write(&p, b"abcd").unwrap();
        let (c, _) = files.load(&p, 100).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(files.generation(), 1);
        assert_eq!(&*c.bytes, b"abcd");
        assert!(matches!(
            files.load(&p, 3),
            Err(FontError::TooLarge { len: 4, max: 3 })
        ));
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(files.load(&p, 100), Err(FontError::Empty)));
        assert!(matches!(
            files.load(dir.join("missing.ttf"), 100),
            Err(FontError::Io(_))
        ));
        assert!(matches!(files.load(&dir, 100), Err(FontError::NotRegular)));
        assert!(matches!(
            files.load("/dev/zero", 100),
            Err(FontError::NotRegular)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
