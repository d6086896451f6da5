//! rzeroctl's `.api` front end over the input as a file: the parser, the formatter and
//! the checks (imports resolved under a directory that does not exist, so an `import`
//! is an error, not a read). An error with a position, never a panic; and what the
//! formatter writes parses again (`api format` must not turn a good file into a bad one).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if rzeroctl::api::parse("fuzz.api", src).is_err() {
        return;
    }
    if let Ok(formatted) = rzeroctl::api::format::format_source("fuzz.api", src) {
        if let Err(e) = rzeroctl::api::parse("formatted.api", &formatted) {
            panic!("the formatter's output does not parse: {e}\n--- input\n{src}\n--- output\n{formatted}");
        }
    }
    let path = Path::new("/nonexistent-rzero-fuzz/fuzz.api");
    let _ = rzeroctl::api::load_checked(path, Some(src));
});
