//! Job-list envelopes (SPEC §1): a batch object `{"version": "1.0", "jobs": [...]}` or JSONL.

use crate::error::{Error, ErrorKind};
use serde_json::Value;

/// One job of a list: its 1-based line number (for the `line-N` fallback id) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobText {
    /// 1-based line (JSONL) or position in `jobs` (batch object).
    pub line_no: u32,
    /// The job as one line of text (not necessarily valid JSON).
    pub text: String,
}

/// Split a job list into jobs without running them.
///
/// Text whose first non-blank character is `{` and that parses as one JSON object with a
/// `jobs` or `version` key is a batch object; anything else is JSONL (blank lines skipped).
pub fn split(input: &[u8]) -> Result<Vec<JobText>, Error> {
    let text = std::str::from_utf8(input)
        .map_err(|e| Error::new(ErrorKind::BadJson, format!("input is not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Object(obj)) if obj.contains_key("jobs") || obj.contains_key("version") => {
                return split_batch_object(&obj);
            }
            Ok(_) => {}
            Err(e) => {
                // Not one value. If the first line is not a JSON value either, but the text
                // looks like a batch object, report the batch as malformed instead of treating
                // each of its lines as a job.
                let first = trimmed.lines().next().unwrap_or("");
                if serde_json::from_str::<Value>(first).is_err() && trimmed.contains("\"jobs\"") {
                    return Err(Error::new(
                        ErrorKind::BadJson,
                        format!("the batch object is not valid JSON: {e}"),
                    ));
                }
            }
        }
    }
    let mut jobs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        jobs.push(JobText {
            line_no: (i + 1) as u32,
            text: line.to_string(),
        });
    }
    if jobs.is_empty() {
        return Err(Error::bad_job("the input holds no jobs"));
    }
    Ok(jobs)
}

/// How a host that streams should read an input, judged from its first line: `false` it is
/// JSONL (run each line as it arrives; this line is a job, or a `bad_json` line), `true` it opens
/// a batch object or a JSON text spanning lines (read the whole input and [`split`] it).
pub fn needs_whole_input(first_line: &[u8]) -> bool {
    let text = match std::str::from_utf8(first_line) {
        Ok(t) => t.trim(),
        Err(_) => return false,
    };
    if !text.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => obj.contains_key("jobs") || obj.contains_key("version"),
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

fn split_batch_object(obj: &serde_json::Map<String, Value>) -> Result<Vec<JobText>, Error> {
    match obj.get("version") {
        Some(Value::String(v)) if v == "1.0" => {}
        Some(other) => {
            return Err(Error::bad_job(format!(
                "batch `version` must be the string \"1.0\", not {other}"
            )))
        }
        None => {
            return Err(Error::bad_job(
                "batch object is missing `version` (\"1.0\")",
            ))
        }
    }
    let jobs = match obj.get("jobs") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(Error::bad_job("batch `jobs` must be an array")),
        None => return Err(Error::bad_job("batch object is missing `jobs`")),
    };
    if jobs.is_empty() {
        return Err(Error::bad_job("batch `jobs` is empty"));
    }
    Ok(jobs
        .iter()
        .enumerate()
        .map(|(i, j)| JobText {
            line_no: (i + 1) as u32,
            text: j.to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_tells_jsonl_from_a_whole_input() {
        assert!(!needs_whole_input(b"{\"id\":\"a\"}"));
        assert!(!needs_whole_input(b"  not json"));
        assert!(!needs_whole_input(b"\xff{"));
        assert!(!needs_whole_input(b"{\"id\": nope}"));
        assert!(needs_whole_input(b"{\"version\":\"1.0\",\"jobs\":[]}"));
        assert!(needs_whole_input(b"{"));
        assert!(needs_whole_input(b"  {\"version\": \"1.0\","));
    }

    #[test]
    fn batch_object() {
        let j = split(br#"{"version":"1.0","jobs":[{"id":"a"},{"id":"b"}]}"#).unwrap();
        assert_eq!(j.len(), 2);
        assert_eq!(
            j[1],
            JobText {
                line_no: 2,
                text: r#"{"id":"b"}"#.into()
            }
        );
    }

    #[test]
    fn jsonl_keeps_line_numbers_and_bad_lines() {
        let j = split(b"{\"id\":\"a\"}\n\n{nope\n").unwrap();
        assert_eq!(j.len(), 2);
        assert_eq!(j[1].line_no, 3);
        assert_eq!(j[1].text, "{nope");
    }

    #[test]
    fn single_job_is_jsonl() {
        assert_eq!(split(br#"{"id":"a","font":{}}"#).unwrap().len(), 1);
    }

    #[test]
    fn envelope_errors() {
        let e = split(br#"{"version":"2.0","jobs":[{}]}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadJob);
        assert!(e.message.contains("1.0"));
        assert_eq!(
            split(br#"{"version":"1.0","jobs":[]}"#).unwrap_err().kind,
            ErrorKind::BadJob
        );
        assert_eq!(
            split(b"{\n\"version\": \"1.0\",\n\"jobs\": [\n")
                .unwrap_err()
                .kind,
            ErrorKind::BadJson
        );
        assert_eq!(split(b"\n \n").unwrap_err().kind, ErrorKind::BadJob);
    }
}
