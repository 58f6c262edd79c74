//! Shaping with HarfRust: HarfBuzz semantics, plans cached per instance and found again by
//! HarfRust's own [`ShapePlanKey`] (direction, script, language, features), glyph positions in
//! font units.

use crate::error::{Error, ErrorKind};
use crate::font::Instance;
use crate::job::{Direction, TextSpec};
use crate::limits;
use harfrust::{Buffer, Language, Script, ShapeOptions, ShapePlan, ShapePlanKey, ShaperFont, Tag};
use serde::Serialize;
use std::str::FromStr;

/// One shaped glyph, in font units (SPEC §2 `glyphs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShapedGlyph {
    /// Glyph id.
    pub gid: u32,
    /// UTF-8 byte offset of the cluster in `text.content`.
    pub cluster: u32,
    /// Horizontal advance.
    pub x_advance: i32,
    /// Vertical advance (y up, negative for `ttb`).
    pub y_advance: i32,
    /// Horizontal offset from the pen.
    pub x_offset: i32,
    /// Vertical offset from the pen (y up).
    pub y_offset: i32,
}

/// A reusable shaper: keeps its buffer between calls.
#[derive(Default)]
pub(crate) struct Shaper {
    buffer: Option<Buffer>,
}

impl Shaper {
    /// Shape `text` with `inst`, appending glyphs to `out` (which is cleared first).
    pub fn shape(
        &mut self,
        inst: &mut Instance,
        text: &TextSpec,
        out: &mut Vec<ShapedGlyph>,
    ) -> Result<(), Error> {
        out.clear();
        let mut buffer = self.buffer.take().unwrap_or_default();
        buffer.clear();
        buffer.push_str(&text.content);
        if let Some(d) = text.direction {
            buffer.set_direction(match d {
                Direction::Ltr => harfrust::Direction::LeftToRight,
                Direction::Rtl => harfrust::Direction::RightToLeft,
                Direction::Ttb => harfrust::Direction::TopToBottom,
                Direction::Btt => harfrust::Direction::BottomToTop,
            });
        }
        if let Some(s) = text.script {
            let script = Script::from_iso15924_tag(Tag::new(&s)).ok_or_else(|| {
                Error::field_value(
                    ErrorKind::BadJob,
                    "text.script",
                    String::from_utf8_lossy(&s),
                    "is not a known ISO 15924 script",
                )
            })?;
            buffer.set_script(Some(script));
        }
        if let Some(l) = &text.language {
            let lang = Language::from_str(l).map_err(|_| {
                Error::field_value(ErrorKind::BadJob, "text.language", l, "is not a BCP 47 tag")
            })?;
            buffer.set_language(Some(lang));
        }
        buffer.guess_segment_properties();
        let (direction, script, language) =
            (buffer.direction(), buffer.script(), buffer.language());
        let found = {
            let key = ShapePlanKey::new(&inst.font, script, direction)
                .language(language)
                .features(&text.features);
            inst.plans.iter().position(|p| key.matches(p))
        };
        let plan_index = match found {
            Some(i) => i,
            None => {
                let plan = ShapePlan::new(&inst.font, direction, script, language, &text.features);
                if inst.plans.len() >= limits::MAX_PLANS_PER_INSTANCE {
                    inst.plans.remove(0);
                }
                inst.plans.push(plan);
                inst.plans.len() - 1
            }
        };
        let shaper_font = ShaperFont::new(&inst.font);
        let plan = &inst.plans[plan_index];
        let options = ShapeOptions::new()
            .plan(Some(plan))
            .features(&text.features);
        let chars = buffer.len() as u64;
        harfrust::shape(&shaper_font, &mut buffer, options)
            .map_err(|e| Error::font_parse(format!("shaping failed: {e}")))?;
        if !buffer.allocation_successful() {
            // HarfRust ran out of one of its budgets and stopped applying lookups: the glyph
            // run is half shaped, never a result.
            self.buffer = Some(buffer);
            return Err(shaping_budget_error(chars));
        }
        out.extend(
            buffer
                .glyph_infos()
                .iter()
                .zip(buffer.glyph_positions())
                .map(|(i, p)| ShapedGlyph {
                    gid: i.glyph_id,
                    cluster: i.cluster,
                    x_advance: p.x_advance,
                    y_advance: p.y_advance,
                    x_offset: p.x_offset,
                    y_offset: p.y_offset,
                }),
        );
        self.buffer = Some(buffer);
        Ok(())
    }
}

/// HarfRust's budgets for a text of `chars` characters ([`limits::SHAPING_OPS_PER_CHAR`] and
/// the rest) ran out; HarfRust does not say which one, so the error names all three.
fn shaping_budget_error(chars: u64) -> Error {
    let ops = (chars * limits::SHAPING_OPS_PER_CHAR).max(limits::MIN_SHAPING_OPS);
    let glyphs = (chars * limits::SHAPED_GLYPHS_PER_CHAR).max(limits::MIN_SHAPED_GLYPHS);
    Error::over_limit(
        "shaping text.content",
        format!(
            "the font's GSUB/GPOS lookups need more than {ops} operations, {glyphs} glyphs \
             or {} nested lookups",
            limits::MAX_LOOKUP_NESTING
        ),
        format!(
            "{ops} operations (SHAPING_OPS_PER_CHAR × {chars} characters, at least \
             MIN_SHAPING_OPS), {glyphs} glyphs (SHAPED_GLYPHS_PER_CHAR × {chars}, at least \
             MIN_SHAPED_GLYPHS) and {} nested lookups (MAX_LOOKUP_NESTING)",
            limits::MAX_LOOKUP_NESTING
        ),
        "",
    )
}

/// The HarfBuzz serialisation used by the shaping goldens:
/// `gid=cluster@x_offset,y_offset+x_advance,y_advance|…`.
pub fn serialize_glyphs(glyphs: &[ShapedGlyph]) -> String {
    let mut s = String::new();
    for (i, g) in glyphs.iter().enumerate() {
        if i > 0 {
            s.push('|');
        }
        s.push_str(&format!(
            "{}={}@{},{}+{},{}",
            g.gid, g.cluster, g.x_offset, g.y_offset, g.x_advance, g.y_advance
        ));
    }
    s
}
