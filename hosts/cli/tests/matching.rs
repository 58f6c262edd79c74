//! Matching from the command line: `haforu info`, `haforu compare`, `render --compare`, and
//! sweep and compare jobs through `batch`, `stream` and the server.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

const INTER: &str = "tests/fonts/Inter-VF-subset.ttf";

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn cmd(args: &[&str]) -> Output {
    haforu().args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `haforu render` of "A" in Inter at `wght` on a 60×70 canvas into `file` (format from its
/// extension).
fn render_a(file: &Path, wght: u32) {
    let var = format!("wght={wght}");
    ok(&cmd(&[
        "render",
        "-f",
        INTER,
        "-t",
        "A",
        "-s",
        "48",
        "--var",
        &var,
        "--width",
        "60",
        "--height",
        "70",
        "-o",
        path(file),
    ]));
}

/// The error result a failed `info`/`compare` prints on stderr.
fn stderr_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn info_prints_the_font_info() {
    let out = ok(&cmd(&["info", INTER]));
    // Pretty-printed in the engine's key order.
    assert!(
        out.starts_with("{\n  \"faceIndex\": 0,\n  \"faceCount\": 1,\n"),
        "{out:.200}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["familyName"], "Inter");
    assert_eq!(v["unitsPerEm"], 2816);
    let axes = v["axes"].as_array().unwrap();
    assert_eq!(axes.len(), 1);
    assert_eq!(axes[0]["tag"], "wght");
    assert_eq!(
        (&axes[0]["min"], &axes[0]["default"], &axes[0]["max"]),
        (&json!(100.0), &json!(400.0), &json!(900.0))
    );
    let bold = v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Bold")
        .expect("a Bold instance");
    assert_eq!(bold["coords"]["wght"], 700.0);
    assert!(v["codepoints"]
        .as_array()
        .unwrap()
        .contains(&Value::from(65)));

    let text = ok(&cmd(&["info", INTER, "--format", "text"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "familyName: Inter");
    assert!(lines.contains(&"faceIndex: 0 of 1"));
    assert!(lines.contains(&"axes: 1"));
    assert!(lines.contains(&"  wght Weight: min 100, default 400, max 900"));
    assert!(lines.contains(&"  Bold: wght=700"));
    assert!(lines.contains(&"codepoints: 127 (U+0020..U+007E, U+00A0..U+00BF)"));

    // The second face of a collection.
    let out = ok(&cmd(&[
        "info",
        "tests/fonts/Collection-subset.ttc",
        "--face-index",
        "1",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["faceIndex"].as_u64(), v["faceCount"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["axes"], json!([]));
}

#[test]
fn info_errors_and_exit_codes() {
    // Unreadable file: usage (2), a message on stderr, nothing on stdout.
    let out = cmd(&["info", "tests/fonts/missing.ttf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read font file"));
    // A broken font, an empty file, a face out of range: the error result on stderr, exit 1.
    for (file, extra, needle) in [
        ("tests/fonts/broken/random.bin", None, "not a font file"),
        ("tests/fonts/broken/empty.ttf", None, "the file is empty"),
        ("tests/fonts/broken/truncated.ttf", None, "head"),
        (INTER, Some("4"), "face_index 4 is out of range"),
    ] {
        let mut args = vec!["info", file];
        if let Some(n) = extra {
            args.extend(["--face-index", n]);
        }
        let out = cmd(&args);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(out.stdout.is_empty(), "{file}");
        let e = stderr_json(&out);
        assert_eq!(e["id"], "info");
        assert_eq!(e["status"], "error");
        assert_eq!(e["error_kind"], "font_parse", "{file}: {e}");
        assert_eq!(e["font"]["path"], file);
        let msg = e["error"].as_str().unwrap();
        assert!(msg.starts_with(&format!("{file}: ")), "{msg}");
        assert!(msg.contains(needle), "{msg}");
    }
    assert_eq!(
        cmd(&["info", INTER, "--format", "yaml"]).status.code(),
        Some(2)
    );
}

#[test]
fn compare_command() {
    let dir = scratch("compare");
    let (a, a2, b, apng) = (
        dir.join("a.pgm"),
        dir.join("a2.pgm"),
        dir.join("b.pgm"),
        dir.join("a.png"),
    );
    render_a(&a, 400);
    render_a(&a2, 400);
    render_a(&b, 800);
    render_a(&apng, 400);

    // Identical images: no difference at all.
    let same: Value = serde_json::from_str(&ok(&cmd(&["compare", path(&a), path(&a2)]))).unwrap();
    assert_eq!(same["status"], "success");
    let c = &same["compare"];
    assert_eq!(c["pixel_delta"], 0.0);
    assert_eq!(c["center_weighted_delta"], 0.0);
    assert_eq!(c["differing_pixels"], 0);
    assert_eq!(c["iou"], 1.0);
    assert_eq!(
        (c["width"].as_u64(), c["height"].as_u64()),
        (Some(60), Some(70))
    );
    assert_eq!(c["density_a"], c["density_b"]);
    // The PNG and the PGM of one render hold the same pixels.
    let cross: Value =
        serde_json::from_str(&ok(&cmd(&["compare", path(&apng), path(&a)]))).unwrap();
    assert_eq!(cross, same);

    // Different weights: the bolder one has more ink; the line lists the fields in SPEC order.
    let line = ok(&cmd(&["compare", path(&a), path(&b)]));
    let keys = [
        "width",
        "height",
        "pixel_delta",
        "center_weighted_delta",
        "density_a",
        "density_b",
        "aspect_a",
        "aspect_b",
        "iou",
        "differing_pixels",
    ];
    let mut at = 0;
    for k in keys {
        let found = line[at..]
            .find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} missing or out of order in {line}"));
        at += found;
    }
    let d: Value = serde_json::from_str(&line).unwrap();
    let c = &d["compare"];
    assert!(c["pixel_delta"].as_f64().unwrap() > 0.0);
    assert!(c["density_b"].as_f64().unwrap() > c["density_a"].as_f64().unwrap());
    assert!(c["differing_pixels"].as_u64().unwrap() > 0);
    assert!(c["iou"].as_f64().unwrap() < 1.0);
    // Same-size images: corner and center alignment agree.
    let corner: Value = serde_json::from_str(&ok(&cmd(&[
        "compare",
        path(&a),
        path(&b),
        "--method",
        "corner",
    ])))
    .unwrap();
    assert_eq!(corner, d);

    // render --compare gives the numbers of comparing the rendered file.
    let rendered = ok(&cmd(&[
        "render",
        "-f",
        INTER,
        "-t",
        "A",
        "-s",
        "48",
        "--var",
        "wght=400",
        "--width",
        "60",
        "--height",
        "70",
        "--compare",
        path(&b),
    ]));
    // The result line of the render (metrics, as no image is wanted) holds the comparison.
    let r: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(
        (r["id"].as_str(), r["status"].as_str()),
        (Some("render"), Some("success"))
    );
    assert!(r["metrics"].is_object(), "{rendered}");
    assert_eq!(r["compare"], d["compare"]);
    let in_result = |line: &str| {
        let cmp = line
            .trim_end()
            .strip_prefix("{\"status\":\"success\",")
            .unwrap();
        let cmp = cmp.strip_suffix('}').unwrap();
        assert!(rendered.contains(cmp), "{cmp} not in {rendered}");
    };
    in_result(&line);
    let c_pgm = dir.join("c.pgm");
    let rendered = ok(&cmd(&[
        "render",
        "-f",
        INTER,
        "-t",
        "A",
        "-s",
        "48",
        "--var",
        "wght=400",
        "--width",
        "60",
        "--height",
        "70",
        "--compare",
        path(&b),
        "-o",
        path(&c_pgm),
    ]));
    let r: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(r["compare"], d["compare"]);
    assert_eq!(r["rendering"]["format"], "pgm");
    assert_eq!(std::fs::read(&c_pgm).unwrap(), std::fs::read(&a).unwrap());

    // The numbers are the engine's, digit for digit: the same text as the `compare` of a job
    // (this pair has densities that a parse-and-print round trip would change in the last digit).
    let (big_a, big_b) = (dir.join("inter-a.pgm"), dir.join("dejavu-a.png"));
    for (font, var, file) in [
        (INTER, "wght=500", &big_a),
        ("tests/fonts/DejaVuSans-subset.ttf", "wght=400", &big_b),
    ] {
        ok(&cmd(&[
            "render",
            "-f",
            font,
            "-t",
            "A",
            "-s",
            "200",
            "--var",
            var,
            "--width",
            "300",
            "--height",
            "240",
            "-o",
            path(file),
        ]));
    }
    let line = ok(&cmd(&["compare", path(&big_a), path(&big_b)]));
    let target = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&big_b).unwrap());
    let j = json!({
        "id": "c", "font": {"path": INTER, "size": 200, "variations": {"wght": 500}},
        "text": {"content": "A"}, "rendering": {"format": "metrics", "width": 300, "height": 240},
        "compare": {"target": target},
    });
    let result = ok(&run(&["stream"], format!("{j}\n").as_bytes()));
    let obj = line
        .trim_end()
        .strip_prefix("{\"status\":\"success\",")
        .and_then(|l| l.strip_suffix('}'))
        .unwrap();
    assert!(result.contains(obj), "{obj} not in {result}");
    assert!(obj.contains("\"density_a\":0.09947222222222223,"), "{obj}");

    // Errors: a bad method (usage), a missing file (usage), a broken image (the error result).
    let out = cmd(&["compare", path(&a), path(&b), "--method", "diagonal"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("diagonal"));
    let out = cmd(&["compare", path(&a), path(&dir.join("missing.pgm"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read image file"));
    let bad = dir.join("bad.pgm");
    std::fs::write(&bad, b"P5 garbage").unwrap();
    for (x, y) in [(&bad, &a), (&a, &bad)] {
        let out = cmd(&["compare", path(x), path(y)]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let e = stderr_json(&out);
        assert_eq!(
            (e["id"].as_str(), e["error_kind"].as_str()),
            (Some("compare"), Some("bad_job"))
        );
        assert!(e["error"].as_str().unwrap().starts_with(path(&bad)), "{e}");
    }
    let out = cmd(&["render", "-f", INTER, "-t", "A", "--compare", path(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr_json(&out)["error_kind"], "bad_job");
    assert_eq!(
        cmd(&["render", "-t", "A", "--method", "corner"])
            .status
            .code(),
        Some(2)
    );
}

/// The sweep test's jobs: a metrics sweep compared with an inline base64 PGM target, a pgm
/// sweep, a sweep with one bad point, a target given as a handle (no registry in batch mode).
fn sweep_jobs(target: &[u8], font: Value) -> Vec<Value> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(target);
    let base = |id: &str, format: &str| {
        json!({
            "id": id,
            "font": font.clone(),
            "text": {"content": "A"},
            "rendering": {"format": format, "width": 60, "height": 70},
        })
    };
    let mut metrics = base("sw-metrics", "metrics");
    metrics["sweep"] = json!([{"wght": 100}, {"wght": 400}, {"wght": 650.5}, {"wght": 1200}]);
    metrics["compare"] = json!({"target": b64, "method": "center"});
    let mut pgm = base("sw-pgm", "pgm");
    pgm["sweep"] = json!([{"wght": 300}, {}, {"wght": 900}]);
    let mut bad = base("sw-bad", "metrics");
    bad["sweep"] = json!([{"wght": 200}, {"wght": "bold"}, {"wght": 700}]);
    bad["compare"] = json!({"target": {"data": b64}, "method": "corner"});
    let mut handle = base("sw-handle", "metrics");
    handle["compare"] = json!({"target": 7});
    vec![metrics, pgm, bad, handle]
}

fn jsonl(jobs: &[Value]) -> String {
    jobs.iter().map(|j| format!("{j}\n")).collect()
}

/// Checks the sweep results: every good point equals the single job at its coordinates, the
/// bad point is isolated, the handle target is the engine's bad_job.
fn check_sweeps(results: &[Value], jobs: &[Value]) {
    let by_id = |id: &str| results.iter().find(|r| r["id"] == id).unwrap();
    // The single jobs at each point's requested coordinates, run through `stream`.
    let mut singles = Vec::new();
    for j in &jobs[..3] {
        for p in j["sweep"].as_array().unwrap() {
            let mut s = j.clone();
            s.as_object_mut().unwrap().remove("sweep");
            s["id"] = json!(format!("{}-{p}", j["id"].as_str().unwrap()));
            s["font"]["variations"] = p.clone();
            singles.push(s);
        }
    }
    let single = lines(&run(&["stream"], jsonl(&singles).as_bytes()));
    let mut k = 0;
    let mut compared = 0;
    for j in &jobs[..3] {
        let r = by_id(j["id"].as_str().unwrap());
        assert_eq!(r["status"], "success", "{r}");
        let points = r["points"].as_array().unwrap();
        assert_eq!(points.len(), j["sweep"].as_array().unwrap().len());
        for (p, requested) in points.iter().zip(j["sweep"].as_array().unwrap()) {
            let s = &single[k];
            k += 1;
            if requested["wght"].is_string() {
                assert_eq!(p["status"], "error");
                assert_eq!(p["error_kind"], "bad_job");
                assert!(
                    p["error"].as_str().unwrap().contains("sweep[1].wght"),
                    "{p}"
                );
                continue;
            }
            assert_eq!(p["status"], "success", "{p}");
            assert_eq!(s["status"], "success", "{s}");
            assert_eq!(p["variations"], s["font"]["variations"], "{p} vs {s}");
            for key in ["metrics", "rendering", "compare", "warnings"] {
                assert_eq!(p[key], s[key], "{key}: {p} vs {s}");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 9);
    // The clamped point says so; the bad sweep's good points rendered.
    let m = by_id("sw-metrics")["points"].as_array().unwrap().clone();
    assert_eq!(m[3]["variations"]["wght"], 900.0);
    assert!(m[3]["warnings"][0].as_str().unwrap().contains("clamped"));
    assert!(m.iter().all(|p| p["compare"]["width"] == 60));
    let pgm = by_id("sw-pgm")["points"].as_array().unwrap().clone();
    assert!(pgm.iter().all(|p| p["rendering"]["data"].is_string()));
    let h = by_id("sw-handle");
    assert_eq!(h["status"], "error");
    assert_eq!(h["error_kind"], "bad_job");
    assert!(h["error"].as_str().unwrap().contains("handle 7"), "{h}");
}

fn target_pgm(name: &str) -> (PathBuf, Vec<u8>) {
    let dir = scratch(name);
    let t = dir.join("target.pgm");
    render_a(&t, 500);
    let bytes = std::fs::read(&t).unwrap();
    (t, bytes)
}

#[test]
fn sweeps_through_batch_and_stream() {
    let (_, target) = target_pgm("sweep-cli");
    let jobs = sweep_jobs(&target, json!({"path": INTER, "size": 48}));
    let input = jsonl(&jobs);
    let batch = run(&["batch", "--ordered", "-j", "2"], input.as_bytes());
    let batch_text = ok(&batch);
    let stream_text = ok(&run(&["stream"], input.as_bytes()));
    let unordered = ok(&run(&["batch", "-j", "2"], input.as_bytes()));
    let strip = |t: &str| t.lines().map(without_timing).collect::<Vec<_>>();
    assert_eq!(strip(&batch_text), strip(&stream_text));
    let (mut x, mut y) = (strip(&batch_text), strip(&unordered));
    x.sort();
    y.sort();
    assert_eq!(x, y);
    // One line per job, sweeps included.
    assert_eq!(batch_text.lines().count(), jobs.len());
    let results = lines(&batch);
    check_sweeps(&results, &jobs);
    // A batch object gives the same lines.
    let envelope = json!({"version": "1.0", "jobs": jobs}).to_string();
    let env = ok(&run(&["batch", "--ordered"], envelope.as_bytes()));
    assert_eq!(strip(&env), strip(&batch_text));
    // --strict: the handle job failed, so exit 1; validate accepts the sweeps.
    let strict = run(&["batch", "--strict"], input.as_bytes());
    assert_eq!(strict.status.code(), Some(1));
    let v = lines(&run(&["validate"], input.as_bytes()));
    assert_eq!(v.len(), 4);
    assert!(v[..2].iter().all(|l| l["valid"] == true), "{v:?}");
    // A sweep with a bad point is invalid (the point's error); a handle target is bad_job.
    assert_eq!(v[2]["valid"], false);
    assert!(
        v[2]["error"].as_str().unwrap().contains("sweep[1].wght"),
        "{v:?}"
    );
    assert_eq!(
        (&v[3]["valid"], &v[3]["error_kind"]),
        (&json!(false), &json!("bad_job"))
    );
    assert!(
        v[0]["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("sweep[3]: font.variations: wght 1200"),
        "{v:?}"
    );
}

#[test]
fn sweeps_through_the_server() {
    let (_, target) = target_pgm("sweep-server");
    let by_path = sweep_jobs(&target, json!({"path": INTER, "size": 48}));
    let by_name = sweep_jobs(&target, json!({"name": "Inter-VF-subset.ttf", "size": 48}));
    let cli = lines(&run(&["batch", "--ordered"], jsonl(&by_path).as_bytes()));
    let s = Server::start(&[]);
    let r = s.request("POST", "/batch", jsonl(&by_name).as_bytes());
    assert_eq!(r.status, 200);
    let served = r.json_lines();
    assert_eq!(served.len(), cli.len());
    // The same answers, except that the server never echoes a font path.
    for (a, b) in served.iter().zip(&cli) {
        for key in ["id", "status", "points", "error_kind"] {
            assert_eq!(a[key], b[key], "{key}: {a} vs {b}");
        }
    }
    // /render: a png sweep answers JSON (images inline), not image/png.
    let mut png = by_name[1].clone();
    png["rendering"]["format"] = json!("png");
    let r = s.request("POST", "/render", png.to_string().as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for p in points {
        let data = base64::engine::general_purpose::STANDARD
            .decode(p["rendering"]["data"].as_str().unwrap())
            .unwrap();
        assert!(data.starts_with(b"\x89PNG"));
    }
    // A single png job with compare: image/png, the comparison in the result header.
    let mut single = by_name[0].clone();
    single.as_object_mut().unwrap().remove("sweep");
    single["rendering"]["format"] = json!("png");
    let r = s.request("POST", "/render", single.to_string().as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    let head: Value = serde_json::from_str(r.header("x-haforu-result").unwrap()).unwrap();
    assert_eq!(head["compare"], cli[0]["points"][1]["compare"]);
    // A handle target: the engine's bad_job, 400.
    let r = s.request("POST", "/render", by_name[3].to_string().as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_kind"], "bad_job");
}
