//! Every test font, named once (paths relative to the repository root, as jobs give them).
//! Tests use these constants, never path literals; the golden data names the same files.

/// DejaVu Sans (TrueType, static, no `vmtx`).
pub const DEJAVU: &str = "tests/fonts/DejaVuSans-subset.ttf";
/// Inter (TrueType variable: `wght`, `opsz`; named instances).
pub const INTER_VF: &str = "tests/fonts/Inter-VF-subset.ttf";
/// EB Garamond 12 (CFF; `liga`).
pub const EB_GARAMOND: &str = "tests/fonts/EBGaramond12-subset.otf";
/// Source Sans 3 (CFF2 variable, with `avar`).
pub const SOURCE_SANS_VF: &str = "tests/fonts/SourceSans3VF-subset.otf";
/// A TrueType collection: face 0 regular, face 1 bold.
pub const COLLECTION: &str = "tests/fonts/Collection-subset.ttc";
pub const NOTO_ARABIC: &str = "tests/fonts/NotoSansArabic-subset.ttf";
pub const NOTO_DEVANAGARI: &str = "tests/fonts/NotoSansDevanagari-subset.ttf";
pub const NOTO_HEBREW: &str = "tests/fonts/NotoSansHebrew-subset.ttf";
pub const NOTO_THAI: &str = "tests/fonts/NotoSansThai-subset.ttf";

/// The good fonts.
pub const ALL: [&str; 9] = [
    DEJAVU,
    INTER_VF,
    EB_GARAMOND,
    SOURCE_SANS_VF,
    COLLECTION,
    NOTO_ARABIC,
    NOTO_DEVANAGARI,
    NOTO_HEBREW,
    NOTO_THAI,
];

/// Damaged files (`tests/fonts/broken/`), for the hosts' font-reading tests.
pub mod broken {
    pub const BAD_LOCA: &str = "tests/fonts/broken/badloca.ttf";
    pub const BITFLIP: &str = "tests/fonts/broken/bitflip.ttf";
    pub const EMPTY: &str = "tests/fonts/broken/empty.ttf";
    pub const RANDOM: &str = "tests/fonts/broken/random.bin";
    pub const TRUNCATED: &str = "tests/fonts/broken/truncated.ttf";
    pub const UPEM0: &str = "tests/fonts/broken/upem0.ttf";
    pub const ALL: [&str; 6] = [BAD_LOCA, BITFLIP, EMPTY, RANDOM, TRUNCATED, UPEM0];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::{read_jsonl, repo};
    use std::collections::BTreeSet;

    fn files_in(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(repo().join(dir))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .filter(|p| !p.ends_with(".txt") && !p.ends_with(".md"))
            .collect()
    }

    #[test]
    fn the_constants_name_every_font_file() {
        let named: BTreeSet<String> = ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(named, files_in("tests/fonts"));
        let broken: BTreeSet<String> = broken::ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(broken, files_in("tests/fonts/broken"));
    }

    #[test]
    fn the_golden_data_names_only_these_fonts() {
        let raster = read_jsonl("tests/golden/raster/cases.jsonl");
        let shaping = read_jsonl("tests/golden/shaping/cases.jsonl");
        let used: BTreeSet<&str> = raster
            .iter()
            .map(|c| c["font"]["path"].as_str().unwrap())
            .chain(shaping.iter().map(|c| c["font"].as_str().unwrap()))
            .collect();
        for path in &used {
            assert!(ALL.contains(path), "{path} is not in fonts::ALL");
        }
        assert_eq!(
            used.len(),
            ALL.len(),
            "a font no golden case uses: {used:?}"
        );
    }
}
