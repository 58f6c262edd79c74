//! The `haforu` commands, run as a user would: batch, stream, render, validate, diagnostics,
//! the sandbox (deadline, memory cap, recycling) and exit codes.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use base64::Engine as _;
use common::*;
use sha2::{Digest, Sha256};

fn golden_cases() -> String {
    std::fs::read_to_string(root().join("tests/golden/raster/cases.jsonl"))
        .expect("tests/golden/raster/cases.jsonl")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Golden jobs through `batch` (ordered and not, 1 and 2 workers) and `stream` give the same
/// bytes, and — where the engine's parity references exist — the bytes of the native engine.
#[test]
fn golden_jobs_batch_and_stream_agree_with_parity() {
    let cases = golden_cases();
    let n = cases.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(n > 0);
    let ordered = run(&["batch", "--ordered", "--jobs", "2"], cases.as_bytes());
    assert_eq!(
        ordered.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ordered.stderr)
    );
    let batch: Vec<String> = String::from_utf8(ordered.stdout.clone())
        .unwrap()
        .lines()
        .map(without_timing)
        .collect();
    assert_eq!(batch.len(), n);

    let streamed = run(&["stream"], cases.as_bytes());
    assert_eq!(streamed.status.code(), Some(0));
    let stream: Vec<String> = String::from_utf8(streamed.stdout)
        .unwrap()
        .lines()
        .map(without_timing)
        .collect();
    assert_eq!(batch, stream, "batch and stream differ");

    let one = run(&["batch", "--jobs", "1", "-"], cases.as_bytes());
    let mut unordered: Vec<String> = String::from_utf8(one.stdout)
        .unwrap()
        .lines()
        .map(without_timing)
        .collect();
    let mut sorted = batch.clone();
    unordered.sort();
    sorted.sort();
    assert_eq!(unordered, sorted, "one worker differs from two");

    // Every case renders at its own size and with a PGM payload.
    for (line, case) in batch
        .iter()
        .zip(cases.lines().filter(|l| !l.trim().is_empty()))
    {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let c: serde_json::Value = serde_json::from_str(case).unwrap();
        assert_eq!(r["id"], c["id"]);
        assert_eq!(r["status"], "success", "{line:.300}");
        let data = base64::engine::general_purpose::STANDARD
            .decode(r["rendering"]["data"].as_str().unwrap())
            .unwrap();
        let (w, h) = (
            c["rendering"]["width"].as_u64().unwrap(),
            c["rendering"]["height"].as_u64().unwrap(),
        );
        let header = format!("P5\n{w} {h}\n255\n");
        assert!(data.starts_with(header.as_bytes()));
        assert_eq!(data.len() as u64, header.len() as u64 + w * h);
    }

    // Parity with the engine's own references: tests/golden/parity.json maps each case id to
    // {"pgm_sha256": sha256 of the PGM bytes, "metrics": the metrics object of the same job in
    // `metrics` format}, made by the native core (tests/reference/parity.rs).
    let parity_path = root().join("tests/golden/parity.json");
    let Ok(text) = std::fs::read_to_string(&parity_path) else {
        eprintln!(
            "note: {} not present; parity part skipped",
            parity_path.display()
        );
        return;
    };
    let parity: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for line in &batch {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = r["id"].as_str().unwrap();
        let Some(want) = parity.get(id).and_then(|v| v["pgm_sha256"].as_str()) else {
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(r["rendering"]["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            hex(&Sha256::digest(&bytes)),
            want,
            "{id}: PGM differs from the engine's parity reference"
        );
        checked += 1;
    }
    assert!(checked > 0, "parity.json names none of the golden cases");

    // The same cases as `metrics` jobs, through batch and stream.
    let metrics_jobs: String = cases
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["rendering"]["format"] = "metrics".into();
            v.to_string() + "\n"
        })
        .collect();
    for args in [&["batch", "--jobs", "2"][..], &["stream"][..]] {
        let out = run(args, metrics_jobs.as_bytes());
        assert_eq!(out.status.code(), Some(0));
        let mut seen = 0;
        for r in lines(&out) {
            let id = r["id"].as_str().unwrap();
            if let Some(want) = parity.get(id).map(|v| &v["metrics"]) {
                assert_eq!(
                    &r["metrics"], want,
                    "{id} via {args:?}: metrics differ from parity"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, checked);
    }
}

/// A batch object (pretty-printed, several lines) is accepted like JSONL; a bad envelope is one
/// error result with id `batch` and exit code 3.
#[test]
fn batch_object_envelope() {
    let obj = serde_json::json!({
        "version": "1.0",
        "jobs": [
            serde_json::from_str::<serde_json::Value>(&job("a", DEJAVU, "Hi", "metrics", 100, 64)).unwrap(),
            serde_json::from_str::<serde_json::Value>(&job("b", DEJAVU, "Ho", "glyphs", 100, 64)).unwrap(),
        ]
    });
    let out = run(
        &["batch", "--ordered"],
        serde_json::to_string_pretty(&obj).unwrap().as_bytes(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = lines(&out);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0]["id"], "a");
    assert!(l[0]["metrics"]["density"].as_f64().unwrap() > 0.0);
    assert_eq!(l[1]["id"], "b");
    assert!(l[1]["glyphs"].as_array().unwrap().len() == 2);

    for bad in [
        r#"{"version":"2.0","jobs":[{"id":"x"}]}"#,
        r#"{"version":"1.0","jobs":[]}"#,
    ] {
        let out = run(&["batch"], bad.as_bytes());
        assert_eq!(out.status.code(), Some(3), "{bad}");
        let l = lines(&out);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0]["id"], "batch");
        assert_eq!(l[0]["status"], "error");
    }
}

/// Malformed lines, broken fonts and pathological jobs each give one error result; the jobs
/// after them still succeed; the input was processed, so the exit code is 0 (haforu 2.x).
#[test]
fn bad_jobs_never_stop_a_batch() {
    let dir = scratch("broken");
    let good = std::fs::read(root().join(DEJAVU)).unwrap();
    let mut fonts: Vec<String> = Vec::new();
    // Generated broken fonts (the checked-in ones are added below when present).
    let truncated = dir.join("truncated.ttf");
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    let mut flipped = good.clone();
    for i in (64..flipped.len()).step_by(97) {
        flipped[i] ^= 0x5a;
    }
    let flipped_p = dir.join("bitflip.ttf");
    std::fs::write(&flipped_p, &flipped).unwrap();
    let garbage = dir.join("garbage.ttf");
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..5000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(&garbage, noise).unwrap();
    let empty = dir.join("empty.ttf");
    std::fs::write(&empty, b"").unwrap();
    for p in [&truncated, &flipped_p, &garbage, &empty] {
        fonts.push(p.display().to_string());
    }
    if let Ok(rd) = std::fs::read_dir(root().join("tests/fonts/broken")) {
        let mut names: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        names.sort();
        fonts.extend(names.into_iter().map(|p| p.display().to_string()));
    }

    let mut input = String::new();
    let mut expect: Vec<(String, Option<&str>)> = Vec::new();
    let mut push = |line: String, id: String, kind: Option<&'static str>| {
        input.push_str(&line);
        input.push('\n');
        expect.push((id, kind));
    };
    push(
        job("ok-1", DEJAVU, "Hamburg", "metrics", 400, 64),
        "ok-1".into(),
        None,
    );
    push("{not json".into(), "line-2".into(), Some("bad_json"));
    push(
        r#"{"id":"missing-fields"}"#.into(),
        "missing-fields".into(),
        Some("bad_job"),
    );
    push(
        r#"{"id":"handle","font":{"handle":1,"size":9},"text":{"content":"a"},"rendering":{"format":"pgm","width":9,"height":9}}"#.into(),
        "handle".into(),
        Some("bad_job"),
    );
    push(
        job(
            "nofile",
            "tests/fonts/does-not-exist.ttf",
            "a",
            "pgm",
            10,
            10,
        ),
        "nofile".into(),
        Some("font_not_found"),
    );
    for (i, f) in fonts.iter().enumerate() {
        let id = format!("broken-{i}");
        push(job(&id, f, "Hamburg", "pgm", 300, 64), id, Some("?"));
        push(
            job(&format!("after-{i}"), DEJAVU, "ok", "metrics", 100, 64),
            format!("after-{i}"),
            None,
        );
    }
    push(
        job("over-limit", DEJAVU, "W", "pgm", 10001, 10),
        "over-limit".into(),
        Some("limit_exceeded"),
    );
    push(
        job("area-limit", DEJAVU, "W", "metrics", 10000, 5001),
        "area-limit".into(),
        Some("limit_exceeded"),
    );
    push(
        job("at-limit", DEJAVU, "W", "metrics", 10000, 5000),
        "at-limit".into(),
        None,
    );
    push(
        job("ok-last", DEJAVU, "Hamburg", "pgm", 400, 64),
        "ok-last".into(),
        None,
    );

    let out = run(
        &["batch", "--ordered", "--jobs", "2", "--stats"],
        input.as_bytes(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = lines(&out);
    assert_eq!(l.len(), expect.len());
    for (r, (id, kind)) in l.iter().zip(&expect) {
        assert_eq!(r["id"], id.as_str(), "{r}");
        match kind {
            None => assert_eq!(r["status"], "success", "{id}: {r}"),
            Some(k) => {
                assert_eq!(r["status"], "error", "{id}: {r}");
                let got = r["error_kind"].as_str().unwrap();
                if *k == "?" {
                    assert!(
                        ["font_parse", "font_not_found"].contains(&got),
                        "{id}: unexpected kind {got}"
                    );
                } else {
                    assert_eq!(got, *k, "{id}: {r}");
                }
                assert!(
                    r["error"].as_str().unwrap().contains(id.as_str()),
                    "message names the job: {r}"
                );
                assert!(r["timing"]["total_ms"].as_f64().is_some());
            }
        }
    }
    // --stats: one JSON line on stderr with totals.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stats: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(stats["jobs"], expect.len());
    assert_eq!(stats["ok"], expect.iter().filter(|e| e.1.is_none()).count());
    assert!(stats["errors"]["bad_json"].as_u64() == Some(1));
    assert!(stats["peak_rss_mb"].as_f64().unwrap() > 0.0);
}

/// A job past its deadline traps, is reported as `resource_limit`, and the next job runs on a
/// rebuilt instance; the same for the memory cap.
#[test]
fn deadline_and_memory_cap() {
    let heavy = serde_json::json!({
        "id": "slow",
        "font": {"path": DEJAVU, "size": 10000},
        "text": {"content": "WM".repeat(60)},
        "rendering": {"format": "metrics", "width": 10000, "height": 5000},
    })
    .to_string();
    let input = format!(
        "{heavy}\n{}\n{heavy}\n{}\n",
        job("a", DEJAVU, "Hi", "metrics", 100, 64),
        job("b", DEJAVU, "Hi", "pgm", 100, 64)
    );
    let out = run(
        &[
            "batch",
            "--ordered",
            "--jobs",
            "1",
            "--timeout-ms",
            "20",
            "--stats",
        ],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let l = lines(&out);
    assert_eq!(l[0]["error_kind"], "resource_limit", "{}", l[0]);
    assert!(l[0]["error"].as_str().unwrap().contains("deadline"));
    assert_eq!(l[1]["status"], "success");
    assert_eq!(l[2]["error_kind"], "resource_limit");
    assert_eq!(l[3]["status"], "success");
    let stats: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().last().unwrap()).unwrap();
    assert_eq!(stats["traps"], 2);

    // A 50-megapixel PGM does not fit in 48 MiB of guest memory.
    let big = job("big", DEJAVU, "W", "pgm", 10000, 5000);
    let input = format!("{big}\n{}\n", job("c", DEJAVU, "Hi", "pgm", 100, 64));
    let out = run(
        &["batch", "--ordered", "--memory-mb", "48"],
        input.as_bytes(),
    );
    let l = lines(&out);
    assert_eq!(l[0]["status"], "error");
    assert!(
        ["resource_limit", "limit_exceeded"].contains(&l[0]["error_kind"].as_str().unwrap()),
        "{}",
        l[0]
    );
    assert_eq!(l[1]["status"], "success");

    // With the deadline off, the heavy job completes.
    let out = run(&["batch", "--timeout-ms", "0"], heavy.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Instances are recycled after --recycle-jobs jobs; results stay the same.
#[test]
fn instances_recycle() {
    let mut input = String::new();
    for i in 0..12 {
        input.push_str(&job(&format!("j{i}"), DEJAVU, "Hamburg", "pgm", 300, 64));
        input.push('\n');
    }
    let out = run(
        &[
            "batch",
            "--ordered",
            "--jobs",
            "1",
            "--recycle-jobs",
            "5",
            "--stats",
        ],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let l: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(without_timing)
        .collect();
    let first = serde_json::from_str::<serde_json::Value>(&l[0]).unwrap();
    for line in &l {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["rendering"], first["rendering"]);
    }
    let stats: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().last().unwrap()).unwrap();
    assert_eq!(stats["recycles"], 2);
}

/// A long input streams through in bounded memory and completion order covers every job.
#[test]
fn long_input_streams() {
    let mut input = String::new();
    let n = 3000;
    for i in 0..n {
        input.push_str(&job(
            &format!("k{i}"),
            DEJAVU,
            "Hamburgefonstiv",
            "metrics",
            400,
            64,
        ));
        input.push('\n');
    }
    let out = run(&["batch", "--stats"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let l = lines(&out);
    assert_eq!(l.len(), n);
    let mut ids: Vec<&str> = l.iter().map(|v| v["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    let stats: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().last().unwrap()).unwrap();
    assert!(stats["peak_rss_mb"].as_f64().unwrap() < 400.0, "{stats}");
}

/// `stream` answers each line before the next is sent (flushed per line) and survives bad lines.
#[test]
fn stream_is_interactive() {
    let mut child = haforu()
        .arg("stream")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |line: &str| -> serde_json::Value {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        stdout.read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap()
    };
    assert_eq!(
        ask(&job("s1", DEJAVU, "Hi", "metrics", 100, 64))["status"],
        "success"
    );
    let bad = ask("][");
    assert_eq!(bad["id"], "line-2");
    assert_eq!(bad["error_kind"], "bad_json");
    assert_eq!(
        ask(&job("s3", "nope.ttf", "Hi", "metrics", 100, 64))["error_kind"],
        "font_not_found"
    );
    assert_eq!(
        ask(&job("s4", DEJAVU, "Hi", "glyphs", 100, 64))["status"],
        "success"
    );
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// `render` with the bundled font, a font file, variations, features and each format.
#[test]
fn render_command() {
    let dir = scratch("render");
    let png = dir.join("hello.png");
    let out = haforu()
        .args(["render", "-t", "Hello", "-o"])
        .arg(&png)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));

    let out = haforu()
        .args([
            "render",
            "-f",
            "tests/fonts/Inter-VF-subset.ttf",
            "-t",
            "office",
            "-s",
            "40",
            "--variations",
            "wght=700",
            "--features=-liga",
            "--format",
            "metrics",
            "--width",
            "300",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["font"]["variations"]["wght"], 700.0);
    assert_eq!(v["rendering"]["width"], serde_json::Value::Null);
    assert!(v["metrics"]["density"].as_f64().unwrap() > 0.0);

    let glyphs = |features: &str| -> usize {
        let out = haforu()
            .args([
                "render",
                "-f",
                DEJAVU,
                "-t",
                "ffi",
                "--format",
                "glyphs",
                "--features",
                features,
            ])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["glyphs"].as_array().unwrap().len()
    };
    assert_eq!(glyphs("-liga"), 3);

    let pgm = dir.join("x.pgm");
    let out = haforu()
        .args([
            "render", "-f", DEJAVU, "-t", "Hi", "--format", "pgm", "--width", "50", "--height",
            "40", "-o",
        ])
        .arg(&pgm)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let bytes = std::fs::read(&pgm).unwrap();
    assert!(bytes.starts_with(b"P5\n50 40\n255\n"));
    assert_eq!(bytes.len(), 13 + 2000);

    // A broken font is a job error (exit 1), a missing one a usage error (exit 2).
    let out = haforu()
        .args([
            "render",
            "-f",
            "tests/fonts/broken/random.bin",
            "-t",
            "x",
            "-o",
        ])
        .arg(dir.join("no.png"))
        .output()
        .unwrap();
    if root().join("tests/fonts/broken/random.bin").exists() {
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(v["error_kind"], "font_parse");
    }
    let out = haforu()
        .args(["render", "-f", "nope.ttf", "-t", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `validate` checks without rendering: one verdict per job (with the job's warnings), exit code 1
/// if any is invalid; warnings never make a job invalid.
#[test]
fn validate_command() {
    let input = format!(
        "{}\n{{bad\n{}\n{}\n",
        job("v1", DEJAVU, "Hi", "png", 100, 64),
        job("v2", DEJAVU, "Hi", "png", 20000, 64),
        job("v3", "nope.ttf", "Hi", "png", 100, 64),
    );
    let out = run(&["validate"], input.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let l = lines(&out);
    assert_eq!(l.len(), 4);
    assert_eq!(l[0], serde_json::json!({"id": "v1", "valid": true}));
    assert_eq!(l[1]["valid"], false);
    assert_eq!(l[1]["error_kind"], "bad_json");
    assert_eq!(l[2]["error_kind"], "limit_exceeded");
    assert_eq!(l[3]["error_kind"], "font_not_found");
    let out = run(
        &["validate"],
        format!("{}\n", job("v1", DEJAVU, "Hi", "pgm", 100, 64)).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));

    // Warnings: unknown keys (a typo), an unused encoding, an axis the font lacks, a clamp.
    let warned = r#"{"id":"w","font":{"path":"tests/fonts/Inter-VF-subset.ttf","size":20,"variation":{"wght":5},"variations":{"wdth":80,"wght":1200}},"text":{"content":"Hi"},"rendering":{"format":"png","encoding":"hex","width":50,"height":30}}"#;
    let dir = scratch("validate");
    let f = dir.join("w.jsonl");
    std::fs::write(&f, format!("{warned}\n")).unwrap();
    let out = haforu().args(["validate", "-i"]).arg(&f).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = lines(&out);
    assert_eq!(l[0]["valid"], true);
    let w: Vec<&str> = l[0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for needle in [
        "font.variation`",
        "rendering.encoding `hex`",
        "axis `wdth`",
        "clamped to 900",
    ] {
        assert!(w.iter().any(|m| m.contains(needle)), "{needle}: {w:?}");
    }
    // An invalid envelope: one verdict with id `batch`, exit code 3.
    // The job list, not a job: the envelope's error result (as in `python -m haforu`).
    let out = run(&["validate"], br#"{"version":"1.0","jobs":[]}"#);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(lines(&out)[0]["id"], "batch");
    assert_eq!(lines(&out)[0]["status"], "error");
    assert_eq!(lines(&out)[0]["error_kind"], "bad_job");
}

#[test]
fn diagnostics_and_version() {
    let out = haforu().arg("diagnostics").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["abi_version"], 2);
    assert_eq!(v["engine"]["abi_version"], 2);
    assert!(v["engine"]["limits"].is_object());
    assert!(v["engine"]["cache"].is_object());
    assert_eq!(v["module"]["sha256"].as_str().unwrap().len(), 64);
    let out = haforu().arg("--version").output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("haforu ") && s.contains("wasmtime"), "{s}");
}

/// README.md's exit-code table, as `(code, meaning)` rows.
fn readme_exit_codes() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(root().join("hosts/cli/README.md")).unwrap();
    let at = readme
        .find("\n### Exit codes\n")
        .expect("README has an Exit codes section");
    readme[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (cells.len() == 2 && cells[0].parse::<u8>().is_ok())
                .then(|| (cells[0].to_string(), cells[1].to_string()))
        })
        .collect()
}

/// `haforu --help` (and every subcommand's help) ends with README.md's exit-code table.
#[test]
fn help_prints_the_exit_code_table() {
    let rows = readme_exit_codes();
    let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(codes, ["0", "1", "2", "3", "4", "5"]);
    let mut want = String::from("Exit codes:");
    for (code, meaning) in &rows {
        want.push_str(&format!("\n  {code}  {meaning}"));
    }
    for args in [&["--help"][..], &["batch", "--help"], &["render", "-h"]] {
        let out = haforu().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&want), "{args:?}:\n{text}");
    }
}

#[test]
fn exit_codes() {
    let ok = run(
        &["batch"],
        format!("{}\n", job("e", DEJAVU, "Hi", "metrics", 100, 64)).as_bytes(),
    );
    assert_eq!(ok.status.code(), Some(0));
    let out = haforu()
        .args(["batch", "no/such/file.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = haforu().args(["batch", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Empty input: nothing to do, nothing failed.
    let out = run(&["batch"], b"\n\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    // A failing job: the input was processed (0); --strict makes it 1; in batch and stream.
    let mixed = format!(
        "{}\n{}\n",
        job("good", DEJAVU, "Hi", "metrics", 100, 64),
        job("bad", "tests/fonts/none.ttf", "Hi", "metrics", 100, 64)
    );
    for cmd in ["batch", "stream"] {
        let out = run(&[cmd], mixed.as_bytes());
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        let l = lines(&out);
        assert_eq!(l.len(), 2);
        assert!(l.iter().any(|r| r["error_kind"] == "font_not_found"));
        let out = run(&[cmd, "--strict"], mixed.as_bytes());
        assert_eq!(out.status.code(), Some(1), "{cmd} --strict");
        assert_eq!(lines(&out).len(), 2);
        let ok = run(
            &[cmd, "--strict"],
            format!("{}\n", job("g", DEJAVU, "Hi", "metrics", 100, 64)).as_bytes(),
        );
        assert_eq!(ok.status.code(), Some(0), "{cmd} --strict, all good");
        // Unreadable input: 2.
        let out = haforu().args([cmd, "no/such/file.jsonl"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
    }
    // A bad envelope: 3, even with --strict.
    let out = run(&["batch", "--strict"], br#"{"version":"1.0","jobs":[]}"#);
    assert_eq!(out.status.code(), Some(3));
    // An unwritable -o: 5.
    let out = run(
        &["batch", "-o", "no/such/dir/out.jsonl"],
        format!("{}\n", job("g", DEJAVU, "Hi", "metrics", 100, 64)).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(5));
    // A --base-dir that is not a directory: 2.
    let out = run(&["batch", "--base-dir", "no/such/dir"], b"");
    assert_eq!(out.status.code(), Some(2));
}

/// `render -o FILE` takes the format from the extension; an unknown extension, or a --format
/// that disagrees with it, is a usage error (2) and writes nothing.
#[test]
fn render_format_from_extension() {
    let dir = scratch("render-ext");
    let render = |extra: &[&str], out: &std::path::Path| {
        haforu()
            .args(["render", "-f", DEJAVU, "-t", "Hi", "-s", "30"])
            .args(extra)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    let pgm = dir.join("a.pgm");
    let o = render(&[], &pgm);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(std::fs::read(&pgm).unwrap().starts_with(b"P5\n"));
    let png = dir.join("a.PNG");
    assert_eq!(render(&[], &png).status.code(), Some(0));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let json = dir.join("m.json");
    assert_eq!(render(&[], &json).status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(v["metrics"]["density"].as_f64().unwrap() > 0.0);
    let glyphs = dir.join("g.json");
    assert_eq!(
        render(&["--format", "glyphs"], &glyphs).status.code(),
        Some(0)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&glyphs).unwrap()).unwrap();
    assert_eq!(v["glyphs"].as_array().unwrap().len(), 2);
    for (extra, name, needle) in [
        (&[][..], "a.tiff", "unknown extension"),
        (&[][..], "noext", "unknown extension"),
        (&["--format", "png"][..], "b.pgm", "disagrees"),
        (&["--format", "metrics"][..], "c.png", "disagrees"),
    ] {
        let p = dir.join(name);
        let o = render(extra, &p);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{name}"
        );
        assert!(!p.exists(), "{name} was written");
    }
}

/// Every haforu 2.x / hb-view spelling is accepted and means what the new one does.
#[test]
fn aliases_2x() {
    let dir = scratch("aliases");
    // render: --font-file, --font-size, --output-file (and -t), same bytes as -f/-s/-o.
    let a = dir.join("a.pgm");
    let b = dir.join("b.pgm");
    let o = haforu()
        .args([
            "render",
            "--font-file",
            DEJAVU,
            "--font-size",
            "30",
            "--text",
            "Hi",
            "--output-file",
        ])
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = haforu()
        .args(["render", "-f", DEJAVU, "-s", "30", "Hi", "-o"])
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(std::fs::read(&a).unwrap().starts_with(b"P5\n"));

    // batch: --max-fonts, --max-glyphs, --workers, -w, -i, --output-file, -q: same results.
    let input = dir.join("jobs.jsonl");
    let text: String = (0..6)
        .map(|i| job(&format!("a{i}"), DEJAVU, "Hamburg", "metrics", 300, 64) + "\n")
        .collect();
    std::fs::write(&input, &text).unwrap();
    let base = run(&["batch", "--ordered"], text.as_bytes());
    let want: Vec<String> = String::from_utf8(base.stdout)
        .unwrap()
        .lines()
        .map(without_timing)
        .collect();
    assert_eq!(want.len(), 6);
    let out_file = dir.join("out.jsonl");
    for args in [
        &[
            "batch",
            "--ordered",
            "--max-fonts",
            "1",
            "--max-glyphs",
            "0",
            "--workers",
            "2",
            "-q",
        ][..],
        &[
            "--max-glyphs",
            "3",
            "batch",
            "--ordered",
            "-w",
            "1",
            "--quiet",
        ],
        &[
            "batch",
            "--ordered",
            "--jobs",
            "0",
            "--max-glyphs",
            "100000",
        ],
    ] {
        let o = haforu()
            .args(args)
            .arg("-i")
            .arg(&input)
            .arg("--output-file")
            .arg(&out_file)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got: Vec<String> = std::fs::read_to_string(&out_file)
            .unwrap()
            .lines()
            .map(without_timing)
            .collect();
        assert_eq!(got, want, "{args:?}");
    }
    // --max-glyphs reaches the engine's glyph cache.
    let o = haforu()
        .args(["diagnostics", "--format", "json", "--max-glyphs", "7"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["engine"]["cache"]["glyphs"]["capacity"], 7, "{v}");
    assert_eq!(v["sandbox"]["max_fonts"], 512);
    let o = haforu()
        .args(["diagnostics", "--format", "text"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.lines().any(|l| l == "abi_version: 2"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("engine.limits.")),
        "{text}"
    );

    // validate -i FILE; version subcommand = --version.
    let o = haforu()
        .args(["validate", "-i"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(lines(&o).len(), 6);
    let v1 = haforu().arg("version").output().unwrap();
    let v2 = haforu().arg("--version").output().unwrap();
    assert_eq!(v1.status.code(), Some(0));
    assert_eq!(v1.stdout, v2.stdout);
    // --base-dir: a path inside is found, one leading outside is refused.
    let out = run(
        &["batch", "--base-dir", "tests/fonts"],
        format!(
            "{}\n{}\n",
            job("in", "DejaVuSans-subset.ttf", "Hi", "metrics", 100, 64),
            job("out", "../../README.md", "Hi", "metrics", 100, 64)
        )
        .as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let l = lines(&out);
    let by_id = |id: &str| l.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("in")["status"], "success");
    assert_eq!(by_id("out")["error_kind"], "font_not_found");
    assert!(by_id("out")["error"]
        .as_str()
        .unwrap()
        .contains("outside --base-dir"));
}

/// `| head -1` closes the pipe early: every command stops quietly with exit code 0.
#[test]
fn closed_pipe_is_quiet() {
    let dir = scratch("pipe");
    let input = dir.join("many.jsonl");
    let text: String = (0..3000)
        .map(|i| job(&format!("p{i}"), DEJAVU, "Hamburgefonstiv", "pgm", 400, 64) + "\n")
        .collect();
    std::fs::write(&input, text).unwrap();
    let bin = env!("CARGO_BIN_EXE_haforu");
    let f = input.display();
    for cmd in [
        format!("'{bin}' batch '{f}'"),
        format!("'{bin}' batch --ordered -j 2 '{f}'"),
        format!("'{bin}' stream '{f}'"),
        format!("'{bin}' diagnostics"),
        format!("'{bin}' render -t Hi --format pgm"),
        format!("'{bin}' --help"),
    ] {
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {cmd} | head -c 1 >/dev/null"))
            .env(
                "HAFORU_CACHE_DIR",
                std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("haforu-code-cache"),
            )
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.stderr.is_empty(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Input from a file with a progress bar requested but stderr not a terminal: no bar drawn.
#[test]
fn batch_from_file() {
    let dir = scratch("file");
    let p = dir.join("jobs.jsonl");
    std::fs::write(
        &p,
        format!("{}\n", job("f", DEJAVU, "Hi", "metrics", 100, 64)),
    )
    .unwrap();
    let out = haforu().arg("batch").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out)[0]["id"], "f");
}
