//! Golden raster cases: every case in `tests/golden/raster/` rendered on each backend and
//! compared with the reference made by FreeType + HarfBuzz (`tests/tools/make_references.py`),
//! its metrics with the reference's, its PGM hash and metrics with `tests/golden/parity.json`;
//! on wasm every format (inline and out of band) is byte-identical to native.
//! On a mismatch, `target/golden-diff/<id>.png` shows expected | diff | actual.

use crate::backend::{Backend, Runner};
use crate::common::{case, ids, raster_cases, read_pgm, repo, sha256_hex, with_format, Host};
use crate::parity::parity_file;
use haforu_guest::flags::DATA_OUT_OF_BAND;
use serde_json::Value;

golden_cases!(crate::raster::check;
    tt_word_12, tt_word_16, tt_word_48, tt_word_72_5, tt_frac_33_3, big_A_1000,
    inter_wght100, inter_wght400, inter_wght900, inter_instance_bold,
    inter_instance_then_variation, inter_clamped, inter_default_no_variations, cff_garamond,
    cff2_sourcesans_wght300, cff2_sourcesans_wght800, arabic_rtl, devanagari, hebrew_nikud,
    thai, liga_on, liga_off, kern_on, kern_off, ttc_face0, ttc_face1, notdef_unmapped,
    clip_wide, clip_top, ttb_latin, tiny_1x1, spaces_only,
);

/// Every format the parity check covers.
pub const FORMATS: [&str; 5] = ["pgm", "png", "raw", "metrics", "glyphs"];

struct Compare {
    mean_abs: f64,
    iou: f64,
}

fn compare(expected: &[u8], actual: &[u8]) -> Compare {
    let n = expected.len() as f64;
    let sum: u64 = expected
        .iter()
        .zip(actual)
        .map(|(&a, &b)| (a as i32 - b as i32).unsigned_abs() as u64)
        .sum();
    // Ink = coverage c = 255 − pixel ≥ 32 (faint edge pixels are not counted as ink).
    let (mut inter, mut union) = (0u64, 0u64);
    for (&e, &a) in expected.iter().zip(actual) {
        let (ie, ia) = (255 - e >= 32, 255 - a >= 32);
        inter += (ie && ia) as u64;
        union += (ie || ia) as u64;
    }
    Compare {
        mean_abs: sum as f64 / n,
        iou: if union == 0 {
            1.0
        } else {
            inter as f64 / union as f64
        },
    }
}

fn write_diff(name: &str, w: u32, h: u32, expected: &[u8], actual: &[u8]) -> String {
    let dir = repo().join("target/golden-diff");
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (w as usize, h as usize);
    let mut img = vec![255u8; w * 3 * h];
    for y in 0..h {
        for x in 0..w {
            let (e, a) = (expected[y * w + x], actual[y * w + x]);
            img[y * 3 * w + x] = e;
            img[y * 3 * w + w + x] = 255 - (e as i32 - a as i32).unsigned_abs().min(255) as u8;
            img[y * 3 * w + 2 * w + x] = a;
        }
    }
    let path = dir.join(format!("{name}.png"));
    std::fs::write(
        &path,
        haforu::encode::png((w * 3) as u32, h as u32, &img).unwrap(),
    )
    .unwrap();
    path.display().to_string()
}

/// The pixels against FreeType's reference, within the case's tolerance.
fn check_pixels(id: &str, backend: Backend, case: &Value, result: &Value, data: &[u8]) {
    let (ew, eh, expected) = read_pgm(&repo().join(format!("tests/golden/raster/{id}.pgm.gz")));
    assert_eq!(
        (
            result["rendering"]["width"].as_u64(),
            result["rendering"]["height"].as_u64()
        ),
        (Some(ew as u64), Some(eh as u64)),
        "{id}"
    );
    let tol = &case["tolerance"];
    let max_mean = tol["mean_abs"].as_f64().unwrap_or(1.0);
    let min_iou = tol["iou"].as_f64().unwrap_or(0.99);
    let c = compare(&expected, data);
    eprintln!(
        "{id:32} mean_abs {:.3} (≤ {max_mean})  iou {:.4} (≥ {min_iou})",
        c.mean_abs, c.iou
    );
    if c.mean_abs > max_mean || c.iou < min_iou {
        let name = format!("{id}-{backend:?}").to_lowercase();
        let path = write_diff(&name, ew, eh, &expected, data);
        panic!(
            "{id}: mean_abs {:.3} > {max_mean} or iou {:.4} < {min_iou}; see {path}",
            c.mean_abs, c.iou
        );
    }
}

/// The metrics against the SPEC definitions applied to the reference canvas.
fn check_metrics(id: &str, case: &Value, result: &Value) {
    let text =
        std::fs::read_to_string(repo().join(format!("tests/golden/raster/{id}.metrics.json")))
            .unwrap();
    let want: Value = serde_json::from_str(&text).unwrap();
    let m = &result["metrics"];
    let (wd, gd) = (
        want["density"].as_f64().unwrap(),
        m["density"].as_f64().unwrap(),
    );
    let (wb, gb) = (want["beam"].as_f64().unwrap(), m["beam"].as_f64().unwrap());
    let edges = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let (wbox, gbox) = (edges(&want["bbox"]), edges(&m["bbox"]));
    // Density is a mean of coverage: within 2 % of the reference (plus a floor for tiny ink).
    let density_ok = (wd - gd).abs() <= 0.02 * wd + 1e-4;
    // Beam is a run length: equal within a pixel or two per run, or 3 %.
    let n = (case["rendering"]["width"].as_f64().unwrap())
        * case["rendering"]["height"].as_f64().unwrap();
    let beam_ok = ((wb - gb) * n).abs() <= 2.0 + 0.03 * wb * n;
    // The box edges: within one pixel (a faint edge pixel may appear or not).
    let box_ok = wbox.len() == 4
        && (wbox[0] - gbox[0]).abs() <= 1
        && (wbox[1] - gbox[1]).abs() <= 1
        && ((wbox[0] + wbox[2]) - (gbox[0] + gbox[2])).abs() <= 1
        && ((wbox[1] + wbox[3]) - (gbox[1] + gbox[3])).abs() <= 1;
    let vars_ok = result["font"]["variations"] == want["applied_variations"];
    assert!(
        density_ok && beam_ok && box_ok && vars_ok,
        "{id}: got {m} vars {}; want {want}",
        result["font"]["variations"]
    );
}

/// One raster case on one backend.
pub fn check(id: &str, backend: Backend) {
    let case = case(raster_cases(), id);
    let mut runner = Runner::new(backend);
    let raw = runner.run(&with_format(case, "raw"), DATA_OUT_OF_BAND);
    let result = raw.value();
    assert_eq!(result["status"], "success", "{id}: {result}");
    check_pixels(id, backend, case, &result, &raw.data);

    let metrics = runner.run(&with_format(case, "metrics"), DATA_OUT_OF_BAND);
    let metrics = metrics.value();
    check_metrics(id, case, &metrics);

    // The hashes every other host checks.
    let pgm = runner.run(&with_format(case, "pgm"), DATA_OUT_OF_BAND);
    let entry = &parity_file()[id];
    assert_eq!(
        Value::from(sha256_hex(&pgm.data)),
        entry["pgm_sha256"],
        "{id}: the PGM differs from tests/golden/parity.json"
    );
    assert_eq!(
        metrics["metrics"], entry["metrics"],
        "{id}: the metrics differ from tests/golden/parity.json"
    );

    if backend == Backend::Wasm {
        // Every format, inline and out of band: the same bytes as the native core.
        let mut native = Runner::new(Backend::Native);
        for format in FORMATS {
            let job = with_format(case, format);
            for flags in [0, DATA_OUT_OF_BAND] {
                let (n, w) = (native.run(&job, flags), runner.run(&job, flags));
                assert_eq!(n.text(), w.text(), "{id} {format} flags {flags}");
                assert_eq!(n.data, w.data, "{id} {format} flags {flags}");
                assert_eq!((n.status, n.kind), (w.status, w.kind), "{id} {format}");
            }
        }
    }
}

#[test]
fn the_table_lists_the_case_file() {
    assert_eq!(IDS, ids(raster_cases()).as_slice());
}

#[test]
fn image_formats_agree_with_raw() {
    let mut host = Host::new();
    let case = &raster_cases()[2];
    let (_, raw) = host.run(&with_format(case, "raw"));
    let (r, pgm) = host.run(&with_format(case, "pgm"));
    let (w, h, px) = crate::common::parse_pgm(&pgm);
    assert_eq!(px, raw);
    let (_, png_bytes) = host.run(&with_format(case, "png"));
    let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; dec.output_buffer_size().unwrap()];
    let info = dec.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height, info.color_type),
        (w, h, png::ColorType::Grayscale)
    );
    assert_eq!(&buf[..raw.len()], &raw[..]);
    // actual_bbox follows the SPEC metric definition.
    let (m, _) = host.run(&with_format(case, "metrics"));
    assert_eq!(r["rendering"]["actual_bbox"], m["metrics"]["bbox"]);
}

#[test]
fn caches_never_change_output() {
    let mut warm = Host::new();
    for case in raster_cases() {
        let (_, a) = warm.run(&with_format(case, "raw"));
        let (_, b) = warm.run(&with_format(case, "raw"));
        let mut cold = Host::new();
        let (_, c) = cold.run(&with_format(case, "raw"));
        assert_eq!(a, b, "{}", case["id"]);
        assert_eq!(a, c, "{}", case["id"]);
    }
    assert!(warm.engine.cache_stats().glyphs.hits > 0);
}
