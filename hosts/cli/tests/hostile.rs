//! Hostile input: font paths that are not regular files, fonts over the engine's limit, deep
//! nesting and invalid UTF-8. Each is answered at once with an error result; nothing hangs.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// A FIFO nobody writes to (opening it for reading would block forever).
fn fifo(dir: &std::path::Path) -> String {
    let p = dir.join("fifo.ttf");
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    p.display().to_string()
}

fn quick(t0: Instant) {
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t0.elapsed()
    );
}

#[test]
fn special_files_are_not_fonts() {
    let dir = scratch("special");
    let paths = [
        "/dev/zero".to_string(),
        dir.display().to_string(),
        fifo(&dir),
    ];
    let input: String = paths
        .iter()
        .enumerate()
        .map(|(i, p)| job(&format!("s{i}"), p, "Hi", "metrics", 100, 64) + "\n")
        .collect::<String>()
        + &job("after", DEJAVU, "Hi", "metrics", 100, 64)
        + "\n";
    for args in [
        &["batch", "--ordered"][..],
        &["stream"][..],
        &["validate"][..],
    ] {
        let t0 = Instant::now();
        let out = run(args, input.as_bytes());
        quick(t0);
        let l = lines(&out);
        assert_eq!(l.len(), 4, "{args:?}");
        for (r, p) in l.iter().zip(&paths) {
            if args[0] != "validate" {
                assert_eq!(r["status"], "error", "{args:?} {p}: {r}");
            }
            assert_eq!(r["error_kind"], "font_not_found", "{args:?} {p}: {r}");
            let msg = r["error"].as_str().unwrap();
            assert!(msg.contains("not a regular file"), "{args:?} {p}: {msg}");
        }
        if args[0] == "validate" {
            assert_eq!(l[3]["valid"], true, "{}", l[3]);
        } else {
            assert_eq!(l[3]["status"], "success", "{}", l[3]);
        }
    }
    for p in &paths {
        let t0 = Instant::now();
        let out = haforu()
            .args(["render", "-f", p, "-t", "Hi", "--format", "metrics"])
            .output()
            .unwrap();
        quick(t0);
        assert_eq!(out.status.code(), Some(2), "{p}");
        let v: serde_json::Value = serde_json::from_slice(&out.stderr)
            .unwrap_or_else(|e| panic!("{p}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(v["error_kind"], "font_not_found", "{p}: {v}");
        assert!(
            v["error"].as_str().unwrap().contains("not a regular file"),
            "{v}"
        );
    }
}

#[test]
fn a_font_over_the_limit_is_limit_exceeded() {
    let info = run(&["diagnostics"], b"");
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let max = info["engine"]["limits"]["max_font_bytes"].as_u64().unwrap();
    let dir = scratch("huge");
    let p = dir.join("huge.ttf");
    // Sparse: no disk is used and nothing should read it.
    std::fs::File::create(&p).unwrap().set_len(max + 1).unwrap();
    let p = p.display().to_string();
    let input = job("huge", &p, "Hi", "metrics", 100, 64) + "\n";
    let t0 = Instant::now();
    let l = lines(&run(&["batch"], input.as_bytes()));
    quick(t0);
    assert_eq!(l[0]["error_kind"], "limit_exceeded", "{}", l[0]);
    assert_eq!(l[0]["font"]["path"], p.as_str());
    let out = haforu()
        .args(["render", "-f", &p, "-t", "Hi", "--format", "metrics"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error_kind"], "limit_exceeded", "{v}");
}

#[test]
fn deep_nesting_and_invalid_utf8_are_bad_json() {
    let deep = "[".repeat(100_000);
    let mut input = format!("{deep}\n").into_bytes();
    input.extend_from_slice(b"{\"id\":\"x\xff\xfe\"}\n");
    input.extend_from_slice(b"\xc3\x28 not utf-8\n");
    input.extend_from_slice(job("ok", DEJAVU, "Hi", "metrics", 100, 64).as_bytes());
    input.push(b'\n');
    for args in [&["batch", "--ordered"][..], &["stream"][..]] {
        let t0 = Instant::now();
        let out = run(args, &input);
        quick(t0);
        let l = lines(&out);
        assert_eq!(l.len(), 4, "{args:?}");
        for (i, r) in l[..3].iter().enumerate() {
            assert_eq!(r["error_kind"], "bad_json", "{args:?} line {i}: {r}");
            assert_eq!(r["id"], format!("line-{}", i + 1));
        }
        assert_eq!(l[3]["status"], "success");
    }
    // The server answers 400 bad_json for the same bodies.
    let s = Server::start(&[]);
    for body in [deep.as_bytes(), b"{\"id\":\"x\xff\"}".as_slice()] {
        let r = s.request("POST", "/render", body);
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error_kind"], "bad_json");
    }
}

/// A bound font file that changes on disk is read again (the worker re-checks the files it
/// bound at most every second and forgets changed ones in the engine).
#[test]
fn a_changed_font_file_is_read_again() {
    use std::io::{BufRead, BufReader, Write};
    let dir = scratch("changed");
    let font = dir.join("f.ttf");
    std::fs::copy(root().join(DEJAVU), &font).unwrap();
    let mut child = haforu()
        .arg("stream")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let p = font.display().to_string();
    let mut ask = |id: &str| -> serde_json::Value {
        writeln!(stdin, "{}", job(id, &p, "Hamburg", "metrics", 300, 64)).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let a = ask("a");
    assert_eq!(a["status"], "success", "{a}");
    std::fs::copy(root().join("tests/fonts/Inter-VF-subset.ttf"), &font).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let b = ask("b");
    assert_eq!(b["status"], "success", "{b}");
    assert_ne!(
        a["metrics"], b["metrics"],
        "the old font was used after the change"
    );
    std::fs::write(&font, b"").unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let c = ask("c");
    assert_eq!(c["error_kind"], "font_parse", "{c}");
    let _ = child.kill();
    let _ = child.wait();
}

/// The truncated fonts of tests/golden/truncation/cases.json (FreeType's verdicts) as
/// `font.data` jobs through `haforu batch`: `font_parse` where FreeType fails or a required table
/// is cut short, FreeType's ink where it renders (the rule of tests/reference/truncation.rs).
#[test]
fn cut_fonts_follow_freetype_in_batch() {
    use base64::Engine as _;
    let cases: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/golden/truncation/cases.json")).unwrap(),
    )
    .unwrap();
    let mut input = String::new();
    for (i, c) in cases.iter().enumerate() {
        let whole = std::fs::read(root().join(c["font"].as_str().unwrap())).unwrap();
        let cut = &whole[..c["cut"].as_u64().unwrap() as usize];
        let size = c["size"].as_f64().unwrap();
        let text = c["text"].as_str().unwrap();
        let (w, h) = (40 * text.chars().count() as u64, (3.0 * size) as u64);
        let j = serde_json::json!({
            "id": format!("cut{i}"),
            "font": {"data": base64::engine::general_purpose::STANDARD.encode(cut), "size": size},
            "text": {"content": text},
            "rendering": {"format": "metrics", "width": w, "height": h},
        });
        input.push_str(&format!("{j}\n"));
    }
    let out = run(&["batch", "--ordered"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let results = lines(&out);
    assert_eq!(results.len(), cases.len());
    for (c, r) in cases.iter().zip(&results) {
        let text = c["text"].as_str().unwrap();
        let (w, h) = (
            40.0 * text.chars().count() as f64,
            (3.0 * c["size"].as_f64().unwrap()).floor(),
        );
        if c["freetype"] == "fails" || c.get("required_cut").is_some() {
            assert_eq!(r["error_kind"], "font_parse", "{c}: {r}");
        } else {
            let ink = r["metrics"]["density"].as_f64().unwrap_or(-1.0) * w * h;
            let want = c["ink"].as_f64().unwrap();
            assert!((ink - want).abs() <= 0.015 * want, "{c}: ink {ink}: {r}");
        }
    }
}
