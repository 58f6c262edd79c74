//! Shaping goldens: glyph runs against HarfBuzz (uharfbuzz) output, one case per line of
//! `tests/golden/shaping/cases.jsonl`, in HarfBuzz's `gid=cluster@x_offset,y_offset+x_advance,y_advance`
//! serialisation. A case may allow `position_tolerance` font units on positions (harfrust's
//! documented rounding differences on variable fonts and vertical text); glyph ids and
//! clusters must match exactly. On wasm the result is also byte-identical to native.

use crate::backend::{Backend, Runner};
use crate::common::{case, ids, shaping_cases, Host};
use crate::fonts;
use serde_json::{json, Value};

golden_cases!(crate::shaping::check;
    dejavu_avatar, dejavu_toyota, dejavu_avatar_kern_off, dejavu_avatar_kern_range_on,
    dejavu_avatar_kern_range_off, dejavu_kern_plus, dejavu_notdef, dejavu_greek_cyrillic,
    dejavu_ttb, ttc_face1, garamond_office, garamond_office_minus_liga, garamond_office_liga0,
    garamond_office_liga_off, garamond_fifty, garamond_fifty_minus_liga, arabic_sentence,
    arabic_auto, devanagari_hindi, devanagari_kshatriya, hebrew_shalom_nikud, hebrew_bereshit,
    thai_hello, thai_language, inter_wght100, inter_wght400, inter_wght700, inter_wght900,
    inter_wght_clamped, sourcesans_wght300, sourcesans_wght800, sourcesans_aalt2,
    sourcesans_aalt1,
);

fn parse(s: &str) -> Vec<(u32, u32, [i32; 4])> {
    s.split('|')
        .filter(|g| !g.is_empty())
        .map(|g| {
            let (gid, rest) = g.split_once('=').unwrap();
            let (cluster, rest) = rest.split_once('@').unwrap();
            let (off, adv) = rest.split_once('+').unwrap();
            let (xo, yo) = off.split_once(',').unwrap();
            let (xa, ya) = adv.split_once(',').unwrap();
            let n = |v: &str| v.parse::<i32>().unwrap();
            (
                gid.parse().unwrap(),
                cluster.parse().unwrap(),
                [n(xo), n(yo), n(xa), n(ya)],
            )
        })
        .collect()
}

/// The `glyphs` job of a case.
fn job_of(case: &Value) -> Value {
    let mut text = json!({"content": case["text"]});
    for key in ["script", "direction", "language", "features"] {
        if !case[key].is_null() {
            text[key] = case[key].clone();
        }
    }
    let mut font = json!({"path": case["font"], "size": case["size"]});
    for key in ["variations", "face_index"] {
        if !case[key].is_null() {
            font[key] = case[key].clone();
        }
    }
    json!({"id": case["id"], "font": font, "text": text,
           "rendering": {"format": "glyphs", "width": 10, "height": 10}})
}

/// One shaping case on one backend.
pub fn check(id: &str, backend: Backend) {
    let case = case(shaping_cases(), id);
    let job = job_of(case);
    let answer = Runner::new(backend).run(&job, 0);
    let result = answer.value();
    assert_eq!(result["status"], "success", "{id}: {result}");
    let glyphs: Vec<haforu::ShapedGlyph> = result["glyphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let n = |k: &str| g[k].as_i64().unwrap();
            haforu::ShapedGlyph {
                gid: n("gid") as u32,
                cluster: n("cluster") as u32,
                x_advance: n("x_advance") as i32,
                y_advance: n("y_advance") as i32,
                x_offset: n("x_offset") as i32,
                y_offset: n("y_offset") as i32,
            }
        })
        .collect();
    let got = haforu::serialize_glyphs(&glyphs);
    let want = case["expected"].as_str().unwrap();
    let tol = case["position_tolerance"].as_i64().unwrap_or(0) as i32;
    let (g, w) = (parse(&got), parse(want));
    let same = g.len() == w.len()
        && g.iter().zip(&w).all(|(a, b)| {
            a.0 == b.0 && a.1 == b.1 && a.2.iter().zip(&b.2).all(|(x, y)| (x - y).abs() <= tol)
        });
    assert!(same, "{id}\n  want {want}\n  got  {got}");
    if backend == Backend::Wasm {
        let native = Runner::new(Backend::Native).run(&job, 0);
        assert_eq!(
            native.text(),
            answer.text(),
            "{id}: wasm differs from native"
        );
        assert_eq!(native, answer, "{id}: wasm differs from native");
    }
}

#[test]
fn the_table_lists_the_case_file() {
    assert_eq!(IDS, ids(shaping_cases()).as_slice());
}

#[test]
fn unmapped_characters_become_notdef() {
    let mut host = Host::new();
    let job = json!({"id": "u", "font": {"path": fonts::DEJAVU, "size": 20},
                     "text": {"content": "\u{4E00}"},
                     "rendering": {"format": "glyphs", "width": 10, "height": 10}});
    let (r, _) = host.run(&job);
    assert_eq!(r["glyphs"][0]["gid"], Value::from(0));
}
