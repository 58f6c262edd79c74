//! Shaping goldens: glyph runs against HarfBuzz (uharfbuzz) output, one line per case, in
//! HarfBuzz's `gid=cluster@x_offset,y_offset+x_advance,y_advance` serialisation. A case may
//! allow `position_tolerance` font units on positions (harfrust's documented rounding
//! differences on variable fonts and vertical text); glyph ids and clusters must match exactly.

mod common;
use common::*;
use serde_json::{json, Value};

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

#[test]
fn shaping_matches_harfbuzz() {
    let mut host = Host::new();
    let cases = read_jsonl("tests/golden/shaping/cases.jsonl");
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
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
        let job = json!({"id": id, "font": font, "text": text,
                         "rendering": {"format": "glyphs", "width": 10, "height": 10}});
        let (result, _) = host.run(&job);
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
        if !same {
            failures.push(format!("{id}\n  want {want}\n  got  {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn unmapped_characters_become_notdef() {
    let mut host = Host::new();
    let job = json!({"id": "u", "font": {"path": "tests/fonts/DejaVuSans-subset.ttf", "size": 20},
                     "text": {"content": "\u{4E00}"},
                     "rendering": {"format": "glyphs", "width": 10, "height": 10}});
    let (r, _) = host.run(&job);
    assert_eq!(r["glyphs"][0]["gid"], Value::from(0));
}
