//! Run one job JSON (argument or stdin) with the font at `font.path` and print the result
//! JSON; with `-o FILE`, write the image payload there. A developer tool for the core alone.
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut text = String::new();
    match args.get(1) {
        Some(a) if a != "-" => text = a.clone(),
        _ => {
            std::io::stdin().read_to_string(&mut text).unwrap();
        }
    }
    let job: serde_json::Value = serde_json::from_str(&text).expect("job JSON");
    let mut engine = haforu::Engine::new();
    let handle = match job["font"]["path"].as_str() {
        Some(p) => engine
            .register_font(std::fs::read(p).expect("font file"))
            .unwrap(),
        None => engine.register_font(haforu::DEFAULT_FONT.to_vec()).unwrap(),
    };
    let out = engine.run_json(text.as_bytes(), 0, Some(handle), true);
    println!("{}", String::from_utf8_lossy(&out.json));
    if let Some(i) = args.iter().position(|a| a == "-o") {
        std::fs::write(&args[i + 1], &out.data).unwrap();
    }
}
