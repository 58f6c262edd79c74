//! Fonts from bytes: registration by handle, faces of collections, named instances and
//! variation locations (clamped to the font's own axes), each instance with its shaping plans
//! and outline scalers cached.

use crate::error::{Error, ErrorKind};
use crate::face::{self, tag_string};
use crate::limits;
use harfrust::ShapePlan;
use skrifa::font::Font;
use skrifa::{ScalerFont, Tag};
use std::collections::HashMap;
use std::sync::Arc;

/// A registered font file.
struct FontFile {
    bytes: Arc<Vec<u8>>,
    /// Parsed faces by face index (the default location), or why they failed.
    faces: HashMap<u32, Result<Font, Error>>,
}

/// The request that selects an instance: font, face, named instance and raw variations.
#[derive(Clone, PartialEq, Eq, Hash)]
struct InstanceKey {
    handle: u32,
    face_index: u32,
    instance: Option<String>,
    variations: Vec<([u8; 4], u32)>,
}

/// One font at one location, with what is worth keeping between jobs.
pub(crate) struct Instance {
    /// Unique for the engine's life; keys the glyph cache.
    pub id: u64,
    pub font: Font,
    pub units_per_em: u16,
    /// The applied (clamped) user coordinates, in axis order.
    pub applied: Vec<(String, f32)>,
    /// What the location request changed or ignored (axes the font lacks, clamped values).
    pub warnings: Vec<String>,
    /// Shaping plans made for this instance (found again by `harfrust::ShapePlanKey`).
    pub(crate) plans: Vec<ShapePlan>,
    scalers: Vec<(u64, ScalerFont)>,
    last_used: u64,
}

impl Instance {
    /// The unhinted outline scaler at `size_px` (cached per size).
    pub fn scaler(&mut self, size_px: f64) -> &ScalerFont {
        let key = size_px.to_bits();
        if let Some(i) = self.scalers.iter().position(|(k, _)| *k == key) {
            return &self.scalers[i].1;
        }
        if self.scalers.len() >= limits::MAX_SCALERS_PER_INSTANCE {
            self.scalers.remove(0);
        }
        let scaler = ScalerFont::force_unhinted(self.font.clone(), Some(size_px as f32));
        self.scalers.push((key, scaler));
        &self.scalers.last().expect("just pushed").1
    }
}

/// All registered fonts and the instance cache.
#[derive(Default)]
pub(crate) struct Fonts {
    files: HashMap<u32, FontFile>,
    next_handle: u32,
    instances: HashMap<InstanceKey, Instance>,
    next_instance_id: u64,
    clock: u64,
}

impl Fonts {
    pub fn register(&mut self, bytes: Vec<u8>) -> Result<u32, Error> {
        if bytes.len() > limits::MAX_FONT_BYTES {
            return Err(Error::over_limit(
                "font",
                bytes.len(),
                limits::MAX_FONT_BYTES,
                "bytes",
            ));
        }
        if self.files.len() >= limits::MAX_REGISTERED_FONTS {
            return Err(Error::over_limit(
                "registered fonts",
                self.files.len(),
                limits::MAX_REGISTERED_FONTS,
                "",
            )
            .hint("drop some first"));
        }
        // Handles are never reused while the engine lives, so a stale handle cannot silently
        // name another font.
        loop {
            self.next_handle = self.next_handle.wrapping_add(1).max(1);
            if !self.files.contains_key(&self.next_handle) {
                break;
            }
        }
        self.files.insert(
            self.next_handle,
            FontFile {
                bytes: Arc::new(bytes),
                faces: HashMap::new(),
            },
        );
        Ok(self.next_handle)
    }

    /// Forget a font; returns the ids of the instances that went with it.
    pub fn drop_font(&mut self, handle: u32) -> Option<Vec<u64>> {
        self.files.remove(&handle)?;
        let mut gone = Vec::new();
        self.instances.retain(|k, inst| {
            if k.handle == handle {
                gone.push(inst.id);
                false
            } else {
                true
            }
        });
        Some(gone)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The file bytes of a registered font.
    pub fn bytes(&self, handle: u32) -> Result<Arc<Vec<u8>>, Error> {
        self.files
            .get(&handle)
            .map(|f| f.bytes.clone())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::FontNotFound,
                    format!("no font is registered with handle {handle}"),
                )
            })
    }

    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    pub fn clear_instances(&mut self) {
        self.instances.clear();
    }

    /// The face at the default location.
    pub fn face(&mut self, handle: u32, face_index: u32) -> Result<&Font, Error> {
        let file = self.files.get_mut(&handle).ok_or_else(|| {
            Error::new(
                ErrorKind::FontNotFound,
                format!("no font is registered with handle {handle}"),
            )
        })?;
        let bytes = &file.bytes;
        file.faces
            .entry(face_index)
            .or_insert_with(|| load_face(bytes, face_index))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The instance for a job's font request; returns `(instance, evicted instance id)`.
    pub fn instance(
        &mut self,
        handle: u32,
        face_index: u32,
        named: Option<&str>,
        variations: &[([u8; 4], f32)],
    ) -> Result<(&mut Instance, Option<u64>), Error> {
        self.clock += 1;
        let key = InstanceKey {
            handle,
            face_index,
            instance: named.map(str::to_string),
            variations: variations.iter().map(|(t, v)| (*t, v.to_bits())).collect(),
        };
        let mut evicted = None;
        if !self.instances.contains_key(&key) {
            let face = self.face(handle, face_index)?.clone();
            let (font, applied, warnings) = locate(&face, named, variations)?;
            if self.instances.len() >= limits::MAX_CACHED_INSTANCES {
                if let Some(oldest) = self
                    .instances
                    .iter()
                    .min_by_key(|(_, i)| i.last_used)
                    .map(|(k, _)| k.clone())
                {
                    evicted = self.instances.remove(&oldest).map(|i| i.id);
                }
            }
            self.next_instance_id += 1;
            let inst = Instance {
                id: self.next_instance_id,
                units_per_em: font.units_per_em(),
                font,
                applied,
                warnings,
                plans: Vec::new(),
                scalers: Vec::new(),
                last_used: 0,
            };
            self.instances.insert(key.clone(), inst);
        }
        let inst = self.instances.get_mut(&key).expect("inserted above");
        inst.last_used = self.clock;
        Ok((inst, evicted))
    }
}

fn load_face(bytes: &Arc<Vec<u8>>, face_index: u32) -> Result<Font, Error> {
    face::open(bytes, face_index)?;
    let blob: Arc<dyn AsRef<[u8]> + Send + Sync> = bytes.clone();
    Font::new(blob, face_index)
        .ok_or_else(|| Error::font_parse(format!("face {face_index} could not be parsed")))
}

/// A job's 4-byte tag as text, trailing spaces trimmed.
pub(crate) fn tag_text(tag: &[u8; 4]) -> String {
    tag_string(Tag::new(tag))
}

/// Find the named instance `name` in `font`, by subfamily name.
fn find_named_instance(font: &Font, name: &str) -> Result<u32, Error> {
    let names = font.names();
    let mut available = Vec::new();
    let mut folded = None;
    for inst in font.named_instances().iter() {
        let sub = names
            .get(inst.subfamily_name())
            .and_then(|n| n.english_or_first())
            .map(|l| l.name().to_string());
        if let Some(sub) = sub {
            if sub == name {
                return Ok(inst.index());
            }
            if folded.is_none() && sub.eq_ignore_ascii_case(name) {
                folded = Some(inst.index());
            }
            available.push(sub);
        }
    }
    if let Some(i) = folded {
        return Ok(i);
    }
    Err(Error::field_value(
        ErrorKind::BadJob,
        "font.instance",
        name,
        if available.is_empty() {
            "is not in the font: it has no named instances".to_string()
        } else {
            format!("is not in the font; it has: {}", available.join(", "))
        },
    ))
}

/// Applied user coordinates, in axis order.
type Applied = Vec<(String, f32)>;

/// Build the instance for a request; returns the font, the applied user coordinates and the
/// warnings about the request (SPEC §4: axes the font lacks, clamped values, a static font).
fn locate(
    face: &Font,
    named: Option<&str>,
    variations: &[([u8; 4], f32)],
) -> Result<(Font, Applied, Vec<String>), Error> {
    let axes = face.axes();
    let mut warnings = Vec::new();
    if axes.is_empty() {
        if let Some(name) = named {
            return Err(Error::field_value(
                ErrorKind::BadJob,
                "font.instance",
                name,
                "cannot apply: the font is not variable",
            ));
        }
        if !variations.is_empty() {
            warnings.push("font.variations: the font has no variation axes; ignored".to_string());
        }
        return Ok((face.clone(), Vec::new(), warnings));
    }
    // Start from the named instance (if any), then apply the job's variations, clamped.
    let mut coords: Vec<Option<f32>> = vec![None; axes.len() as usize];
    if let Some(name) = named {
        let index = find_named_instance(face, name)?;
        if let Some(inst) = face.named_instances().get(index) {
            for (slot, v) in coords.iter_mut().zip(inst.user_coords()) {
                *slot = Some(v);
            }
        }
    }
    for (tag, value) in variations {
        let tag = Tag::new(tag);
        if let Some(axis) = axes.get_by_tag(tag) {
            let (lo, hi) = (axis.min_value(), axis.max_value());
            let (lo, hi) = (lo.min(hi), hi.max(lo));
            let v = if value.is_nan() {
                axis.default_value()
            } else {
                value.clamp(lo, hi)
            };
            if v != *value {
                warnings.push(format!(
                    "font.variations: {} {value} is outside the font's range {lo}..{hi}; clamped to {v}",
                    tag_string(tag)
                ));
            }
            coords[axis.index() as usize] = Some(v);
        } else {
            warnings.push(format!(
                "font.variations: axis `{}` is not in the font; ignored",
                tag_string(tag)
            ));
        }
    }
    let mut applied = Vec::new();
    let mut settings = Vec::new();
    for (axis, v) in axes.iter().zip(coords.iter()) {
        if let Some(v) = *v {
            applied.push((tag_string(axis.tag()), v));
            settings.push((axis.tag(), v));
        }
    }
    let font = face.instance_builder().variations(settings).build();
    Ok((font, applied, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_are_parse_errors() {
        let mut fonts = Fonts::default();
        let h = fonts.register(Vec::new()).unwrap();
        assert_eq!(fonts.face(h, 0).err().unwrap().kind, ErrorKind::FontParse);
        let h = fonts.register(vec![0x55; 4096]).unwrap();
        let e = fonts.face(h, 0).err().unwrap();
        assert_eq!(e.kind, ErrorKind::FontParse);
        assert!(e.message.contains("not a font"), "{e}");
    }

    #[test]
    fn unknown_handle_is_not_found() {
        let mut fonts = Fonts::default();
        assert_eq!(
            fonts.face(7, 0).err().unwrap().kind,
            ErrorKind::FontNotFound
        );
    }

    #[test]
    fn default_font_loads_and_face_index_checked() {
        let mut fonts = Fonts::default();
        let h = fonts.register(crate::DEFAULT_FONT.to_vec()).unwrap();
        assert!(fonts.face(h, 0).is_ok());
        let e = fonts.face(h, 1).err().unwrap();
        assert!(e.message.contains("out of range"), "{e}");
    }

    #[test]
    fn variations_clamped_to_axis_range() {
        let mut fonts = Fonts::default();
        let h = fonts.register(crate::DEFAULT_FONT.to_vec()).unwrap();
        let (inst, _) = fonts
            .instance(h, 0, None, &[(*b"wght", 5000.0), (*b"ZZZZ", 1.0)])
            .unwrap();
        assert_eq!(inst.applied, vec![("wght".to_string(), 900.0)]);
        assert_eq!(
            inst.warnings,
            vec![
                "font.variations: wght 5000 is outside the font's range 100..900; clamped to 900",
                "font.variations: axis `ZZZZ` is not in the font; ignored",
            ]
        );
    }
}
