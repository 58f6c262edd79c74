//! Matching (SPEC §4): sweeps equal single jobs byte for byte, compare inside a job equals the
//! standalone comparison of the rendered image, failing points are isolated, limits hold.

use crate::common::{parse_pgm, with_format, Host};
use crate::fonts;
use haforu::compare::{align_and_compare, Align, InkImage};
use serde_json::{json, Value};

fn job(format: &str, text: &str, size: f64, w: u32, h: u32) -> Value {
    json!({"id": "m", "font": {"path": fonts::INTER_VF, "size": size},
           "text": {"content": text},
           "rendering": {"format": format, "width": w, "height": h}})
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn sweep_points_equal_single_jobs() {
    let mut host = Host::new();
    let weights = [100.0, 250.5, 400.0, 700.0, 900.0];
    for format in ["metrics", "pgm", "glyphs"] {
        let mut sweep = job(format, "Hamburg", 64.0, 420, 90);
        sweep["sweep"] = weights.iter().map(|w| json!({ "wght": w })).collect();
        let (result, _) = host.run(&sweep);
        assert_eq!(result["status"], "success", "{result}");
        let points = result["points"].as_array().unwrap();
        assert_eq!(points.len(), weights.len());
        for (p, w) in points.iter().zip(weights) {
            let mut single = job(format, "Hamburg", 64.0, 420, 90);
            single["font"]["variations"] = json!({ "wght": w });
            let mut single_json = single.clone();
            single_json["id"] = json!("single");
            let h = host.handle(fonts::INTER_VF);
            let out = host
                .engine
                .run_json(single_json.to_string().as_bytes(), 0, Some(h), false);
            let r: Value = serde_json::from_slice(&out.json).unwrap();
            assert_eq!(p["status"], "success");
            assert_eq!(p["variations"], r["font"]["variations"], "{format} {w}");
            for key in ["metrics", "rendering", "glyphs"] {
                assert_eq!(p.get(key), r.get(key), "{format} {w} {key}");
            }
        }
    }
}

#[test]
fn sweep_applies_over_instance_and_variations_and_isolates_failures() {
    let mut host = Host::new();
    let mut sweep = job("metrics", "A", 80.0, 120, 100);
    sweep["font"]["variations"] = json!({"wght": 300, "opsz": 20});
    sweep["sweep"] = json!([{"wght": 500}, {"wght": "bold"}, {"toolong": 1}, {"wght": 5000}, {}]);
    let (result, _) = host.run(&sweep);
    assert_eq!(result["status"], "success", "{result}");
    let p = result["points"].as_array().unwrap();
    assert_eq!(p[0]["variations"]["wght"], 500.0);
    assert_eq!(p[1]["status"], "error");
    assert_eq!(p[1]["error_kind"], "bad_job");
    assert!(
        p[1]["error"].as_str().unwrap().contains("sweep[1]"),
        "{}",
        p[1]
    );
    assert_eq!(p[2]["error_kind"], "bad_job");
    assert_eq!(p[3]["status"], "success");
    assert_eq!(p[3]["variations"]["wght"], 900.0);
    let warnings = p[3]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("wght 5000 is outside")),
        "{warnings:?}"
    );
    // The empty point is the job's own location.
    assert_eq!(p[4]["variations"]["wght"], 300.0);
    assert_ne!(p[0]["metrics"], p[4]["metrics"]);
}

#[test]
fn sweep_limits_and_shape_errors() {
    let mut host = Host::new();
    let mut sweep = job("metrics", "A", 20.0, 40, 40);
    sweep["sweep"] = Value::Array(vec![
        json!({"wght": 400});
        haforu::limits::MAX_SWEEP_POINTS + 1
    ]);
    let (r, _) = host.run(&sweep);
    assert_eq!(r["error_kind"], "limit_exceeded", "{r}");
    sweep["sweep"] = json!([]);
    assert_eq!(host.run(&sweep).0["error_kind"], "bad_job");
    sweep["sweep"] = json!({"wght": 400});
    assert_eq!(host.run(&sweep).0["error_kind"], "bad_job");
}

fn render_gray(host: &mut Host, j: &Value) -> (u32, u32, Vec<u8>) {
    let (r, data) = host.run(&with_format(j, "pgm"));
    assert_eq!(r["status"], "success", "{r}");
    parse_pgm(&data)
}

#[test]
fn compare_in_a_job_equals_the_standalone_comparison() {
    let mut host = Host::new();
    // Target: a static font's "A"; render: the variable font at several weights.
    let mut target_job = job("pgm", "A", 300.0, 500, 360);
    target_job["font"]["path"] = json!(fonts::DEJAVU);
    let (tw, th, target) = render_gray(&mut host, &target_job);
    let mut pgm = Vec::new();
    haforu::encode::pgm_header(tw, th, &mut pgm);
    pgm.extend_from_slice(&target);
    let handle = host.engine.register_image(tw, th, &target).unwrap();
    let target_img = InkImage::from_gray(tw, th, &target).unwrap();
    for (method, name) in [(Align::Center, "center"), (Align::Corner, "corner")] {
        for (w, h) in [(500, 360), (430, 300), (640, 420)] {
            for target_ref in [json!(handle), json!(b64(&pgm)), json!({ "handle": handle })] {
                let mut j = job("metrics", "A", 300.0, w, h);
                j["font"]["variations"] = json!({"wght": 650});
                j["compare"] = json!({"target": target_ref, "method": name});
                let (r, _) = host.run(&j);
                assert_eq!(r["status"], "success", "{r}");
                assert!(r.get("rendering").is_none());
                let (gw, gh, gray) = render_gray(&mut host, &j);
                let img = InkImage::from_gray(gw, gh, &gray).unwrap();
                let want = align_and_compare(&img.view(), &target_img.view(), method);
                let want = serde_json::to_value(want).unwrap();
                assert_eq!(r["compare"], want, "{name} {w}x{h}");
                // Image formats carry the same comparison next to their pixels.
                let (ri, _) = host.run(&with_format(&j, "png"));
                assert_eq!(ri["compare"], want);
            }
        }
    }
    // A sweep with compare: each point equals the single job.
    let mut s = job("metrics", "A", 300.0, 500, 360);
    s["sweep"] = json!([{"wght": 100}, {"wght": 900}]);
    s["compare"] = json!({"target": handle});
    let (r, _) = host.run(&s);
    for (p, w) in r["points"].as_array().unwrap().iter().zip([100, 900]) {
        let mut j = job("metrics", "A", 300.0, 500, 360);
        j["font"]["variations"] = json!({ "wght": w });
        j["compare"] = json!({"target": handle});
        let (single, _) = host.run(&j);
        assert_eq!(p["compare"], single["compare"]);
        assert_eq!(p["metrics"], single["metrics"]);
    }
}

#[test]
fn compare_errors_are_job_errors() {
    let mut host = Host::new();
    let mut j = job("metrics", "A", 30.0, 50, 50);
    for (target, needle) in [
        (json!(77), "no image is registered with handle 77"),
        (json!("!!!"), "not valid base64"),
        (json!(b64(b"GIF89a....")), "neither a binary PGM"),
        (json!({"nope": 1}), "needs `handle`"),
    ] {
        j["compare"] = json!({ "target": target });
        let (r, _) = host.run(&j);
        assert_eq!(r["status"], "error", "{r}");
        assert_eq!(r["error_kind"], "bad_job", "{r}");
        assert!(r["error"].as_str().unwrap().contains(needle), "{r}");
    }
    let h = host.engine.register_image(2, 2, &[0, 255, 255, 0]).unwrap();
    j["compare"] = json!({"target": h, "method": "middle"});
    assert!(host.run(&j).0["error"]
        .as_str()
        .unwrap()
        .contains("center or corner"));
    j["compare"] = json!({ "target": h });
    j["rendering"]["format"] = json!("glyphs");
    assert_eq!(host.run(&j).0["error_kind"], "bad_job");
    assert!(host.engine.drop_image(h));
    assert!(!host.engine.drop_image(h));
}

#[test]
fn image_ops_compare_and_resize() {
    let mut e = haforu::Engine::new();
    let a = e.register_image(3, 2, &[0, 255, 255, 255, 0, 255]).unwrap();
    let b = e.register_image(5, 2, &[255; 10]).unwrap();
    let mut out = haforu::Output::default();
    e.image_op_json(
        br#"{"op":"compare","a":1,"b":2,"method":"center","aligned":true}"#,
        &mut out,
    );
    assert!(out.is_ok(), "{}", String::from_utf8_lossy(&out.json));
    let v: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(v["compare"]["width"], 5);
    assert_eq!(v["compare"]["differing_pixels"], 2);
    // a pasted at x = 1: rows [255,0,255,255,255] and [255,255,0,255,255].
    assert_eq!(
        out.data,
        [255, 0, 255, 255, 255, 255, 255, 0, 255, 255]
            .iter()
            .chain([255u8; 10].iter())
            .copied()
            .collect::<Vec<u8>>()
    );
    let _ = (a, b);
    e.image_op_json(br#"{"op":"resize","image":2,"multiplier":0.5}"#, &mut out);
    let v: Value = serde_json::from_slice(&out.json).unwrap();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(out.data, vec![255; 3]);
    for (req, needle) in [
        (
            &br#"{"op":"resize","image":2,"multiplier":1000}"#[..],
            "between 0.01 and 100",
        ),
        (br#"{"op":"blur"}"#, "unknown"),
        (br#"{"op":"compare","a":1,"b":9}"#, "handle 9"),
        (b"{", "invalid JSON"),
    ] {
        e.image_op_json(req, &mut out);
        assert!(!out.is_ok());
        let v: Value = serde_json::from_slice(&out.json).unwrap();
        assert!(v["error"].as_str().unwrap().contains(needle), "{v}");
    }
}

#[test]
fn font_info_by_handle() {
    let mut host = Host::new();
    let h = host.handle(fonts::INTER_VF);
    let info: Value = serde_json::from_slice(&host.engine.font_info_json(h, 0).unwrap()).unwrap();
    assert!(
        info["axes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["tag"] == "wght"),
        "{info}"
    );
    assert_eq!(
        host.engine.font_info_json(999, 0).unwrap_err().kind,
        haforu::ErrorKind::FontNotFound
    );
}

#[test]
fn sweep_images_inline_and_out_of_band_agree() {
    let mut host = Host::new();
    let h = host.handle(fonts::INTER_VF);
    let mut s = job("pgm", "Ag", 40.0, 100, 50);
    s["sweep"] = json!([{"wght": 200}, {"wght": 800}]);
    let text = s.to_string();
    let mut inline = haforu::Output::default();
    host.engine.run_json_with(
        text.as_bytes(),
        0,
        Some(h),
        haforu::RunOptions {
            data_out_of_band: true,
            ..Default::default()
        },
        &mut inline,
    );
    assert!(
        inline.data.is_empty(),
        "flag 1 alone never moves sweep images"
    );
    let mut oob = haforu::Output::default();
    host.engine.run_json_with(
        text.as_bytes(),
        0,
        Some(h),
        haforu::RunOptions {
            points_out_of_band: true,
            ..Default::default()
        },
        &mut oob,
    );
    let vi: Value = serde_json::from_slice(&inline.json).unwrap();
    let vo: Value = serde_json::from_slice(&oob.json).unwrap();
    for (pi, po) in vi["points"]
        .as_array()
        .unwrap()
        .iter()
        .zip(vo["points"].as_array().unwrap())
    {
        let data = unb64(pi["rendering"]["data"].as_str().unwrap());
        let (o, n) = (
            po["rendering"]["data_offset"].as_u64().unwrap() as usize,
            po["rendering"]["data_length"].as_u64().unwrap() as usize,
        );
        assert_eq!(&oob.data[o..o + n], &data[..]);
        assert!(po["rendering"].get("data").is_none());
    }
}
