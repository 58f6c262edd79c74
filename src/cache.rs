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
    /// The most glyphs held (`None`: only the byte budget applies; `Some(0)`: cache off).
    pub capacity: Option<usize>,
    /// Lookups that found the glyph.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Glyphs evicted to stay within budget.
    pub evictions: u64,
}

pub(crate) struct GlyphCache {
    map: HashMap<GlyphKey, Entry>,
    bytes: usize,
    budget: usize,
    capacity: Option<usize>,
    clock: u64,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl Default for GlyphCache {
    fn default() -> Self {
        GlyphCache {
            map: HashMap::new(),
            bytes: 0,
            budget: limits::GLYPH_CACHE_BYTES,
            capacity: None,
            clock: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
        }
    }
}

impl GlyphCache {
    /// Set the glyph-count capacity (`None`: no count cap; `Some(0)`: off) and/or the byte
    /// budget (capped at [`limits::GLYPH_CACHE_BYTES`]); entries over the new bounds go now.
    pub fn configure(&mut self, capacity: Option<Option<usize>>, budget: Option<usize>) {
        if let Some(c) = capacity {
            self.capacity = c;
        }
        if let Some(b) = budget {
            self.budget = b.min(limits::GLYPH_CACHE_BYTES);
        }
        if self.bytes > self.budget {
            self.evict_to(self.budget);
        }
        if let Some(cap) = self.capacity {
            self.evict_count_to(cap);
        }
    }

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
        self.clock += 1;
        let size = coverage.bytes();
        if size > limits::MAX_CACHED_GLYPH_BYTES.min(self.budget) || self.capacity == Some(0) {
            return;
        }
        if self.bytes + size > self.budget {
            self.evict_to((self.budget / 4 * 3).saturating_sub(size.min(self.budget / 2)));
        }
        if let Some(cap) = self.capacity {
            if self.map.len() >= cap && !self.map.contains_key(&key) {
                // Make room for a quarter of the capacity at once, so eviction stays amortised.
                self.evict_count_to(cap - 1 - (cap - 1) / 4);
            }
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

    /// Evict least recently used entries until at most `n` remain.
    fn evict_count_to(&mut self, n: usize) {
        if self.map.len() <= n {
            return;
        }
        let mut ages: Vec<(u64, GlyphKey)> =
            self.map.iter().map(|(k, e)| (e.last_used, *k)).collect();
        ages.sort_unstable_by_key(|(t, _)| *t);
        let excess = self.map.len() - n;
        for (_, k) in ages.into_iter().take(excess) {
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
            budget_bytes: self.budget,
            capacity: self.capacity,
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
    fn glyph_capacity_bounds_entries_and_zero_turns_cache_off() {
        let mut c = GlyphCache::default();
        c.configure(Some(Some(8)), None);
        for gid in 0..100 {
            c.insert(key(gid), cov(10));
            assert!(c.stats().entries <= 8, "{:?}", c.stats());
        }
        assert!(c.get(&key(99)).is_some());
        assert!(c.get(&key(0)).is_none());
        assert_eq!(c.stats().capacity, Some(8));
        c.configure(Some(Some(2)), None);
        assert_eq!(c.stats().entries, 2);
        assert_eq!(c.stats().bytes, 2 * cov(10).bytes());
        c.configure(Some(Some(0)), None);
        assert_eq!(c.stats().entries, 0);
        c.insert(key(1), cov(10));
        assert!(c.get(&key(1)).is_none());
        c.configure(Some(None), Some(cov(10).bytes() * 3 / 2));
        c.insert(key(1), cov(10));
        c.insert(key(2), cov(10));
        assert_eq!(c.stats().bytes, cov(10).bytes(), "{:?}", c.stats());
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
