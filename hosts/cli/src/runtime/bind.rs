//! Fonts the engine asks for: reading the file a *needs font* answer names, binding it in the
//! instance, and forgetting bindings whose file changed.
//!
//! Change detection: each worker remembers, per bound key, the file and its size and mtime.
//! Before a job it re-checks them when the shared font cache saw a changed file (its
//! generation went up) or when [`RECHECK_EVERY`] has passed, and calls `haforu_font_forget`
//! for every file that changed or went away; the next job naming it answers *needs font* again.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use haforu_guest::{key, kind};

use super::fonts::Stamp;
use super::Worker;

/// How often a worker re-checks the files it bound (size and mtime), at most. A change seen by
/// any worker's load (the font cache's generation) triggers the check at once.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// A font file bound in the current instance under a key of the engine's.
pub(super) struct Bound {
    file: PathBuf,
    stamp: Stamp,
}

impl Worker {
    /// Reads the file a *needs font* answer names and binds it; on failure the error-kind
    /// code and the bare reason.
    pub(super) fn bind(&mut self, key_kind: u32, key: &[u8]) -> Result<(), (u32, String)> {
        let text = String::from_utf8_lossy(key).into_owned();
        let file = match key_kind {
            key::PATH => self
                .rt
                .resolve_font_path(&text)
                .map_err(|m| (kind::FONT_NOT_FOUND, m))?,
            key::NAME => crate::serve::resolve_name(self.rt.fonts_dir(), &text)?,
            other => {
                return Err((
                    kind::INTERNAL,
                    format!("the engine asked for a font by key kind {other}"),
                ))
            }
        };
        let what = if key_kind == key::PATH {
            "font file"
        } else {
            "font"
        };
        let (font, stamp) = self
            .rt
            .fonts
            .load(&file, self.rt.facts.max_font_bytes)
            .map_err(|e| (e.kind(), format!("cannot read {what} '{text}': {e}")))?;
        let g = self.live().map_err(|f| (f.kind, f.reason))?;
        if let Err(f) = g.font_bind(key_kind, key, &font.bytes) {
            let f = self.fault(f);
            return Err((f.kind, f.reason));
        }
        self.bound
            .insert((key_kind, key.to_vec()), Bound { file, stamp });
        Ok(())
    }

    /// Forgets bound files that changed or went away: when the font cache saw a change, or at
    /// most every [`RECHECK_EVERY`].
    pub(super) fn recheck_bound(&mut self) {
        if self.bound.is_empty() {
            return;
        }
        let generation = self.rt.fonts.generation();
        if generation == self.checked_generation && self.checked_at.elapsed() < RECHECK_EVERY {
            return;
        }
        self.checked_generation = generation;
        self.checked_at = Instant::now();
        // The engine drops bindings past its bound on its own; the host's list stays bounded.
        if self.bound.len() > 4 * self.rt.sandbox.max_fonts.max(1) {
            self.forget_all();
            return;
        }
        let stale: Vec<(u32, Vec<u8>)> = self
            .bound
            .iter()
            .filter(|(_, b)| Stamp::now(&b.file) != Some(b.stamp))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.bound.remove(&k);
            self.forget(&k);
        }
    }

    fn forget_all(&mut self) {
        for (k, _) in std::mem::take(&mut self.bound) {
            self.forget(&k);
        }
    }

    /// `haforu_font_forget` in the live instance (none: nothing is bound).
    fn forget(&mut self, (key_kind, key): &(u32, Vec<u8>)) {
        if self.guest.is_none() {
            return;
        }
        let forgotten = self.guest(None).and_then(|g| g.font_forget(*key_kind, key));
        if let Err(f) = forgotten {
            self.fault(f);
        }
    }
}
