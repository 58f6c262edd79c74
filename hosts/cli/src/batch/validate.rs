//! `haforu validate`: the engine answers each job with its verdict line (`VALIDATE_ONLY`);
//! only a failure the host saw (an unreadable font, a trap, an invalid envelope) comes back as
//! an error result, which is turned into the same verdict shape here.

/// `{"id":..,"valid":false,"error":..,"error_kind":..}` for an error result.
pub fn validation_line(error_result: &[u8]) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_slice(error_result).unwrap_or_default();
    let json = |v: &serde_json::Value| serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    format!(
        "{{\"id\":{},\"valid\":false,\"error\":{},\"error_kind\":{}}}",
        json(&v["id"]),
        json(&v["error"]),
        json(&v["error_kind"])
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_results_become_verdicts() {
        let l = validation_line(
            br#"{"id":"b","status":"error","error":"x","error_kind":"font_not_found","font":{"path":"p"},"timing":{"total_ms":0.1}}"#,
        );
        assert_eq!(
            l,
            br#"{"id":"b","valid":false,"error":"x","error_kind":"font_not_found"}"#.to_vec()
        );
    }
}
