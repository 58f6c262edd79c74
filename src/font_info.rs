//! Font metadata for user interfaces (font pickers, preview pages): names, metrics, cmap
//! coverage, variation axes, named instances and OpenType layout features with their UI names.
//!
//! Pure and read-only: it parses the bytes it is given and keeps nothing. Field names serialise
//! in camelCase (`unitsPerEm`), because the first consumer is JavaScript.
//!
//! ```
//! let info = haforu::font_info::font_info(haforu::DEFAULT_FONT, 0, 100).unwrap();
//! assert_eq!(info.units_per_em, 2816);
//! assert!(info.axes.iter().any(|a| a.tag == "wght"));
//! ```

use crate::error::Error;
use crate::face::{self, tag_string};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use skrifa::instance::Size;
use skrifa::raw::tables::layout::{FeatureList, FeatureParams};
use skrifa::raw::TableProvider;
use skrifa::MetadataProvider;

/// The default bound on [`FontInfo::codepoints`]: enough for any text font's full repertoire
/// (a CJK font maps ~30 000–60 000 characters) while keeping the list under 256 KB, so a
/// pathological cmap cannot make a UI allocate megabytes.
pub const DEFAULT_MAX_CODEPOINTS: usize = 65_536;

/// Everything a UI shows about one face.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FontInfo {
    /// The face described (index inside a collection, 0 for a plain font file).
    pub face_index: u32,
    /// Faces in the file (1 for a plain font file).
    pub face_count: u32,
    /// Typographic family name (name ID 16), else the family name (ID 1).
    pub family_name: Option<String>,
    /// Typographic subfamily name (ID 17), else the subfamily name (ID 2): "Regular", "Bold Italic".
    pub style_name: Option<String>,
    /// Full font name (ID 4).
    pub full_name: Option<String>,
    /// PostScript name (ID 6).
    pub postscript_name: Option<String>,
    /// Version string (ID 5).
    pub version: Option<String>,
    /// Font units per em (head).
    pub units_per_em: u16,
    /// Glyphs in the font (maxp).
    pub glyph_count: u32,
    /// Ascender in font units at the default location (typo metrics when the font asks for
    /// them, else hhea).
    pub ascender: f32,
    /// Descender in font units (negative below the baseline).
    pub descender: f32,
    /// Line gap in font units.
    pub line_gap: f32,
    /// Cap height in font units (OS/2), when present.
    pub cap_height: Option<f32>,
    /// x-height in font units (OS/2), when present.
    pub x_height: Option<f32>,
    /// Mapped Unicode code points, ascending, at most the requested bound.
    pub codepoints: Vec<u32>,
    /// How many code points the cmap maps in all (may exceed `codepoints.len()`).
    pub codepoint_count: u32,
    /// Variation axes in fvar order (empty for a static font).
    pub axes: Vec<AxisInfo>,
    /// Named instances in fvar order.
    pub instances: Vec<NamedInstanceInfo>,
    /// OpenType layout features present in GSUB and/or GPOS, by tag, ascending.
    pub features: Vec<FeatureInfo>,
}

/// One variation axis, in user-space coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AxisInfo {
    /// The axis tag (`wght`), trailing spaces trimmed.
    pub tag: String,
    /// The axis name from the name table ("Weight"), else the tag.
    pub name: String,
    /// Minimum value.
    pub min: f32,
    /// Default value.
    pub default: f32,
    /// Maximum value.
    pub max: f32,
    /// The font asks UIs not to show this axis (fvar HIDDEN_AXIS flag).
    pub hidden: bool,
}

/// One named instance (fvar).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedInstanceInfo {
    /// Subfamily name ("Bold"): the value `font.instance` accepts in a job.
    pub name: String,
    /// The instance's PostScript name, when the font has one.
    pub postscript_name: Option<String>,
    /// User-space coordinates, `{tag: value}` in axis order: usable as `font.variations`.
    pub coords: Coords,
}

/// Axis coordinates that serialise as a JSON object in axis order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coords(pub Vec<(String, f32)>);

impl Serialize for Coords {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (tag, value) in &self.0 {
            m.serialize_entry(tag, value)?;
        }
        m.end()
    }
}

/// One layout feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureInfo {
    /// The feature tag (`liga`, `ss01`), trailing spaces trimmed.
    pub tag: String,
    /// Which tables have it: `"GSUB"`, `"GPOS"` or both.
    pub tables: Vec<&'static str>,
    /// The font's own label, for `ssXX` (StylisticSet params) and `cvXX` (CharacterVariant
    /// params), when it gives one.
    pub ui_name: Option<String>,
    /// The font's tooltip text for a `cvXX` feature, when it gives one.
    pub tooltip: Option<String>,
}

/// Describe face `face_index` of the font file `bytes`; list at most `max_codepoints` mapped code
/// points (use [`DEFAULT_MAX_CODEPOINTS`] unless a UI needs fewer).
///
/// Fails with a `font_parse` error for what the engine itself could not load (empty or foreign
/// bytes, a face index out of range, a missing or broken `head`, unitsPerEm outside 16–16384).
/// Optional tables that are broken are treated as absent: a font the engine can render always
/// gets a description.
pub fn font_info(bytes: &[u8], face_index: u32, max_codepoints: usize) -> Result<FontInfo, Error> {
    let face::Face {
        font,
        count: face_count,
        units_per_em,
    } = face::open(bytes, face_index)?;
    let name = |ids: &[skrifa::string::StringId]| {
        ids.iter().find_map(|&id| {
            font.localized_strings(id)
                .english_or_first()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
        })
    };
    use skrifa::string::StringId as Id;
    let metrics = font.metrics(Size::unscaled(), skrifa::instance::LocationRef::default());

    let mut codepoints = Vec::new();
    let mut codepoint_count = 0u32;
    for (cp, _) in font.charmap().mappings() {
        codepoint_count += 1;
        if codepoints.len() < max_codepoints {
            codepoints.push(cp);
        }
    }
    // Mappings come from one subtable in ascending order; sort anyway so the contract holds
    // for odd cmaps, then drop duplicates.
    codepoints.sort_unstable();
    codepoints.dedup();

    let axes: Vec<AxisInfo> = font
        .axes()
        .iter()
        .map(|axis| {
            let tag = tag_string(axis.tag());
            AxisInfo {
                name: name(&[axis.name_id()]).unwrap_or_else(|| tag.clone()),
                tag,
                min: axis.min_value(),
                default: axis.default_value(),
                max: axis.max_value(),
                hidden: axis.is_hidden(),
            }
        })
        .collect();

    let instances = font
        .named_instances()
        .iter()
        .enumerate()
        .map(|(index, inst)| NamedInstanceInfo {
            name: name(&[inst.subfamily_name_id()])
                .unwrap_or_else(|| format!("Instance {}", index + 1)),
            postscript_name: inst.postscript_name_id().and_then(|id| name(&[id])),
            coords: Coords(
                axes.iter()
                    .zip(inst.user_coords())
                    .map(|(a, v)| (a.tag.clone(), v))
                    .collect(),
            ),
        })
        .collect();

    let mut features: Vec<FeatureInfo> = Vec::new();
    if let Ok(list) = font.gsub().and_then(|t| t.feature_list()) {
        collect_features(&list, "GSUB", &mut features, &name);
    }
    if let Ok(list) = font.gpos().and_then(|t| t.feature_list()) {
        collect_features(&list, "GPOS", &mut features, &name);
    }
    features.sort_by(|a, b| a.tag.cmp(&b.tag));

    Ok(FontInfo {
        face_index,
        face_count,
        family_name: name(&[Id::TYPOGRAPHIC_FAMILY_NAME, Id::FAMILY_NAME]),
        style_name: name(&[Id::TYPOGRAPHIC_SUBFAMILY_NAME, Id::SUBFAMILY_NAME]),
        full_name: name(&[Id::FULL_NAME]),
        postscript_name: name(&[Id::POSTSCRIPT_NAME]),
        version: name(&[Id::VERSION_STRING]),
        units_per_em,
        glyph_count: metrics.glyph_count,
        ascender: metrics.ascent,
        descender: metrics.descent,
        line_gap: metrics.leading,
        cap_height: metrics.cap_height,
        x_height: metrics.x_height,
        codepoints,
        codepoint_count,
        axes,
        instances,
        features,
    })
}

/// Add the features of one table's feature list to `out`, merging tags already seen.
fn collect_features(
    list: &FeatureList<'_>,
    table: &'static str,
    out: &mut Vec<FeatureInfo>,
    name: &dyn Fn(&[skrifa::string::StringId]) -> Option<String>,
) {
    for record in list.feature_records() {
        let tag = tag_string(record.feature_tag());
        let (mut ui_name, mut tooltip) = (None, None);
        if let Ok(feature) = record.feature(list.offset_data()) {
            match feature.feature_params() {
                Some(Ok(FeatureParams::StylisticSet(p))) => ui_name = name(&[p.ui_name_id()]),
                Some(Ok(FeatureParams::CharacterVariant(p))) => {
                    ui_name = non_null(p.feat_ui_label_name_id()).and_then(|id| name(&[id]));
                    tooltip = non_null(p.feat_ui_tooltip_text_name_id()).and_then(|id| name(&[id]));
                }
                _ => {}
            }
        }
        match out.iter_mut().find(|f| f.tag == tag) {
            Some(f) => {
                if !f.tables.contains(&table) {
                    f.tables.push(table);
                }
                f.ui_name = f.ui_name.take().or(ui_name);
                f.tooltip = f.tooltip.take().or(tooltip);
            }
            None => out.push(FeatureInfo {
                tag,
                tables: vec![table],
                ui_name,
                tooltip,
            }),
        }
    }
}

fn non_null(id: skrifa::string::StringId) -> Option<skrifa::string::StringId> {
    (id.to_u16() != 0).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn test_font(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fonts/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn default_font_names_axes_instances() {
        let info = font_info(crate::DEFAULT_FONT, 0, DEFAULT_MAX_CODEPOINTS).unwrap();
        assert_eq!(info.face_count, 1);
        assert!(
            info.family_name.as_deref().unwrap().starts_with("Inter"),
            "{info:?}"
        );
        assert!(info.glyph_count > 100);
        let wght = info
            .axes
            .iter()
            .find(|a| a.tag == "wght")
            .expect("wght axis");
        assert_eq!((wght.min, wght.max), (100.0, 900.0));
        assert_eq!(wght.name, "Weight");
        let bold = info
            .instances
            .iter()
            .find(|i| i.name == "Bold")
            .expect("Bold instance");
        assert!(bold.coords.0.contains(&("wght".to_string(), 700.0)));
        assert!(info.codepoints.contains(&u32::from('A')));
        assert!(info.codepoints.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(info.codepoints.len() as u32, info.codepoint_count);
    }

    #[test]
    fn codepoints_are_bounded() {
        let info = font_info(crate::DEFAULT_FONT, 0, 10).unwrap();
        assert_eq!(info.codepoints.len(), 10);
        assert!(info.codepoint_count > 10);
    }

    #[test]
    fn features_from_both_tables() {
        let info = font_info(&test_font("DejaVuSans-subset.ttf"), 0, 0).unwrap();
        let kern = info
            .features
            .iter()
            .find(|f| f.tag == "kern")
            .expect("kern");
        assert!(kern.tables.contains(&"GPOS"), "{kern:?}");
        assert!(info.features.windows(2).all(|w| w[0].tag < w[1].tag));
        let garamond = font_info(&test_font("EBGaramond12-subset.otf"), 0, 0).unwrap();
        assert!(garamond
            .features
            .iter()
            .any(|f| f.tag == "liga" && f.tables == ["GSUB"]));
        assert!(garamond.axes.is_empty() && garamond.instances.is_empty());
    }

    #[test]
    fn stylistic_set_ui_names_come_from_the_name_table() {
        let ui = |info: &FontInfo, tag: &str| {
            info.features
                .iter()
                .find(|f| f.tag == tag)
                .and_then(|f| f.ui_name.clone())
        };
        let inter = font_info(crate::DEFAULT_FONT, 0, 0).unwrap();
        assert_eq!(ui(&inter, "ss01").as_deref(), Some("Open digits"));
        assert_eq!(ui(&inter, "liga"), None);
        let source = font_info(&test_font("SourceSans3VF-subset.otf"), 0, 0).unwrap();
        assert_eq!(ui(&source, "ss10").as_deref(), Some("Dotted zero [ 0 ]"));
        // Only ssXX/cvXX carry UI names; `size` params (GPOS) are not names.
        for f in source.features.iter().filter(|f| f.ui_name.is_some()) {
            assert!(f.tag.starts_with("ss") || f.tag.starts_with("cv"), "{f:?}");
        }
    }

    #[test]
    fn collection_faces() {
        let bytes = test_font("Collection-subset.ttc");
        let f0 = font_info(&bytes, 0, 0).unwrap();
        let f1 = font_info(&bytes, 1, 0).unwrap();
        assert_eq!((f0.face_count, f1.face_count), (2, 2));
        assert_ne!(f0.style_name, f1.style_name);
        let e = font_info(&bytes, 2, 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::FontParse);
        assert!(e.message.contains("out of range"), "{e}");
    }

    #[test]
    fn broken_fonts_are_parse_errors_not_panics() {
        for file in ["empty.ttf", "random.bin", "upem0.ttf"] {
            let e = font_info(&test_font(&format!("broken/{file}")), 0, 100).unwrap_err();
            assert_eq!(e.kind, ErrorKind::FontParse, "{file}: {e}");
        }
        // Partly damaged files either describe or fail cleanly.
        for file in ["truncated.ttf", "bitflip.ttf"] {
            let _ = font_info(&test_font(&format!("broken/{file}")), 0, 100);
        }
    }

    #[test]
    fn serialises_camel_case_with_coords_objects() {
        let info = font_info(crate::DEFAULT_FONT, 0, 3).unwrap();
        let v = serde_json::to_value(&info).unwrap();
        assert!(v["unitsPerEm"].is_number());
        assert!(v["instances"][0]["coords"]["wght"].is_number(), "{v}");
        assert!(v["axes"][0]["default"].is_number());
    }
}
