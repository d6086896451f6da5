//! `rzeroctl api new|validate|format`.

use std::path::PathBuf;

/// `rzeroctl api new` options.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The service's name (`greet`): lower case letters, digits and `_`.
    pub name: String,
    /// Where to create it (default: `./NAME`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Where the crate gets rzero from.
    #[command(flatten)]
    pub rzero: crate::cargo::RzeroArgs,
}

/// `rzeroctl api validate` options.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The `.api` file (its imports are checked too).
    #[arg(long)]
    pub api: PathBuf,
}

/// goctl's `api new` starter, with the service's name filled in.
pub fn starter_api(name: &str) -> String {
    let handler = crate::rustgen::pascal_name(name);
    format!(
        "syntax = \"v1\"\n\ntype Request {{\n\tName string `path:\"name,options=you|me\"`\n}}\n\n\
         type Response {{\n\tMessage string `json:\"message\"`\n}}\n\n\
         service {name}-api {{\n\t@handler {handler}Handler\n\tget /from/:name (Request) returns (Response)\n}}\n"
    )
}
/// `rzeroctl api format` options.
#[derive(Debug, clap::Args)]
pub struct FormatArgs {
    /// Format every `.api` file under this directory, in place.
    #[arg(long, value_name = "DIR", required_unless_present = "stdin")]
    pub dir: Option<std::path::PathBuf>,
    /// Read the source from stdin and write the formatted text to stdout.
    #[arg(long, conflicts_with = "dir")]
    pub stdin: bool,
    /// Change nothing; list the files that would change and fail if there are any.
    #[arg(long)]
    pub check: bool,
}

/// Runs `rzeroctl api new`.
pub fn new(args: &NewArgs) -> Result<(), crate::CmdError> {
    let name = &args.name;
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a service name: use lower case letters, digits and `_`, starting with a letter"
        )
        .into());
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    let api = dir.join(format!("{name}.api"));
    if api.exists() {
        return Err(format!(
            "{} already exists: regenerate with `rzeroctl api rust --api {} --dir {}`",
            api.display(),
            api.display(),
            dir.display()
        )
        .into());
    }
    crate::files::write_once(&api, &starter_api(name))
        .map_err(|e| format!("cannot write {}: {e}", api.display()))?;
    println!("created {}", api.display());
    crate::rustgen::run(&crate::rustgen::RustArgs {
        api,
        dir,
        rzero: args.rzero.clone(),
    })
}
/// Runs `rzeroctl api validate`.
pub fn validate(args: &ValidateArgs) -> Result<(), crate::CmdError> {
    let spec = crate::api::load(&args.api)?;
    println!(
        "{}: ok (service {}, {} types, {} routes in {} groups)",
        args.api.display(),
        spec.service.name,
        spec.types.len(),
        spec.service.routes().count(),
        spec.service.groups.len()
    );
    Ok(())
}
/// Runs `rzeroctl api format`.
pub fn format(args: &FormatArgs) -> Result<(), crate::CmdError> {
    crate::api::format::command::run(args.dir.as_deref(), args.stdin, args.check)
}
