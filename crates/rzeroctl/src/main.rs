//! The `rzeroctl` binary. Every command is unfinished; see the library docs.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("{}", rzeroctl::UNFINISHED);
    ExitCode::from(2)
}
