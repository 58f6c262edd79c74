//! The glyph coverage cache: rasterised glyphs keyed by (instance, glyph, size, sub-pixel
//! phase), bounded by a byte budget with least-recently-used eviction. A hit returns exactly
//! the bytes a miss would compute, so the cache never changes output.

use crate::limits;
use crate::raster::Coverage;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct GlyphKey {
    pub instance: u64,
    pub gid: u32,
    pub size_bits: u64,
    /// Sub-pixel phase of the origin in 1/64 px, x and y.
    pub phase: (u8, u8),
}

struct Entry {
    coverage: Arc<Coverage>,
    last_used: u64,
}

/// Counters reported by `haforu_info` / `cache_stats()`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GlyphCacheStats {
    /// Glyphs held.
    pub entries: usize,
    /// Bytes held.
    pub bytes: usize,
    /// The byte budget.
    pub budget_bytes: usize,
    /// Lookups that found the glyph.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Glyphs evicted to stay within budget.
    pub evictions: u64,
}

#[derive(Default)]
pub(crate) struct GlyphCache {
    map: HashMap<GlyphKey, Entry>,
    bytes: usize,
    clock: u64,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl GlyphCache {
    pub fn get(&mut self, key: &GlyphKey) -> Option<Arc<Coverage>> {
        self.clock += 1;
        match self.map.get_mut(key) {
            Some(e) => {
                e.last_used = self.clock;
                self.hits += 1;
                Some(e.coverage.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn insert(&mut self, key: GlyphKey, coverage: Arc<Coverage>) {
        let size = coverage.bytes();
        if size > limits::MAX_CACHED_GLYPH_BYTES {
            return;
        }
        if self.bytes + size > limits::GLYPH_CACHE_BYTES {
            self.evict_to(
                limits::GLYPH_CACHE_BYTES / 4 * 3 - size.min(limits::GLYPH_CACHE_BYTES / 2),
            );
        }
        self.bytes += size;
        if let Some(old) = self.map.insert(
            key,
            Entry {
                coverage,
                last_used: self.clock,
            },
        ) {
            self.bytes -= old.coverage.bytes();
        }
    }

    /// Evict least recently used entries until at most `target` bytes remain.
    fn evict_to(&mut self, target: usize) {
        let mut ages: Vec<(u64, GlyphKey)> =
            self.map.iter().map(|(k, e)| (e.last_used, *k)).collect();
        ages.sort_unstable_by_key(|(t, _)| *t);
        for (_, k) in ages {
            if self.bytes <= target {
                break;
            }
            if let Some(e) = self.map.remove(&k) {
                self.bytes -= e.coverage.bytes();
                self.evictions += 1;
            }
        }
    }

    pub fn forget_instances(&mut self, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let mut freed = 0;
        self.map.retain(|k, e| {
            let keep = !ids.contains(&k.instance);
            if !keep {
                freed += e.coverage.bytes();
            }
            keep
        });
        self.bytes -= freed;
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }

    pub fn stats(&self) -> GlyphCacheStats {
        GlyphCacheStats {
            entries: self.map.len(),
            bytes: self.bytes,
            budget_bytes: limits::GLYPH_CACHE_BYTES,
            hits: self.hits,
            misses: self.misses,
            evictions: self.evictions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(n: usize) -> Arc<Coverage> {
        Arc::new(Coverage {
            left: 0,
            top: 0,
            width: n as u32,
            height: 1,
            data: vec![1; n],
        })
    }

    fn key(gid: u32) -> GlyphKey {
        GlyphKey {
            instance: 1,
            gid,
            size_bits: 0,
            phase: (0, 0),
        }
    }

    #[test]
    fn stays_within_budget_and_keeps_recent() {
        let mut c = GlyphCache::default();
        let n = limits::MAX_CACHED_GLYPH_BYTES / 2;
        for gid in 0..200 {
            c.insert(key(gid), cov(n));
            assert!(c.get(&key(gid)).is_some());
            assert!(c.stats().bytes <= limits::GLYPH_CACHE_BYTES);
        }
        assert!(c.get(&key(199)).is_some());
        assert!(c.get(&key(0)).is_none());
        assert!(c.stats().evictions > 0);
    }

    #[test]
    fn oversized_glyphs_are_not_cached() {
        let mut c = GlyphCache::default();
        c.insert(key(1), cov(limits::MAX_CACHED_GLYPH_BYTES + 1));
        assert!(c.get(&key(1)).is_none());
        assert_eq!(c.stats().bytes, 0);
    }

    #[test]
    fn forgetting_an_instance_frees_bytes() {
        let mut c = GlyphCache::default();
        c.insert(key(1), cov(100));
        c.forget_instances(&[1]);
        assert_eq!(
            c.stats(),
            GlyphCacheStats {
                budget_bytes: limits::GLYPH_CACHE_BYTES,
                misses: 0,
                ..Default::default()
            }
        );
    }
}
