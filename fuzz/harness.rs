//! What each fuzz target does with its input, shared by the cargo-fuzz targets (fuzz/) and by
//! the regression replay in `cargo test` (tests/reference/fuzz_regressions.rs), which includes
//! this file. Every input must come back as a result the engine wrote (JSON that parses, an
//! error of a known kind), never a panic, a hang or unbounded memory.

use haforu::{Engine, Output, RunOptions};

/// The fonts a render input may pick: the bundled Inter (variable, TrueType) and the test
/// fonts of other kinds (CFF, CFF2, Arabic).
pub const FONTS: [&[u8]; 4] = [
    haforu::DEFAULT_FONT,
    include_bytes!("../tests/fonts/EBGaramond12-subset.otf"),
    include_bytes!("../tests/fonts/SourceSans3VF-subset.otf"),
    include_bytes!("../tests/fonts/NotoSansArabic-subset.ttf"),
];

/// The answer is one JSON object with a status, and an error has a known kind.
fn check(out: &Output) {
    let v: serde_json::Value = serde_json::from_slice(&out.json)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.json)));
    if !out.is_ok() {
        let kind = v["error_kind"].as_str().or(v["needs"].as_str());
        assert!(kind.is_some(), "an answer without a kind: {v}");
    }
}

/// `job`: the input is one job's JSON text, validated and run with the bundled font as the
/// handle (fonts named by path answer *needs font*; `font.data` is decoded).
pub fn job(data: &[u8]) {
    let mut engine = Engine::new();
    let h = engine.register_font(haforu::DEFAULT_FONT.to_vec()).unwrap();
    let mut out = Output::default();
    let opts = RunOptions {
        data_out_of_band: true,
        ..RunOptions::default()
    };
    engine.validate_json(data, 1, Some(h), opts, &mut out);
    check(&out);
    engine.run_json_with(data, 1, Some(h), opts, &mut out);
    check(&out);
    engine.run_json_with(data, 1, None, RunOptions::default(), &mut out);
    check(&out);
}

/// `font`: the input is a font file: registered, its info read, and a short text rendered.
pub fn font(data: &[u8]) {
    let mut engine = Engine::new();
    let Ok(h) = engine.register_font(data.to_vec()) else {
        return;
    };
    let _ = engine.font_info_json(h, 0);
    for text in ["Hamburgefonstiv", "نص حكيم", "A\u{301}fi"] {
        let job = serde_json::json!({
            "id": "f", "font": {"size": 40}, "text": {"content": text},
            "rendering": {"format": "pgm", "width": 300, "height": 60},
        });
        let out = engine.run_json(job.to_string().as_bytes(), 0, Some(h), true);
        check(&out);
    }
}

/// `render`: the first bytes choose a font, size (up to 10,000 px), canvas, format,
/// direction, an axis value and features; the rest is the text.
pub fn render(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let (head, rest) = data.split_at(8);
    let font = FONTS[head[0] as usize % FONTS.len()];
    let size = 1.0 + (u16::from_le_bytes([head[1], head[2]]) as f64) * 10_000.0 / 65_535.0;
    let width = 1 + (head[3] as u32) * 12;
    let height = 1 + (head[4] as u32) * 5;
    let format = ["metrics", "pgm", "png", "raw", "glyphs"][head[5] as usize % 5];
    let direction = ["ltr", "rtl", "ttb", "btt", "auto"][head[6] as usize % 5];
    let wght = 50.0 + head[7] as f64 * 4.0;
    let features = ["liga", "-kern", "ss01", "smcp=1", "frac"];
    let picked: Vec<&str> = features
        .iter()
        .enumerate()
        .filter(|(i, _)| head[7] >> (i + 3) & 1 == 1)
        .map(|(_, f)| *f)
        .collect();
    let text: String = String::from_utf8_lossy(rest).chars().take(64).collect();
    let mut text_obj = serde_json::json!({"content": text, "features": picked});
    if direction != "auto" {
        text_obj["direction"] = direction.into();
    }
    let job = serde_json::json!({
        "id": "r", "font": {"size": size, "variations": {"wght": wght}},
        "text": text_obj,
        "rendering": {"format": format, "width": width, "height": height},
    });
    let mut engine = Engine::new();
    let h = engine.register_font(font.to_vec()).unwrap();
    let out = engine.run_json(job.to_string().as_bytes(), 0, Some(h), true);
    check(&out);
}

/// Gray pixels for a `w × h` image from `bytes` (cycled; all paper when empty).
fn pixels(bytes: &[u8], w: u32, h: u32) -> Vec<u8> {
    let n = w as usize * h as usize;
    if bytes.is_empty() {
        return vec![255; n];
    }
    bytes.iter().copied().cycle().take(n).collect()
}

/// An image for the engine from `data`: the first byte says how. Even: the rest is a PGM/PNG
/// file (decoded by the engine, usually refused); odd: a `w × h` gray image of the rest, w and
/// h from the next two bytes (1–32). The answer is the handle, when the engine took it, and
/// the bytes left over.
fn image<'a>(engine: &mut Engine, data: &'a [u8]) -> (Option<u32>, &'a [u8]) {
    let Some((&how, rest)) = data.split_first() else {
        return (None, data);
    };
    if how % 2 == 0 {
        let (file, rest) = rest.split_at(rest.len().min(how as usize * 8));
        return (engine.register_image_encoded(file).ok(), rest);
    }
    if rest.len() < 2 {
        return (None, rest);
    }
    let (w, h) = (1 + rest[0] as u32 % 32, 1 + rest[1] as u32 % 32);
    let rest = &rest[2..];
    let (px, rest) = rest.split_at(rest.len().min((w * h) as usize));
    let handle = engine.register_image(w, h, &pixels(px, w, h)).unwrap();
    (Some(handle), rest)
}

/// Base64 (standard, padded) of `bytes`, for `compare.target` data.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// `sweep`: the first 6 bytes choose a font, size (up to 10,000 px), canvas, format and
/// whether to compare (with a registered image or an inline file); then up to 16 points of 3
/// bytes (axis tag: wght, opsz, wdth, a tag no font has, a bad tag, or a non-number value;
/// the value), then the text.
pub fn sweep(data: &[u8]) {
    if data.len() < 6 {
        return;
    }
    let (head, rest) = data.split_at(6);
    let font = FONTS[head[0] as usize % FONTS.len()];
    let size = 1.0 + (u16::from_le_bytes([head[1], head[2]]) as f64) * 10_000.0 / 65_535.0;
    let width = 1 + (head[3] as u32 % 64) * 8;
    let height = 1 + (head[4] as u32 % 64) * 4;
    let format = ["metrics", "pgm", "png", "raw", "glyphs"][head[5] as usize % 5];
    let npoints = (head[5] as usize >> 3) % 17;
    let (points, rest) = rest.split_at(rest.len().min(npoints * 3));
    let sweep: Vec<serde_json::Value> = points
        .chunks(3)
        .map(|p| {
            let v = i16::from_le_bytes([p[0], *p.get(1).unwrap_or(&0)]) as f64 / 16.0;
            let mut m = serde_json::Map::new();
            match p.get(2).copied().unwrap_or(0) % 7 {
                0 => {}
                1 => drop(m.insert("wght".into(), v.into())),
                2 => drop(m.insert("opsz".into(), v.into())),
                3 => drop(m.insert("wdth".into(), v.into())),
                4 => drop(m.insert("ZZZZ".into(), v.into())),
                5 => drop(m.insert("toolong".into(), v.into())),
                _ => drop(m.insert("wght".into(), "bold".into())),
            }
            serde_json::Value::Object(m)
        })
        .collect();
    let mut engine = Engine::new();
    let h = engine.register_font(font.to_vec()).unwrap();
    let (compare, rest) = match head[4] >> 6 {
        1 => {
            let (target, rest) = image(&mut engine, rest);
            (target.map(|t| serde_json::json!({"target": t})), rest)
        }
        2 => {
            let (file, rest) = rest.split_at(rest.len().min(head[3] as usize * 4));
            let method = if head[3] % 2 == 0 { "center" } else { "corner" };
            let target = serde_json::json!({"data": base64(file)});
            (
                Some(serde_json::json!({"target": target, "method": method})),
                rest,
            )
        }
        _ => (None, rest),
    };
    let text: String = String::from_utf8_lossy(rest).chars().take(32).collect();
    let mut job = serde_json::json!({
        "id": "s", "font": {"size": size}, "text": {"content": text},
        "rendering": {"format": format, "width": width, "height": height},
        "sweep": sweep,
    });
    if let Some(c) = compare {
        job["compare"] = c;
    }
    for oob in [true, false] {
        let out = engine.run_json(job.to_string().as_bytes(), 0, Some(h), oob);
        check(&out);
    }
}

/// `compare`: two images from the input (see [`image`]), compared both ways, aligned or
/// not, by the API and by the `compare` image op; an image compared with itself differs
/// nowhere.
pub fn compare(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut engine = Engine::new();
    let (a, rest) = image(&mut engine, rest);
    let (b, _) = image(&mut engine, rest);
    let method = [
        haforu::compare::Align::Center,
        haforu::compare::Align::Corner,
    ][flags as usize % 2];
    let aligned = flags & 2 != 0;
    let (Some(a), Some(b)) = (a, b) else {
        // A missing handle is a bad_job, never a panic.
        let mut out = Output::default();
        engine.image_op_json(br#"{"op":"compare","a":1,"b":7}"#, &mut out);
        check(&out);
        return;
    };
    for (x, y) in [(a, b), (b, a), (a, a)] {
        let (c, pair) = engine.compare_images(x, y, method, aligned).unwrap();
        assert!(c.pixel_delta.is_finite() && (0.0..=255.0).contains(&c.pixel_delta));
        assert!((0.0..=1.0).contains(&c.iou), "iou {}", c.iou);
        if let Some((pa, pb)) = pair {
            let n = c.width as usize * c.height as usize;
            assert_eq!((pa.len(), pb.len()), (n, n));
        }
        if x == y {
            assert_eq!(
                (c.pixel_delta, c.differing_pixels),
                (0.0, 0),
                "self-compare"
            );
            assert_eq!(c.iou, 1.0, "self-compare");
        }
        let method = ["center", "corner"][flags as usize % 2];
        let req = serde_json::json!({"op": "compare", "a": x, "b": y, "method": method,
                                     "aligned": aligned});
        let mut out = Output::default();
        engine.image_op_json(req.to_string().as_bytes(), &mut out);
        check(&out);
        assert!(out.is_ok());
    }
}

/// `resize`: an image from the input (see [`image`]) resized by a multiplier from the first
/// two bytes (log-spaced over 0.005–200, so some are refused) or an odd value (0, negative,
/// NaN as null, huge), through the `resize` image op: the answer's size matches its pixels,
/// and a constant image stays constant.
pub fn resize(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let (m, rest) = data.split_at(2);
    let multiplier: serde_json::Value = match m[0] {
        0 => 0.0.into(),
        1 => (-1.5).into(),
        2 => serde_json::Value::Null,
        3 => 1e300.into(),
        4 => "2".into(),
        _ => (0.005f64 * (40_000f64).powf(m[1] as f64 / 255.0)).into(),
    };
    let mut engine = Engine::new();
    let (Some(h), _) = image(&mut engine, rest) else {
        return;
    };
    let img = engine.image(h).unwrap();
    let gray = img.to_gray();
    let constant = gray.iter().all(|&p| p == gray[0]).then_some(gray[0]);
    let req = serde_json::json!({"op": "resize", "image": h, "multiplier": multiplier});
    let mut out = Output::default();
    engine.image_op_json(req.to_string().as_bytes(), &mut out);
    check(&out);
    if out.is_ok() {
        let v: serde_json::Value = serde_json::from_slice(&out.json).unwrap();
        let (w, hh) = (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap());
        assert_eq!(out.data.len() as u64, w * hh, "{v}");
        if let Some(c) = constant {
            assert!(
                out.data.iter().all(|&p| p == c),
                "a constant {c} image changed"
            );
        }
    }
}
