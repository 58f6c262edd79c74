//! Output encodings: binary PGM, 8-bit grayscale PNG, base64 (SPEC §3).

use crate::error::{Error, ErrorKind};

/// `P5\n{W} {H}\n255\n` followed by the pixels.
pub fn pgm(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() + 20);
    pgm_header(width, height, &mut out);
    out.extend_from_slice(pixels);
    out
}

/// Append the PGM header; the pixels follow.
pub fn pgm_header(width: u32, height: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("P5\n{width} {height}\n255\n").as_bytes());
}

/// An 8-bit grayscale PNG.
pub fn png(width: u32, height: u32, pixels: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let fail = |e: png::EncodingError| {
        Error::new(ErrorKind::Internal, format!("PNG encoding failed: {e}"))
    };
    let mut w = enc.write_header().map_err(fail)?;
    w.write_image_data(pixels).map_err(fail)?;
    w.finish().map_err(fail)?;
    Ok(out)
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Append standard base64 with padding to `out`.
pub fn base64_into(bytes: &[u8], out: &mut Vec<u8>) {
    use base64::Engine as _;
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .expect("buffer sized for the encoding");
    out.truncate(start + n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgm_header() {
        assert_eq!(pgm(2, 1, &[0, 255]), b"P5\n2 1\n255\n\x00\xff");
    }

    #[test]
    fn png_roundtrip() {
        let px: Vec<u8> = (0..=255).collect();
        let bytes = png(16, 16, &px).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(&buf[..256], &px[..]);
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b"ab"), "YWI=");
        let mut v = b"x".to_vec();
        base64_into(b"abcd", &mut v);
        assert_eq!(v, b"xYWJjZA==");
    }
}
