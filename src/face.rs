//! Opening one face of a font file: the checks and messages every reader of font bytes shares
//! (the engine's font registry and `font_info`), so a file fails the same way everywhere.

use crate::error::Error;
use skrifa::raw::{FileRef, FontRef, TableProvider};
use skrifa::Tag;

/// One face of a font file, checked.
pub(crate) struct Face<'a> {
    /// The face's tables.
    pub font: FontRef<'a>,
    /// Faces in the file (1 for a plain font file).
    pub count: u32,
    /// From `head`, within 16–16384.
    pub units_per_em: u16,
}

/// Face `face_index` of the font file or collection `bytes`.
/// Fails with `font_parse` for empty or foreign bytes, a face index out of range, a missing or
/// broken `head`, or unitsPerEm outside 16–16384 (what the engine cannot render).
pub(crate) fn open(bytes: &[u8], face_index: u32) -> Result<Face<'_>, Error> {
    if bytes.is_empty() {
        return Err(Error::font_parse("the font file is empty (0 bytes)"));
    }
    let file =
        FileRef::new(bytes).map_err(|e| Error::font_parse(format!("not a font file: {e}")))?;
    let count = match &file {
        FileRef::Font(_) => 1,
        FileRef::Collection(c) => c.len(),
    };
    if face_index >= count {
        return Err(Error::font_parse(format!(
            "face_index {face_index} is out of range: the file has {count} face{}",
            if count == 1 { "" } else { "s" }
        )));
    }
    let font = file
        .fonts()
        .nth(face_index as usize)
        .ok_or_else(|| Error::font_parse("face not found"))?
        .map_err(|e| Error::font_parse(format!("face {face_index}: {e}")))?;
    let head = font
        .head()
        .map_err(|e| Error::font_parse(format!("face {face_index}: no usable head table: {e}")))?;
    let upem = head.units_per_em();
    if !(16..=16384).contains(&upem) {
        return Err(Error::font_parse(format!(
            "unitsPerEm is {upem}; OpenType requires 16–16384"
        )));
    }
    Ok(Face {
        font,
        count,
        units_per_em: upem,
    })
}

/// A tag as text, trailing spaces trimmed (`wght`, `ss01`).
pub(crate) fn tag_string(tag: Tag) -> String {
    tag.to_be_bytes()
        .iter()
        .map(|&c| c as char)
        .collect::<String>()
        .trim_end()
        .to_string()
}
