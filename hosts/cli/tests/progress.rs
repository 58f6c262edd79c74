//! The progress bar of `haforu batch`: jobs done / total for a file or a batch object, jobs and
//! bytes read for stdin; on a non-terminal only with `--progress`, never changing the results.

mod common;

use common::*;

/// Five jobs (one of them an error result) as JSONL with blank and whitespace-only lines, a
/// CRLF line and no final newline: five job lines.
fn jsonl() -> String {
    let mut s = String::from("\n");
    s += &job("a", DEJAVU, "Hi", "metrics", 100, 64);
    s += "\n   \n";
    s += &job("b", DEJAVU, "Ho", "pgm", 80, 40);
    s += "\r\n\t\r\n";
    s += &job("c", "tests/fonts/missing.ttf", "x", "metrics", 10, 10);
    s += "\n";
    s += &job("d", DEJAVU, "office", "metrics", 200, 64);
    s += "\n\n";
    s += &job("e", DEJAVU, "e", "metrics", 50, 64);
    s
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Result lines without timing, sorted (completion order varies with two workers).
fn results(o: &std::process::Output) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(without_timing)
        .collect();
    v.sort();
    v
}

#[test]
fn file_shows_jobs_done_of_total() {
    let dir = scratch("progress-file");
    let p = dir.join("jobs.jsonl");
    std::fs::write(&p, jsonl()).unwrap();
    let path = p.to_str().unwrap();

    let plain = run(&["batch", "-j", "2", path], b"");
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    // stderr is a pipe here: no bar unless asked for.
    assert!(plain.stderr.is_empty(), "{}", stderr(&plain));
    assert_eq!(results(&plain).len(), 5);

    let shown = run(&["batch", "-j", "2", "--progress", path], b"");
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    assert_eq!(
        results(&shown),
        results(&plain),
        "--progress changed the results"
    );
    let err = stderr(&shown);
    let lines: Vec<&str> = err.lines().collect();
    // Plain lines on a non-terminal: no carriage returns or escape sequences.
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    // The first draw, before any result: the total, a rate and an ETA.
    assert!(
        lines[0].contains(" 0/5 jobs") && lines[0].contains("ETA"),
        "{err}"
    );
    let last = lines.last().unwrap();
    assert!(
        last.contains("[##############################] 5/5 jobs"),
        "{err}"
    );
    assert!(last.contains(" jobs/s") && last.contains(" in "), "{err}");
    assert!(last.ends_with("1 errors"), "{err}");

    // --no-progress (and --quiet) wins over nothing; both together are a usage error.
    let quiet = run(&["batch", "-q", path], b"");
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
    let both = run(&["batch", "--progress", "--no-progress", path], b"");
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(both.stdout.is_empty());
}

#[test]
fn batch_object_on_stdin_shows_its_total() {
    let jobs: Vec<serde_json::Value> = ["x", "y", "z"]
        .iter()
        .map(|id| serde_json::from_str(&job(id, DEJAVU, id, "metrics", 64, 64)).unwrap())
        .collect();
    let object = serde_json::json!({"version": "1.0", "jobs": jobs}).to_string();
    let o = run(
        &["batch", "--ordered", "--progress", "-"],
        object.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<String> = lines(&o).iter().map(|r| r["id"].to_string()).collect();
    assert_eq!(ids, ["\"x\"", "\"y\"", "\"z\""]);
    let err = stderr(&o);
    assert!(err.lines().last().unwrap().contains(" 3/3 jobs"), "{err}");
    assert!(!err.contains("errors"), "{err}");
}

#[test]
fn stdin_jsonl_shows_jobs_and_bytes_read() {
    let input = jsonl();
    let o = run(&["batch", "--progress"], input.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(results(&o).len(), 5);
    let err = stderr(&o);
    let last = err.lines().last().unwrap();
    // No total to show: jobs done, the rate and what was read.
    assert!(
        last.contains(" 5 jobs ") && last.contains(" jobs/s"),
        "{err}"
    );
    assert!(
        last.contains(&format!("{} B read", input.len())),
        "{} bytes: {err}",
        input.len()
    );
    assert!(!last.contains('/') || !last.contains("5/"), "{err}");
    assert!(!err.contains("ETA"), "{err}");
}

/// stdin redirected from a file (`haforu batch < jobs.jsonl`) has a total too: its job lines
/// are counted from where stdin stands, without moving it.
#[test]
fn stdin_from_a_file_shows_the_total() {
    let dir = scratch("progress-stdin-file");
    let p = dir.join("jobs.jsonl");
    std::fs::write(&p, jsonl()).unwrap();
    let o = haforu()
        .args(["batch", "--ordered", "--progress"])
        .stdin(std::fs::File::open(&p).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<String> = lines(&o).iter().map(|r| r["id"].to_string()).collect();
    assert_eq!(ids, ["\"a\"", "\"b\"", "\"c\"", "\"d\"", "\"e\""]);
    let err = stderr(&o);
    assert!(err.lines().next().unwrap().contains(" 0/5 jobs"), "{err}");
    assert!(err.lines().last().unwrap().contains(" 5/5 jobs"), "{err}");
    assert!(!err.contains(" read"), "{err}");
}
