//! Font files the host read for the engine: `font.path` / `font.name` → registered handle.
//!
//! The engine opens no files. A job naming an unbound key answers *needs font*; the host reads
//! the file and binds its bytes here, so later jobs naming the same key find the font without a
//! host round trip. Bindings are bounded by count and bytes; the least recently used go first.

use std::collections::HashMap;

/// What a font key names (ABI codes in `wasm/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FontKeyKind {
    /// `font.path`: a file the host resolves by its own rules.
    Path,
    /// `font.name`: a font of the server's fonts directory.
    Name,
}

impl FontKeyKind {
    /// The ABI code: 1 path, 2 name.
    pub fn code(self) -> u32 {
        match self {
            FontKeyKind::Path => 1,
            FontKeyKind::Name => 2,
        }
    }

    /// The kind of an ABI code, if it is one.
    pub fn from_code(code: u32) -> Option<FontKeyKind> {
        match code {
            1 => Some(FontKeyKind::Path),
            2 => Some(FontKeyKind::Name),
            _ => None,
        }
    }
}

/// Default bound on bound fonts (count).
pub const DEFAULT_MAX_BOUND_FONTS: usize = 64;
/// Bound on the bytes of bound fonts.
pub const MAX_BOUND_FONT_BYTES: usize = 512 * 1024 * 1024;

struct Entry {
    handle: u32,
    bytes: usize,
    last_use: u64,
}

/// The key → handle table.
pub(crate) struct Bindings {
    map: HashMap<(FontKeyKind, String), Entry>,
    clock: u64,
    max_fonts: usize,
    bytes: usize,
}

impl Default for Bindings {
    fn default() -> Self {
        Bindings {
            map: HashMap::new(),
            clock: 0,
            max_fonts: DEFAULT_MAX_BOUND_FONTS,
            bytes: 0,
        }
    }
}

impl Bindings {
    /// The handle bound to a key, marking it used.
    pub fn get(&mut self, kind: FontKeyKind, key: &str) -> Option<u32> {
        self.clock += 1;
        let clock = self.clock;
        // `HashMap` lookups by a borrowed tuple need an owned key; keys are short paths.
        let e = self.map.get_mut(&(kind, key.to_string()))?;
        e.last_use = clock;
        Some(e.handle)
    }

    /// Bind `handle` (of `bytes` bytes) to a key. Returns the handles to drop: the key's old
    /// font and the least recently used bindings past the bounds (never the new one).
    pub fn bind(&mut self, kind: FontKeyKind, key: &str, handle: u32, bytes: usize) -> Vec<u32> {
        self.clock += 1;
        let mut dropped = Vec::new();
        let entry = Entry {
            handle,
            bytes,
            last_use: self.clock,
        };
        if let Some(old) = self.map.insert((kind, key.to_string()), entry) {
            self.bytes -= old.bytes;
            if old.handle != handle {
                dropped.push(old.handle);
            }
        }
        self.bytes += bytes;
        dropped.extend(self.evict(Some(handle)));
        dropped
    }

    /// Forget a key; its handle, if it was bound.
    pub fn forget(&mut self, kind: FontKeyKind, key: &str) -> Option<u32> {
        let e = self.map.remove(&(kind, key.to_string()))?;
        self.bytes -= e.bytes;
        Some(e.handle)
    }

    /// Forget every binding of `handle` (the font was dropped).
    pub fn forget_handle(&mut self, handle: u32) {
        let bytes = &mut self.bytes;
        self.map.retain(|_, e| {
            let keep = e.handle != handle;
            if !keep {
                *bytes -= e.bytes;
            }
            keep
        });
    }

    /// Set the count bound (at least 1); returns the handles evicted now.
    pub fn set_max_fonts(&mut self, max_fonts: usize) -> Vec<u32> {
        self.max_fonts = max_fonts.max(1);
        self.evict(None)
    }

    /// Drop least recently used bindings while over a bound, sparing `keep`.
    fn evict(&mut self, keep: Option<u32>) -> Vec<u32> {
        let mut dropped = Vec::new();
        while self.map.len() > self.max_fonts || self.bytes > MAX_BOUND_FONT_BYTES {
            let Some(victim) = self
                .map
                .iter()
                .filter(|(_, e)| Some(e.handle) != keep)
                .min_by_key(|(_, e)| e.last_use)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            let e = self.map.remove(&victim).expect("present");
            self.bytes -= e.bytes;
            dropped.push(e.handle);
        }
        dropped
    }

    /// Number of bindings.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The count bound.
    pub fn max_fonts(&self) -> usize {
        self.max_fonts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_goes_first_and_rebinding_drops_the_old_font() {
        let mut b = Bindings::default();
        assert!(b.set_max_fonts(2).is_empty());
        assert!(b.bind(FontKeyKind::Path, "a", 1, 10).is_empty());
        assert!(b.bind(FontKeyKind::Path, "b", 2, 10).is_empty());
        assert_eq!(b.get(FontKeyKind::Path, "a"), Some(1));
        assert_eq!(b.bind(FontKeyKind::Name, "a", 3, 10), vec![2]);
        assert_eq!(b.get(FontKeyKind::Path, "b"), None);
        assert_eq!(b.get(FontKeyKind::Name, "a"), Some(3));
        assert_eq!(b.bind(FontKeyKind::Name, "a", 4, 10), vec![3]);
        assert_eq!(b.forget(FontKeyKind::Path, "a"), Some(1));
        assert_eq!(b.forget(FontKeyKind::Path, "a"), None);
        b.forget_handle(4);
        assert_eq!(b.len(), 0);
        assert_eq!(b.bytes, 0);
        assert_eq!(
            FontKeyKind::from_code(FontKeyKind::Name.code()),
            Some(FontKeyKind::Name)
        );
        assert_eq!(FontKeyKind::from_code(3), None);
    }
}
