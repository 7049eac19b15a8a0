//! The demo's command line: `demo-app [serve]` runs the server,
//! `demo-app adduser NAME --scopes "..." [--disabled]` adds a user whose
//! password is read from standard input, and `demo-app user ...` lists,
//! disables, enables, deletes users, changes their password or scopes and
//! ends their sessions; `demo-app client add|list|delete` manages OAuth
//! clients and `demo-app apikey add|list|revoke` API keys.
#![warn(clippy::pedantic)]

mod client_cli;

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::process::ExitCode;

use auth_core::database::{Database, redact_url};
use auth_core::{
    ApiKeyError, ApiKeyStore as _, AuthConfig, MAX_PASSWORD_LEN, Password, PasswordHasher,
    PasswordPolicy, ScopeRegistry, Scopes, UserStore as _,
};
use clap::{Parser, Subcommand};
use rocket::figment::Figment;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "demo-app",
    version,
    about = "A Rocket service on SQLite or PostgreSQL that shows every feature of auth-core",
    long_about = "A Rocket service on SQLite or PostgreSQL that shows every feature of auth-core.\n\n\
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
    /// Manage existing users and their sessions.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage OAuth clients (machine clients of the client-credentials
    /// grant, and first-party apps).
    Client {
        #[command(subcommand)]
        action: client_cli::ClientCommand,
    },
    /// Manage API keys: long-lived credentials sent in the X-API-Key
    /// header instead of a bearer token.
    Apikey {
        #[command(subcommand)]
        action: ApiKeyCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create a key for USER and print it once, alone on the last line of
    /// standard output; only its hash is stored.
    Add {
        /// The owner; the key acts as this user.
        user: String,
        /// Space-separated scopes, each held by the user, e.g. "read:items";
        /// "" for none. A scope later taken from the user is taken from the
        /// key too.
        #[arg(long)]
        scopes: String,
        /// A label to recognise the key by in `apikey list`.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the key expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_KEY_DAYS))]
        expires_in_days: Option<u64>,
    },
    /// List API keys (ids, owners, scopes and states; never the keys).
    List {
        /// Only the keys of this user.
        user: Option<String>,
    },
    /// Revoke a key by its id (as `apikey list` shows it): it stops working
    /// at once here, and on running servers within their subject-cache
    /// lifetime (`auth_subject_cache_ttl`, 5 s by default).
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// The longest lifetime `apikey add --expires-in-days` accepts.
const MAX_KEY_DAYS: u64 = 3650;

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// List every user: name, state and scopes.
    List,
    /// Disable a user: they can no longer log in, refresh or use their
    /// access tokens, and all their sessions are revoked.
    Disable {
        /// The username.
        name: String,
    },
    /// Enable a disabled user (their revoked sessions stay revoked).
    Enable {
        /// The username.
        name: String,
    },
    /// Set a new password, read from standard input; revokes all the
    /// user's sessions.
    Passwd {
        /// The username.
        name: String,
    },
    /// Replace the scopes a user may be granted, e.g. "read:items"; ""
    /// for none. Sessions lose removed scopes at their next refresh.
    Scopes {
        /// The username.
        name: String,
        /// Space-separated scopes; each must be declared by the app.
        scopes: String,
    },
    /// Log the user out everywhere: revoke all their refresh tokens.
    Revoke {
        /// The username.
        name: String,
    },
    /// Delete a user and all their refresh tokens.
    Delete {
        /// The username.
        name: String,
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
        } => report(rocket::execute(adduser(&name, &scopes, disabled))),
        Command::User { action } => report(rocket::execute(user(action))),
        Command::Client { action } => report(rocket::execute(client(action))),
        Command::Apikey { action } => report(rocket::execute(apikey(action))),
    }
}

/// Prints what a command did (stdout) or why it failed (stderr, exit 1).
fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Opens and migrates the configured database (`SQLite` or PostgreSQL, by
/// the URL's scheme).
async fn open_store() -> Result<Database, String> {
    let figment = demo_app::figment();
    let url = demo_app::database_url(&figment).map_err(|e| format!("configuration: {e}"))?;
    let shown = redact_url(&url);
    let store = Database::connect(&url, &demo_app::pool_settings(&figment))
        .await
        .map_err(|e| format!("database {shown}: {e}"))?;
    if let Err(e) = demo_app::migrate(&store).await {
        store.close().await;
        return Err(format!("database {shown}: {e}"));
    }
    Ok(store)
}

/// Runs a `client` subcommand.
async fn client(action: client_cli::ClientCommand) -> Result<String, String> {
    let new = match &action {
        client_cli::ClientCommand::Add {
            name,
            scopes,
            grants,
            public,
        } => {
            let scopes = check_scopes(scopes, &declared_scopes(&demo_app::figment())?)?;
            Some(client_cli::check_add(
                name,
                scopes,
                grants.as_deref(),
                *public,
            )?)
        }
        _ => None,
    };
    let store = open_store().await?;
    let result = match new {
        Some(new) => client_cli::add(&store, new).await,
        None => client_cli::run(&store, action).await,
    };
    store.close().await;
    result
}

/// Runs a `user` subcommand.
async fn user(action: UserCommand) -> Result<String, String> {
    // Check what can be checked before touching the database.
    let scopes = match &action {
        UserCommand::Scopes { scopes, .. } => Some(check_scopes(
            scopes,
            &declared_scopes(&demo_app::figment())?,
        )?),
        _ => None,
    };
    let password = match &action {
        UserCommand::Passwd { name } => Some(read_password(name, &password_policy()?)?),
        _ => None,
    };
    let store = open_store().await?;
    let result = run_user(&store, action, scopes, password).await;
    store.close().await;
    result
}

async fn run_user(
    store: &Database,
    action: UserCommand,
    scopes: Option<Scopes>,
    password: Option<Password>,
) -> Result<String, String> {
    let db = |e: auth_core::StoreError| format!("database: {e}");
    let missing = |name: &str| format!("no user named {name:?}; see `demo-app user list`");
    match action {
        UserCommand::List => {
            let users = store.admin().list_users().await.map_err(db)?;
            let lines: Vec<String> = users
                .iter()
                .map(|u| {
                    let state = if u.disabled { "disabled" } else { "enabled" };
                    format!("{}\t{state}\t{}", u.username, u.scopes)
                })
                .collect();
            Ok(format!("{} users\n{}", users.len(), lines.join("\n"))
                .trim_end()
                .to_owned())
        }
        UserCommand::Disable { name } => {
            if !store.admin().set_disabled(&name, true).await.map_err(db)? {
                return Err(missing(&name));
            }
            Ok(format!(
                "disabled user {name:?} and revoked all their sessions"
            ))
        }
        UserCommand::Enable { name } => {
            if !store.admin().set_disabled(&name, false).await.map_err(db)? {
                return Err(missing(&name));
            }
            Ok(format!(
                "enabled user {name:?} (sessions revoked earlier stay revoked)"
            ))
        }
        UserCommand::Passwd { name } => {
            if store.find_user(&name).await.map_err(db)?.is_none() {
                return Err(missing(&name));
            }
            let password = password.ok_or("no password was read")?;
            let hash = PasswordHasher::new()
                .hash(password.expose())
                .await
                .map_err(|e| format!("could not hash the password: {e}"))?;
            drop(password);
            if !store.admin().set_password(&name, &hash).await.map_err(db)? {
                return Err(missing(&name));
            }
            Ok(format!(
                "changed the password of {name:?} and revoked all their sessions"
            ))
        }
        UserCommand::Scopes { name, .. } => {
            let scopes = scopes.unwrap_or_default();
            if !store.admin().set_scopes(&name, &scopes).await.map_err(db)? {
                return Err(missing(&name));
            }
            let shown = if scopes.is_empty() {
                "no scopes".to_owned()
            } else {
                format!("scopes {scopes}")
            };
            Ok(format!("user {name:?} now has {shown}"))
        }
        UserCommand::Revoke { name } => {
            if store.find_user(&name).await.map_err(db)?.is_none() {
                return Err(missing(&name));
            }
            let live = store.admin().revoke_sessions(&name).await.map_err(db)?;
            Ok(format!("revoked {live} live sessions of {name:?}"))
        }
        UserCommand::Delete { name } => {
            if !store.admin().delete_user(&name).await.map_err(db)? {
                return Err(missing(&name));
            }
            Ok(format!("deleted user {name:?} and all their sessions"))
        }
    }
}

/// Runs an `apikey` subcommand.
async fn apikey(action: ApiKeyCommand) -> Result<String, String> {
    // Check what can be checked before touching the database.
    let scopes = match &action {
        ApiKeyCommand::Add { scopes, name, .. } => {
            if name.is_empty() || name.len() > auth_core::MAX_API_KEY_NAME_LEN {
                return Err(format!(
                    "--name must be 1 to {} bytes",
                    auth_core::MAX_API_KEY_NAME_LEN
                ));
            }
            Some(check_scopes(
                scopes,
                &declared_scopes(&demo_app::figment())?,
            )?)
        }
        _ => None,
    };
    let store = open_store().await?;
    let result = run_apikey(&store, action, scopes.unwrap_or_default()).await;
    store.close().await;
    result
}

async fn run_apikey(
    store: &Database,
    action: ApiKeyCommand,
    scopes: Scopes,
) -> Result<String, String> {
    let db = |e: auth_core::StoreError| format!("database: {e}");
    let now = unix_now();
    match action {
        ApiKeyCommand::Add {
            user,
            name,
            expires_in_days,
            ..
        } => {
            let expires_at = expires_in_days.map(|days| now + days * 24 * 3600);
            let key =
                auth_core::create_api_key(store, store, &user, &name, scopes, now, expires_at)
                    .await
                    .map_err(|e| match e {
                        ApiKeyError::UnknownOwner(_) => {
                            format!("no enabled user named {user:?}; see `demo-app user list`")
                        }
                        ApiKeyError::Store(e) => db(e),
                        e => e.to_string(),
                    })?;
            let record = &key.record;
            let scopes = if record.scopes.is_empty() {
                "no scopes".to_owned()
            } else {
                format!("scopes {}", record.scopes)
            };
            let expiry = match expires_in_days {
                Some(days) => format!("expires in {days} days"),
                None => "never expires".to_owned(),
            };
            Ok(format!(
                "created API key {} for {user:?} with {scopes}; it {expiry}\n\
                 send it in the X-API-Key header; it is shown only this once:\n{}",
                record.id,
                key.expose()
            ))
        }
        ApiKeyCommand::List { user } => {
            if let Some(user) = &user
                && store.find_user(user).await.map_err(db)?.is_none()
            {
                return Err(format!("no user named {user:?}; see `demo-app user list`"));
            }
            let keys = store.list_api_keys(user.as_deref()).await.map_err(db)?;
            let lines: Vec<String> = keys
                .iter()
                .map(|k| {
                    let state = match (k.revoked_at, k.expires_at) {
                        (Some(at), _) => format!("revoked at {at}"),
                        (None, Some(end)) if end <= now => format!("expired at {end}"),
                        (None, Some(end)) => format!("active until {end}"),
                        (None, None) => "active".to_owned(),
                    };
                    format!(
                        "{}\t{}\t{}\t{state}\t{}",
                        k.id, k.username, k.name, k.scopes
                    )
                })
                .collect();
            Ok(format!("{} API keys\n{}", keys.len(), lines.join("\n"))
                .trim_end()
                .to_owned())
        }
        ApiKeyCommand::Revoke { id } => {
            let record = store.revoke_api_key(&id, now).await.map_err(db)?;
            match record {
                None => Err(format!(
                    "no API key with id {id:?}; see `demo-app apikey list`"
                )),
                Some(record) if record.revoked_at != Some(now) => Ok(format!(
                    "API key {id} of {:?} was already revoked",
                    record.username
                )),
                Some(record) => Ok(format!(
                    "revoked API key {id} of {:?}; running servers refuse it within their \
                     subject-cache lifetime",
                    record.username
                )),
            }
        }
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn serve() -> ExitCode {
    // Before Rocket's own logger: keeps credentials out of the log and
    // counts refused requests instead of logging one line each.
    let _ = auth_core::install_logger();
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
    let figment = demo_app::figment();
    check_username(name)?;
    let scopes = check_scopes(scopes, &declared_scopes(&figment)?)?;
    // Fails here, before the password is read, if the URL is unusable.
    let url = demo_app::database_url(&figment).map_err(|e| format!("configuration: {e}"))?;
    auth_core::database::Backend::of(&url)
        .map_err(|e| format!("database {}: {e}", redact_url(&url)))?;
    let password = read_password(name, &password_policy()?)?;
    let hash = PasswordHasher::new()
        .hash(password.expose())
        .await
        .map_err(|e| format!("could not hash the password: {e}"))?;
    drop(password);

    let store = open_store().await?;
    let result = store
        .admin()
        .create_user(name, &hash, &scopes, disabled)
        .await
        .map_err(|e| match e {
            auth_core::StoreError::Conflict { .. } => {
                format!("user {name:?} already exists; choose another name")
            }
            e => format!("database {}: {e}", redact_url(&url)),
        });
    store.close().await;
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

/// The rules for new passwords, from the configuration
/// (`auth_password_min_chars`, `auth_password_min_score`).
fn password_policy() -> Result<PasswordPolicy, String> {
    let config = AuthConfig::from_figment(&demo_app::figment())
        .map_err(|e| format!("configuration: {e}"))?;
    config
        .validate()
        .map_err(|e| format!("configuration: {e}"))?;
    Ok(config.password_policy())
}

/// Reads one line from standard input as the new password of `username`,
/// without echo when it is a terminal, and checks it against `policy`.
fn read_password(username: &str, policy: &PasswordPolicy) -> Result<Password, String> {
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
    let password = Password::new(password);
    policy
        .check(username, password.expose())
        .map_err(|e| format!("password refused: {e}"))?;
    Ok(password)
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
