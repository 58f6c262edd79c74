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
/// broken `head`, unitsPerEm outside 16–16384, or a required table that is missing or cut
/// short (see [`check_required_tables`]): what the engine cannot render (nor can FreeType).
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
    check_required_tables(&font)
        .map_err(|e| Error::font_parse(format!("face {face_index}: {e}")))?;
    Ok(Face {
        font,
        count,
        units_per_em: upem,
    })
}

/// The tables a face cannot be drawn without: `maxp`, `hhea` and `hmtx` (advances), `cmap`
/// (characters to glyphs) and the outlines, `glyf` with `loca` or `CFF ` or `CFF2`. A table
/// whose directory entry points past the end of the file reads as missing: the file was cut
/// short. (Optional tables so cut are simply absent, as in FreeType and HarfBuzz.)
fn check_required_tables(font: &FontRef<'_>) -> Result<(), String> {
    let why = |table: &str, e: skrifa::raw::ReadError| match e {
        skrifa::raw::ReadError::TableIsMissing(_) => {
            format!("the {table} table is missing or extends past the end of the file")
        }
        e => format!("the {table} table cannot be read: {e}"),
    };
    font.maxp().map_err(|e| why("maxp", e))?;
    font.hhea().map_err(|e| why("hhea", e))?;
    font.hmtx().map_err(|e| why("hmtx", e))?;
    font.cmap().map_err(|e| why("cmap", e))?;
    let glyf = font.table_data(Tag::new(b"glyf")).is_some()
        || font.table_data(Tag::new(b"loca")).is_some();
    if glyf {
        font.loca(None).map_err(|e| why("loca", e))?;
        font.glyf().map_err(|e| why("glyf", e))?;
    } else if font.table_data(Tag::new(b"CFF2")).is_some() {
        font.cff2().map_err(|e| why("CFF2", e))?;
    } else {
        font.cff().map_err(|_| {
            "no outlines: the glyf/loca, CFF and CFF2 tables are all missing or extend past the end of the file".to_string()
        })?;
    }
    Ok(())
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
