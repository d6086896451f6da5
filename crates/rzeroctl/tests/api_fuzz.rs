//! The parser, the checks and the generator never panic, whatever the input: random
//! token soup and mutations (deleted, duplicated, swapped and replaced characters) of
//! every `.api` file in the test data. Errors are fine; a panic or a hang is not.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::path::{Path, PathBuf};

use rzeroctl::cargo::RzeroSource;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "api") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"),
        &mut out,
    );
    out
}

/// Parse, check and (when that succeeds) generate: must return, never panic.
fn exercise(path: &Path, src: &str) {
    let _ = rzeroctl::api::parse("fuzz.api", src);
    if let Ok(spec) = rzeroctl::api::load_source(path, src) {
        let _ = rzeroctl::rustgen::generate(
            &spec,
            &RzeroSource::Version("0.1.0".into()),
            "fuzz.api",
            Default::default(),
        );
    }
}

#[test]
fn mutations_of_real_files_never_panic() {
    let corpus = corpus();
    assert!(corpus.len() > 40);
    let pieces = [
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "*",
        "/",
        ":",
        "-",
        "`",
        "\"",
        "@doc",
        "@handler",
        "@server",
        "type",
        "service",
        "map[",
        "interface{}",
        "3s",
        "\n",
        "é",
        "...",
        ",",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for (path, src) in &corpus {
        let chars: Vec<char> = src.chars().collect();
        for _ in 0..60 {
            let mut m = chars.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(m.len() + 1);
                match rng.below(4) {
                    0 if at < m.len() => {
                        m.remove(at);
                    }
                    1 => {
                        for c in pieces[rng.below(pieces.len())].chars().rev() {
                            m.insert(at.min(m.len()), c);
                        }
                    }
                    2 if m.len() > 1 => {
                        let b = rng.below(m.len());
                        let a = at.min(m.len() - 1);
                        m.swap(a, b);
                    }
                    _ => m.truncate(at),
                }
            }
            exercise(path, &m.into_iter().collect::<String>());
        }
    }
}

#[test]
fn token_soup_never_panics() {
    let words = [
        "syntax",
        "=",
        "\"v1\"",
        "info",
        "(",
        ")",
        "type",
        "A",
        "B",
        "{",
        "}",
        "string",
        "int64",
        "[]",
        "[2]",
        "map[string]",
        "*",
        "`json:\"a,optional\"`",
        "`path:\"id\"`",
        "service",
        "a-api",
        "@server",
        "prefix:",
        "/v1",
        "@handler",
        "h",
        "get",
        "post",
        "/a/:id",
        "returns",
        "@doc",
        "\"d\"",
        "import",
        "\"x.api\"",
        "\n",
        "//c\n",
        "/*c*/",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let n = rng.below(60);
        let src: Vec<&str> = (0..n).map(|_| words[rng.below(words.len())]).collect();
        exercise(Path::new("soup.api"), &src.join(" "));
    }
}

#[test]
fn hostile_sizes_are_refused_or_handled() {
    // Deep nesting, huge files and long lines come back as errors or results, promptly.
    exercise(
        Path::new("deep.api"),
        &format!("type A {{ X {}int }}", "[]".repeat(100_000)),
    );
    exercise(
        Path::new("deep.api"),
        &format!("type A {}", "{ X ".repeat(50_000)),
    );
    exercise(
        Path::new("wide.api"),
        &format!("type A {{ {} }}", "X int\n".repeat(50_000)),
    );
    exercise(
        Path::new("str.api"),
        &format!("info(title: \"{}\")", "x".repeat(1 << 20)),
    );
}
