//! The demo's command line: `demo-app [serve]` runs the server,
//! `demo-app adduser NAME --scopes "..." [--disabled]` adds a user whose
//! password is read from standard input.
#![warn(clippy::pedantic)]

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::process::ExitCode;

use auth_core::sqlite::SqliteStore;
use auth_core::{AuthConfig, MAX_PASSWORD_LEN, Password, PasswordHasher, ScopeRegistry, Scopes};
use clap::{Parser, Subcommand};
use rocket::figment::Figment;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "demo-app",
    version,
    about = "A Rocket service on SQLite that shows every feature of auth-core",
    long_about = "A Rocket service on SQLite that shows every feature of auth-core.\n\n\
                  Configured through Rocket's configuration: Rocket.toml and ROCKET_* \
                  environment variables (ROCKET_DATABASE_URL, ROCKET_AUTH_SECRET, ...)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Add a user to the database. The password is read from standard
    /// input (hidden when typed at a terminal), never from the command line.
    Adduser {
        /// The username (at most 64 characters, no spaces).
        name: String,
        /// Space-separated scopes the user may be granted, e.g. "read:items
        /// write:items"; each must be declared by the app.
        #[arg(long)]
        scopes: String,
        /// Create the user disabled: they cannot log in until enabled.
        #[arg(long)]
        disabled: bool,
    },
}

/// The longest username `adduser` accepts, in characters.
const MAX_USERNAME: usize = 64;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Adduser {
            name,
            scopes,
            disabled,
        } => match rocket::execute(adduser(&name, &scopes, disabled)) {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve() -> ExitCode {
    // Before Rocket's own logger, which would print query strings (and so
    // any credential a client puts there) verbatim.
    let _installed = demo_app::logging::install(&rocket::Config::figment());
    match rocket::execute(demo_app::rocket().launch()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            let abort = error.pretty_print();
            eprintln!("error: {abort}");
            ExitCode::FAILURE
        }
    }
}

/// Adds a user. Everything is checked before the database is touched, and
/// the user is written with one statement, so a failure writes nothing.
async fn adduser(name: &str, scopes: &str, disabled: bool) -> Result<String, String> {
    let figment = rocket::Config::figment();
    check_username(name)?;
    let scopes = check_scopes(scopes, &declared_scopes(&figment)?)?;
    let url = demo_app::database_url(&figment).map_err(|e| format!("configuration: {e}"))?;
    let password = read_password()?;
    let hash = PasswordHasher::new()
        .hash(password.expose())
        .await
        .map_err(|e| format!("could not hash the password: {e}"))?;
    drop(password);

    let pool = auth_core::sqlite::open(&url)
        .await
        .map_err(|e| format!("database {url}: {e}"))?;
    let result = async {
        demo_app::migrate(&pool)
            .await
            .map_err(|e| format!("database {url}: {e}"))?;
        SqliteStore::new(pool.clone())
            .create_user(name, &hash, &scopes, disabled)
            .await
            .map_err(|e| match e {
                auth_core::StoreError::Conflict { .. } => {
                    format!("user {name:?} already exists; choose another name")
                }
                e => format!("database {url}: {e}"),
            })
    }
    .await;
    pool.close().await;
    result?;
    let scopes = if scopes.is_empty() {
        "no scopes".to_owned()
    } else {
        format!("scopes {scopes}")
    };
    let state = if disabled { ", disabled" } else { "" };
    Ok(format!("added user {name:?} with {scopes}{state}"))
}

fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the username is empty".to_owned());
    }
    if name.chars().count() > MAX_USERNAME {
        return Err(format!(
            "the username is longer than {MAX_USERNAME} characters"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the username must not contain spaces or control characters".to_owned());
    }
    Ok(())
}

/// The demo's scopes plus any declared in the configuration
/// (`auth_scopes`): exactly what the server will grant.
fn declared_scopes(figment: &Figment) -> Result<ScopeRegistry, String> {
    let configured = AuthConfig::from_figment(figment)
        .and_then(|config| config.scope_registry())
        .map_err(|e| format!("configuration: {e}"))?;
    let mut registry = demo_app::scope_registry();
    registry.extend(configured);
    Ok(registry)
}

fn check_scopes(list: &str, declared: &ScopeRegistry) -> Result<Scopes, String> {
    let known = || {
        declared
            .iter()
            .map(|(scope, _)| scope.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let scopes = Scopes::parse(list).map_err(|e| {
        format!(
            "--scopes must be space-separated scope names ({e}); known scopes: {}",
            known()
        )
    })?;
    if let Some(unknown) = scopes.iter().find(|s| !declared.is_declared(s.as_str())) {
        return Err(format!(
            "unknown scope {:?}; known scopes: {}",
            unknown.as_str(),
            known()
        ));
    }
    Ok(scopes)
}

/// Reads one line from standard input as the password, without echo when
/// it is a terminal.
fn read_password() -> Result<Password, String> {
    let stdin = std::io::stdin();
    let echo = if stdin.is_terminal() {
        eprint!("Password: ");
        Some(EchoOff::new())
    } else {
        None
    };
    // A little more than the longest password, so "too long" is detected
    // without reading unbounded input.
    let limit = u64::try_from(MAX_PASSWORD_LEN).unwrap_or(u64::MAX) + 3;
    let mut raw = Vec::new();
    stdin
        .lock()
        .take(limit)
        .read_until(b'\n', &mut raw)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    if echo.is_some() {
        eprintln!();
    }
    while raw.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        raw.pop();
    }
    let password =
        String::from_utf8(raw).map_err(|_| "the password is not valid UTF-8".to_owned())?;
    if password.is_empty() {
        return Err(
            "the password is empty; pipe it on standard input, e.g. printf '%s\\n' \"$PASSWORD\" | demo-app adduser ..."
                .to_owned(),
        );
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!(
            "the password is longer than {MAX_PASSWORD_LEN} bytes"
        ));
    }
    Ok(Password::new(password))
}

/// Turns terminal echo off (`stty -echo`) until dropped. Best effort: where
/// `stty` is unavailable the password is read with echo.
struct EchoOff {
    changed: bool,
}

impl EchoOff {
    fn new() -> Self {
        Self {
            changed: stty("-echo"),
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if self.changed {
            stty("echo");
        }
    }
}

/// Runs `stty` on the terminal of standard input; returns whether it worked.
fn stty(setting: &str) -> bool {
    std::process::Command::new("stty")
        .arg(setting)
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|status| status.success())
}
