//! Parity: `tests/golden/parity.json` holds the PGM hash and metrics of every raster case —
//! the bytes every other host checks. Each raster case checks its entry on both backends
//! (`raster.rs`); here the file as a whole is checked against the native core, and errors,
//! sweeps and comparisons are checked byte for byte across the backends.
//!
//! `HAFORU_BLESS=1 cargo test --release -p haforu parity_file_is_current` rewrites the file from
//! the native core (after the golden raster tests have passed against FreeType, which is what
//! makes it right).

use crate::backend::{module, Backend, Runner};
use crate::common::{raster_cases, repo, sha256_hex, with_format, Host};
use crate::fonts;
use haforu_guest::flags::{DATA_OUT_OF_BAND, INK_BOX, POINTS_OUT_OF_BAND};
use haforu_guest::{key, status, EXPORTS};
use serde_json::{json, Value};
use std::sync::OnceLock;

/// `tests/golden/parity.json`, parsed.
pub fn parity_file() -> &'static Value {
    static FILE: OnceLock<Value> = OnceLock::new();
    FILE.get_or_init(|| {
        let text = std::fs::read_to_string(repo().join("tests/golden/parity.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

#[test]
fn module_loads_with_the_documented_exports() {
    // Loading checks that the module imports nothing and exports every name of EXPORTS (and
    // instantiating checks their signatures).
    Runner::new(Backend::Wasm);
    assert!(!module().has_deadlines());
    // EXPORTS is the table in wasm/README.md.
    let readme = std::fs::read_to_string(repo().join("wasm/README.md")).unwrap();
    let mut documented: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|n| *n == "memory" || n.starts_with("haforu_"))
        .collect();
    documented.sort_unstable();
    documented.dedup();
    let mut exports = EXPORTS.to_vec();
    exports.sort_unstable();
    assert_eq!(exports, documented);
}

#[test]
fn parity_file_is_current() {
    let mut host = Host::new();
    let mut parity = serde_json::Map::new();
    for case in raster_cases() {
        let id = case["id"].as_str().unwrap();
        let entry = parity.entry(id.to_string()).or_insert_with(|| json!({}));
        let (_, pgm) = host.run(&with_format(case, "pgm"));
        entry["pgm_sha256"] = Value::from(sha256_hex(&pgm));
        let (metrics, _) = host.run(&with_format(case, "metrics"));
        entry["metrics"] = metrics["metrics"].clone();
    }
    let mut keys: Vec<&str> = parity.keys().map(String::as_str).collect();
    let mut ids = crate::raster::IDS.to_vec();
    ids.sort_unstable();
    keys.sort_unstable();
    assert_eq!(keys, ids, "one parity entry per raster case");
    let path = repo().join("tests/golden/parity.json");
    let current = serde_json::to_string_pretty(&Value::Object(parity)).unwrap() + "\n";
    if std::env::var_os("HAFORU_BLESS").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == current,
        "tests/golden/parity.json is out of date; if the golden raster tests pass, run \
         `HAFORU_BLESS=1 cargo test --release -p haforu parity_file_is_current` and commit it"
    );
}

#[test]
fn errors_are_identical_too() {
    let (mut native, mut wasm) = (Runner::new(Backend::Native), Runner::new(Backend::Wasm));
    let jobs: [&[u8]; 4] = [
        b"{nope",
        br#"{"id":"x","font":{"path":"a.ttf","size":0},"text":{"content":"a"},"rendering":{"format":"pgm","width":1,"height":1}}"#,
        br#"{"id":"y","font":{"data":"AAAA","size":10},"text":{"content":"a"},"rendering":{"format":"pgm","width":1,"height":1}}"#,
        br#"{"id":"z","font":{"path":"unresolved.ttf","size":10},"text":{"content":"a"},"rendering":{"format":"pgm","width":1,"height":1}}"#,
    ];
    for job in jobs {
        let n = native.run_text(job, 0, 0, 0);
        let w = wasm.run_text(job, 0, 0, 0);
        assert_eq!(n.text(), w.text(), "{}", String::from_utf8_lossy(job));
        assert_eq!(n, w, "{}", String::from_utf8_lossy(job));
        // An unbound path is a needs-font answer naming the key, not an error.
        if job.starts_with(br#"{"id":"z""#) {
            assert_eq!((w.status, w.kind), (status::NEEDS_FONT, key::PATH));
            assert_eq!(w.data, b"unresolved.ttf");
        } else {
            assert_eq!(w.status, status::ERROR, "{}", w.text());
        }
    }
}

#[test]
fn sweeps_and_comparisons_are_identical_in_wasm() {
    use base64::Engine as _;
    let (mut native, mut wasm) = (Runner::new(Backend::Native), Runner::new(Backend::Wasm));
    // A target rendered from another font, passed inline as PGM.
    let target_job = json!({"id": "t", "font": {"path": fonts::DEJAVU, "size": 220},
        "text": {"content": "Ag"}, "rendering": {"format": "pgm", "width": 400, "height": 260}});
    let pgm = native.run(&target_job, DATA_OUT_OF_BAND).data;
    let target = base64::engine::general_purpose::STANDARD.encode(&pgm);
    let sweep: Vec<Value> = (0..9).map(|i| json!({"wght": 100 + 100 * i})).collect();
    let mut jobs = Vec::new();
    for format in ["metrics", "pgm", "raw", "glyphs"] {
        for method in ["center", "corner"] {
            let mut j = json!({"id": format!("{format}-{method}"),
                "font": {"path": fonts::INTER_VF, "size": 200},
                "text": {"content": "Ag"}, "rendering": {"format": format, "width": 380, "height": 250},
                "sweep": sweep});
            if format != "glyphs" {
                j["compare"] = json!({"target": target, "method": method});
            }
            jobs.push(j);
        }
    }
    for job in &jobs {
        for flags in [
            0,
            DATA_OUT_OF_BAND,
            POINTS_OUT_OF_BAND,
            DATA_OUT_OF_BAND | POINTS_OUT_OF_BAND,
        ] {
            let n = native.run(job, flags);
            assert_eq!(n.status, status::OK, "{}", n.text());
            let w = wasm.run(job, flags);
            assert_eq!(n.text(), w.text(), "{} flags {flags}", job["id"]);
            assert_eq!(n, w, "{} flags {flags}", job["id"]);
        }
    }
}

/// `INK_BOX`: the box pasted on a white canvas is the plain `raw` canvas, byte for byte, on both
/// backends and for every raster case (clipped glyphs, blank runs, RTL, variable fonts); a small
/// box goes alone, a big one as the whole canvas.
#[test]
fn ink_box_pastes_into_the_raw_canvas() {
    let matching = |v: &Value, k: &str| v["rendering"][k].clone();
    for backend in [Backend::Native, Backend::Wasm] {
        let mut r = Runner::new(backend);
        let (mut boxed, mut whole) = (0, 0);
        let mut cases: Vec<Value> = raster_cases().to_vec();
        // The matching workload and a text that draws nothing.
        let mut a = cases[0].clone();
        a["id"] = "match-a".into();
        a["font"] = json!({"path": "tests/fonts/Inter-VF-subset.ttf", "size": 1000, "variations": {"wght": 620}});
        a["text"] = json!({"content": "A"});
        a["rendering"] = json!({"format": "raw", "width": 3000, "height": 1200});
        let mut blank = a.clone();
        blank["id"] = "blank".into();
        blank["text"] = json!({"content": " "});
        cases.extend([a, blank]);
        for case in &cases {
            let job = with_format(case, "raw");
            let plain = r.run(&job, DATA_OUT_OF_BAND);
            let part = r.run(&job, DATA_OUT_OF_BAND | INK_BOX);
            let (pv, bv) = (plain.value(), part.value());
            assert_eq!(plain.status, 0, "{}", plain.text());
            assert_eq!(matching(&pv, "actual_bbox"), matching(&bv, "actual_bbox"));
            assert!(
                pv["rendering"].get("data_box").is_none(),
                "{}",
                plain.text()
            );
            let (w, h) = (
                pv["rendering"]["width"].as_u64().unwrap() as usize,
                pv["rendering"]["height"].as_u64().unwrap() as usize,
            );
            let b: Vec<usize> = bv["rendering"]["data_box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let (x, y, bw, bh) = (b[0], b[1], b[2], b[3]);
            assert_eq!(part.data.len(), bw * bh, "{}", part.text());
            let mut canvas = vec![255u8; w * h];
            for row in 0..bh {
                let dst = (y + row) * w + x;
                canvas[dst..dst + bw].copy_from_slice(&part.data[row * bw..(row + 1) * bw]);
            }
            assert!(
                canvas == plain.data,
                "{backend:?} {}: the pasted box differs from the raw canvas",
                case["id"]
            );
            if (bw, bh) == (w, h) {
                whole += 1;
            } else {
                assert!(
                    bw * bh * 4 <= w * h,
                    "{}: a box over a quarter of the canvas went alone",
                    case["id"]
                );
                boxed += 1;
            }
        }
        assert!(
            boxed >= 2 && whole >= 1,
            "{backend:?}: {boxed} boxed, {whole} whole"
        );
    }
}
