//! The guest against the real module (`target/haforu.wasm`, or `$HAFORU_WASM`).

use crate::module::tests::module_bytes;
use crate::{flags, key, kind, status, CodeCache, Descriptor, Guest, GuestModule, SandboxLimits};

fn guest() -> Guest {
    let m = GuestModule::load(&module_bytes(), true, CodeCache::Off).unwrap();
    Guest::new(&m, SandboxLimits::default()).unwrap()
}

fn text(g: &Guest, d: &Descriptor) -> String {
    String::from_utf8(g.json(d).unwrap().to_vec()).unwrap()
}

#[test]
fn descriptor_fields_in_order() {
    let mut b = [0u8; Descriptor::SIZE];
    for (i, c) in b.chunks_mut(4).enumerate() {
        c.copy_from_slice(&(i as u32 + 1).to_le_bytes());
    }
    let d = Descriptor::from_le_bytes(&b);
    assert_eq!(
        [
            d.json_ptr,
            d.json_len,
            d.data_ptr,
            d.data_len,
            d.status,
            d.kind,
            d.splice_at
        ],
        [1, 2, 3, 4, 5, 6, 7]
    );
}

#[test]
fn every_export_answers() {
    let mut g = guest();
    let d = g.info().unwrap();
    let info = text(&g, &d);
    assert!(info.contains("\"error_kinds\""), "{info}");
    // Bad bytes are bad_json; a host failure is written by the engine.
    let d = g.run(b"\xff{", 3, 0, 0).unwrap();
    assert_eq!((d.status, d.kind), (status::ERROR, kind::BAD_JSON));
    assert!(text(&g, &d).contains("\"line-3\""));
    let d = g
        .result_error(None, 7, kind::OVERLOADED, "busy", 0)
        .unwrap();
    assert_eq!((d.status, d.kind), (status::ERROR, kind::OVERLOADED));
    assert!(text(&g, &d).contains("\"status\":\"error\""));
    let d = g
        .result_error(None, 7, kind::OVERLOADED, "busy", flags::VALIDATE_ONLY)
        .unwrap();
    assert!(text(&g, &d).contains("\"valid\":false"), "{}", text(&g, &d));
    g.result_error(None, 7, kind::OVERLOADED, "busy", 0)
        .unwrap();
    let d = g.result_timing(1.5).unwrap();
    assert!(
        text(&g, &d).ends_with("\"timing\":{\"total_ms\":1.500}}"),
        "{}",
        text(&g, &d)
    );
    // An unbound path is a needs-font answer naming the key.
    let job = br#"{"id":"a","font":{"path":"x.ttf","size":20},"text":{"content":"A"},"rendering":{"format":"metrics","width":40,"height":30}}"#;
    let d = g.run(job, 0, 0, flags::NO_HANDLES).unwrap();
    assert!(d.needs_font());
    assert_eq!(d.kind, key::PATH);
    assert_eq!(g.data(&d).unwrap(), b"x.ttf");
    assert!(!g.font_forget(key::PATH, b"x.ttf").unwrap());
    let h = g.font_register_default().unwrap();
    assert!(h >= 1);
    let d = g.font_info(h, 0).unwrap();
    assert!(d.is_ok());
    assert!(g.envelope_probe(br#"{"version":"1.0","jobs":["#).unwrap());
    assert!(!g.envelope_probe(job).unwrap());
    let d = g.split(b"{}\n{}\n").unwrap();
    assert_eq!(text(&g, &d), "1\t{}\n2\t{}\n");
    g.cache_config(-1, -1, 8).unwrap();
    g.cache_clear().unwrap();
    assert!(g.font_drop(h).unwrap());
    assert!(!g.image_drop(99).unwrap());
}

#[test]
fn descriptor_is_the_modules_struct() {
    assert_eq!(Descriptor::SIZE, std::mem::size_of::<Descriptor>());
}

#[test]
fn restate_words_a_command_error() {
    let mut g = guest();
    let h = g.font_register(b"not a font at all").unwrap();
    let d = g.font_info(h, 0).unwrap();
    assert_eq!((d.status, d.kind), (status::ERROR, kind::FONT_PARSE));
    assert!(
        text(&g, &d).contains("job `font_info`: "),
        "{}",
        text(&g, &d)
    );
    let d = g.result_restate("info", "x.ttf", true).unwrap();
    assert_eq!((d.status, d.kind), (status::ERROR, kind::FONT_PARSE));
    let line = text(&g, &d);
    assert!(
        line.starts_with(r#"{"id":"info","status":"error","error":"x.ttf: "#),
        "{line}"
    );
    assert!(!line.contains("job `"), "{line}");
    assert!(
        line.ends_with(r#""error_kind":"font_parse","font":{"path":"x.ttf"}}"#),
        "{line}"
    );
    // Restated again without a subject or a font: the bare message.
    let d = g.result_restate("compare", "", false).unwrap();
    let bare = text(&g, &d);
    assert!(
        bare.starts_with(r#"{"id":"compare","status":"error","error":""#),
        "{bare}"
    );
    assert!(
        !bare.contains("x.ttf") && !bare.contains("\"font\""),
        "{bare}"
    );
    // A failure the host saw, restated.
    g.result_error(None, 0, kind::FONT_PARSE, "the file is empty", 0)
        .unwrap();
    let d = g.result_restate("info", "e.ttf", true).unwrap();
    assert_eq!(
        text(&g, &d),
        r#"{"id":"info","status":"error","error":"e.ttf: the file is empty","error_kind":"font_parse","font":{"path":"e.ttf"}}"#
    );
    // Any other result comes back unchanged.
    let d = g.info().unwrap();
    let info = text(&g, &d);
    let d = g.result_restate("info", "x.ttf", true).unwrap();
    assert_eq!((d.status, text(&g, &d)), (status::OK, info));
}
