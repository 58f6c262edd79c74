//! The closed-loop HTTP/1.1 client of the load examples (`load`, `soak`): one keep-alive
//! connection, one request written whole, its status and body read back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A keep-alive connection with a 30 s read timeout.
pub fn connect(addr: SocketAddr) -> std::io::Result<BufReader<TcpStream>> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(BufReader::with_capacity(256 << 10, s))
}

/// Status and body of one request (the `X-Haforu-Result` header of a PNG answer is appended
/// to the body, so it is compared too).
pub fn exchange(c: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    c.get_mut().write_all(request)?;
    let mut line = String::new();
    c.read_line(&mut line)?;
    let code: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let mut len = 0usize;
    let mut result_header = Vec::new();
    loop {
        line.clear();
        c.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("x-haforu-result") {
                result_header = v.trim().as_bytes().to_vec();
            }
        }
    }
    let mut body = vec![0; len];
    c.read_exact(&mut body)?;
    body.extend_from_slice(&result_header);
    Ok((code, body))
}
