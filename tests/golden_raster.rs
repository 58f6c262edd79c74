//! Golden raster tests: every case in `tests/golden/raster/` rendered by the core and compared
//! with the reference made by FreeType + HarfBuzz (`tests/tools/make_references.py`).
//! On a mismatch, `target/golden-diff/<id>.png` shows expected | diff | actual.

mod common;
use common::*;
use serde_json::Value;

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

fn write_diff(id: &str, w: u32, h: u32, expected: &[u8], actual: &[u8]) -> String {
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
    let path = dir.join(format!("{id}.png"));
    std::fs::write(
        &path,
        haforu::encode::png((w * 3) as u32, h as u32, &img).unwrap(),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn raster_goldens_match_freetype_references() {
    let mut host = Host::new();
    let mut failures = Vec::new();
    let cases = raster_cases();
    assert!(
        cases.len() >= 20,
        "expected the golden set, found {} cases",
        cases.len()
    );
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let (ew, eh, expected) = read_pgm(&repo().join(format!("tests/golden/raster/{id}.pgm.gz")));
        let (result, _) = host.run(&with_format(case, "raw"));
        assert_eq!(result["status"], "success", "{id}: {result}");
        let (_, data) = host.run(&with_format(case, "raw"));
        assert_eq!(
            (
                result["rendering"]["width"].as_u64(),
                result["rendering"]["height"].as_u64()
            ),
            (Some(ew as u64), Some(eh as u64))
        );
        let tol = &case["tolerance"];
        let max_mean = tol["mean_abs"].as_f64().unwrap_or(1.0);
        let min_iou = tol["iou"].as_f64().unwrap_or(0.99);
        let c = compare(&expected, &data);
        eprintln!(
            "{id:32} mean_abs {:.3} (≤ {max_mean})  iou {:.4} (≥ {min_iou})",
            c.mean_abs, c.iou
        );
        if c.mean_abs > max_mean || c.iou < min_iou {
            let path = write_diff(id, ew, eh, &expected, &data);
            failures.push(format!(
                "{id}: mean_abs {:.3} > {max_mean} or iou {:.4} < {min_iou}; see {path}",
                c.mean_abs, c.iou
            ));
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
fn metrics_match_spec_definitions_on_reference_canvases() {
    let mut host = Host::new();
    let mut failures = Vec::new();
    for case in raster_cases() {
        let id = case["id"].as_str().unwrap();
        let text =
            std::fs::read_to_string(repo().join(format!("tests/golden/raster/{id}.metrics.json")))
                .unwrap();
        let want: Value = serde_json::from_str(&text).unwrap();
        let (result, _) = host.run(&with_format(&case, "metrics"));
        let m = &result["metrics"];
        let (wd, gd) = (
            want["density"].as_f64().unwrap(),
            m["density"].as_f64().unwrap(),
        );
        let (wb, gb) = (want["beam"].as_f64().unwrap(), m["beam"].as_f64().unwrap());
        let wbox: Vec<i64> = want["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let gbox: Vec<i64> = m["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
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
        if !(density_ok && beam_ok && box_ok && vars_ok) {
            failures.push(format!(
                "{id}: got {m} vars {}; want {want}",
                result["font"]["variations"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn image_formats_agree_with_raw() {
    let mut host = Host::new();
    let case = &raster_cases()[2];
    let (_, raw) = host.run(&with_format(case, "raw"));
    let (r, pgm) = host.run(&with_format(case, "pgm"));
    let (w, h, px) = parse_pgm(&pgm);
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
        let (_, a) = warm.run(&with_format(&case, "raw"));
        let (_, b) = warm.run(&with_format(&case, "raw"));
        let mut cold = Host::new();
        let (_, c) = cold.run(&with_format(&case, "raw"));
        assert_eq!(a, b, "{}", case["id"]);
        assert_eq!(a, c, "{}", case["id"]);
    }
    assert!(warm.engine.cache_stats().glyphs.hits > 0);
}
