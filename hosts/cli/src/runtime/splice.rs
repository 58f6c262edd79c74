//! Inline images: the base64 text of out-of-band bytes goes where the engine says.

/// Inserts the base64 text of `data` at byte `at` of `json` (the descriptor's `splice_at`,
/// between the quotes of `"data":""`): exactly the engine's inline result.
pub fn splice_base64(json: &[u8], at: usize, data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let at = at.min(json.len());
    let b64_len = data.len().div_ceil(3) * 4;
    let mut out = Vec::with_capacity(json.len() + b64_len);
    out.extend_from_slice(&json[..at]);
    let start = out.len();
    out.resize(start + b64_len, 0);
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(data, &mut out[start..])
        .expect("buffer sized for base64");
    out.truncate(start + n);
    out.extend_from_slice(&json[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_inserts_at_the_offset() {
        let json = br#"{"rendering":{"data":"","width":1}}"#;
        let at = json.windows(8).position(|w| w == b"\"data\":\"").unwrap() + 8;
        assert_eq!(
            splice_base64(json, at, &[0, 1, 2]),
            br#"{"rendering":{"data":"AAEC","width":1}}"#.to_vec()
        );
        let v: serde_json::Value =
            serde_json::from_slice(&splice_base64(json, at, &[255, 254, 253, 252])).unwrap();
        assert_eq!(v["rendering"]["data"], "//79/A==");
    }
}
