//! `demo-app client add|list|delete`: the client registry from the command
//! line. A new client's secret is printed once, alone on the last line of
//! standard output, and never logged.

use auth_core::database::Database;
use auth_core::{ClientRecord, ClientStore as _, GrantType, MAX_CLIENT_ID_LEN, Scopes};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
#[allow(
    clippy::doc_markdown,
    reason = "clap prints these comments as help, where backticks would show"
)]
pub(crate) enum ClientCommand {
    /// Register a client. A confidential client (the default) gets a new
    /// secret, printed once on the last line; store it now, it cannot be
    /// shown again.
    Add {
        /// The client id (at most 128 bytes; no spaces, control characters
        /// or colons).
        name: String,
        /// Space-separated scopes the client may be granted, e.g.
        /// "read:items"; each must be declared by the app.
        #[arg(long)]
        scopes: String,
        /// Space-separated grant types the client may use: password,
        /// refresh_token, client_credentials. Default: client_credentials
        /// for a confidential client, "password refresh_token" for a
        /// public one.
        #[arg(long)]
        grants: Option<String>,
        /// A public client (a first-party app that cannot keep a secret):
        /// no secret, and never the client-credentials grant.
        #[arg(long)]
        public: bool,
    },
    /// List every client: id, kind, state, grants and scopes (never
    /// secrets).
    List,
    /// Delete a client; the refresh tokens issued to it are revoked.
    Delete {
        /// The client id.
        name: String,
    },
}

/// What `add` is asked for, checked before the database is touched.
pub(crate) struct NewClient {
    name: String,
    grants: Vec<GrantType>,
    scopes: Scopes,
    public: bool,
}

/// Checks the arguments of `add` (scopes against `declared`).
pub(crate) fn check_add(
    name: &str,
    scopes: Scopes,
    grants: Option<&str>,
    public: bool,
) -> Result<NewClient, String> {
    check_client_id(name)?;
    let grants = match grants {
        Some(list) => GrantType::parse_list(list).ok_or_else(|| {
            format!(
                "--grants must be space-separated grant types: {}",
                GrantType::join(&GrantType::ALL)
            )
        })?,
        None if public => vec![GrantType::Password, GrantType::RefreshToken],
        None => vec![GrantType::ClientCredentials],
    };
    if grants.is_empty() {
        return Err("--grants names no grant type".to_owned());
    }
    if public && grants.contains(&GrantType::ClientCredentials) {
        return Err(
            "a public client cannot use client_credentials (RFC 6749 §4.4); drop --public \
             or the grant"
                .to_owned(),
        );
    }
    Ok(NewClient {
        name: name.to_owned(),
        grants,
        scopes,
        public,
    })
}

fn check_client_id(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the client id is empty".to_owned());
    }
    if name.len() > MAX_CLIENT_ID_LEN {
        return Err(format!(
            "the client id is longer than {MAX_CLIENT_ID_LEN} bytes"
        ));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(
            "the client id must not contain spaces, control characters or colons".to_owned(),
        );
    }
    Ok(())
}

/// Runs `add`: the message lines, then the secret alone on the last line.
pub(crate) async fn add(store: &Database, new: NewClient) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (record, secret) = if new.public {
        let record = ClientRecord::public(&new.name, new.grants, new.scopes, now);
        (record, None)
    } else {
        let (record, secret) = ClientRecord::confidential(&new.name, new.grants, new.scopes, now);
        (record, Some(secret))
    };
    let summary = describe(&record);
    store.create_client(record).await.map_err(|e| match e {
        auth_core::StoreError::Conflict { .. } => format!(
            "client {:?} already exists; choose another id or delete it first",
            new.name
        ),
        e => format!("database: {e}"),
    })?;
    Ok(match secret {
        Some(secret) => format!(
            "added {summary}\nclient secret (shown once; store it now):\n{}",
            secret.expose()
        ),
        None => format!("added {summary}"),
    })
}

/// Runs `list` or `delete`.
pub(crate) async fn run(store: &Database, action: ClientCommand) -> Result<String, String> {
    let db = |e: auth_core::StoreError| format!("database: {e}");
    match action {
        ClientCommand::Add { .. } => Err("add is run by `add`".to_owned()),
        ClientCommand::List => {
            let clients = store.list_clients().await.map_err(db)?;
            if clients.is_empty() {
                return Ok(
                    "no clients; add one with `demo-app client add NAME --scopes \"...\"`"
                        .to_owned(),
                );
            }
            Ok(clients.iter().map(describe).collect::<Vec<_>>().join("\n"))
        }
        ClientCommand::Delete { name } => {
            if !store.delete_client(&name).await.map_err(db)? {
                return Err(format!(
                    "no client named {name:?}; see `demo-app client list`"
                ));
            }
            Ok(format!(
                "deleted client {name:?}; its refresh tokens are revoked"
            ))
        }
    }
}

/// One line about a client, without its secret.
fn describe(client: &ClientRecord) -> String {
    let kind = if client.is_confidential() {
        "confidential"
    } else {
        "public"
    };
    let state = if client.enabled { "" } else { ", disabled" };
    let scopes = if client.scopes.is_empty() {
        "none".to_owned()
    } else {
        client.scopes.to_string()
    };
    format!(
        "client {:?} ({kind}{state}): grants {}; scopes {scopes}",
        client.client_id,
        GrantType::join(&client.grants)
    )
}
