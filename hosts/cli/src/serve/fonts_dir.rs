//! `font.name` → a file directly inside the server's `--fonts` directory.

use std::path::{Path, PathBuf};

use haforu_guest::kind;

/// Maps `font.name` to a file directly inside the fonts directory, refusing anything that could
/// leave it (separators, `..`, hidden names, symlinks pointing outside). On failure the
/// error-kind code and the bare reason.
pub fn resolve_name(dir: Option<&Path>, name: &str) -> Result<PathBuf, (u32, String)> {
    let plain = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':']);
    if !plain {
        return Err((
            kind::BAD_JOB,
            format!(
                "font.name {name:?} is not a plain file name (no path separators, no leading dot)"
            ),
        ));
    }
    let Some(dir) = dir else {
        return Err((
            kind::FONT_NOT_FOUND,
            format!("no font named {name:?}: the server was started without --fonts"),
        ));
    };
    let canon = dir.join(name).canonicalize().map_err(|_| {
        (
            kind::FONT_NOT_FOUND,
            format!("no font named {name:?} in the fonts directory"),
        )
    })?;
    if !canon.starts_with(dir) || !canon.is_file() {
        return Err((
            kind::BAD_JOB,
            format!("font.name {name:?} does not name a file inside the fonts directory"),
        ));
    }
    Ok(canon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain() {
        let dir = std::env::temp_dir().join(format!("haforu-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("A.ttf"), b"x").unwrap();
        let dir = dir.canonicalize().unwrap();
        assert!(resolve_name(Some(&dir), "A.ttf").is_ok());
        for bad in [
            "../A.ttf",
            "/etc/passwd",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "",
        ] {
            let e = resolve_name(Some(&dir), bad).unwrap_err();
            assert_eq!(e.0, kind::BAD_JOB, "{bad}");
        }
        assert_eq!(
            resolve_name(Some(&dir), "nope.ttf").unwrap_err().0,
            kind::FONT_NOT_FOUND
        );
        assert_eq!(
            resolve_name(None, "A.ttf").unwrap_err().0,
            kind::FONT_NOT_FOUND
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
