//! A demo app on its own database file, and helpers to talk to it.

use std::path::PathBuf;
use std::sync::Arc;

use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest};
use serde_json::Value;
use tempfile::TempDir;

/// The signing secret of every test app (at least 32 bytes).
pub const SECRET: &str = "demo-tests-secret-0123456789-abcdefghijklmnop";

/// A temporary directory holding one database file; removed on drop.
pub struct TestDb {
    dir: TempDir,
}

impl TestDb {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            dir: tempfile::tempdir().expect("temp dir"),
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("demo.db")
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }

    /// A separate connection pool on the file, as another process would have.
    pub async fn pool(&self) -> sqlx::SqlitePool {
        auth_core::sqlite::open(&self.url()).await.expect("open db")
    }
}

/// The configuration of a test app on `db`: quiet, with [`SECRET`].
pub fn figment(db: &TestDb) -> Figment {
    Figment::from(rocket::Config::debug_default())
        .merge(("log_level", "off"))
        .merge(("cli_colors", false))
        .merge(("database_url", db.url()))
        .merge(("auth_secret", SECRET))
        // Tests fire bursts of simultaneous logins; on a one-core machine the
        // default queue (4 per core) would answer some of them 503.
        .merge(("auth_hash_queue", 64))
}

/// A running demo app and the database it uses.
pub struct App {
    pub client: Client,
    pub db: Arc<TestDb>,
}

impl App {
    /// A demo app on a new, empty database.
    pub async fn new() -> Self {
        Self::on(&TestDb::new()).await
    }

    /// A demo app on `db`, which may already hold data.
    pub async fn on(db: &Arc<TestDb>) -> Self {
        Self::with(db, figment(db)).await
    }

    /// A demo app on `db` with this configuration.
    pub async fn with(db: &Arc<TestDb>, figment: Figment) -> Self {
        let client = Client::tracked(demo_app::rocket_from(figment))
            .await
            .expect("the demo app ignites");
        Self {
            client,
            db: Arc::clone(db),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        send(bearer(self.client.get(path.to_owned()), token)).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &str) -> Reply {
        let request = self
            .client
            .post(path.to_owned())
            .header(ContentType::JSON)
            .body(body);
        send(bearer(request, token)).await
    }

    pub async fn post_form(&self, path: &str, body: &str) -> Reply {
        let request = self
            .client
            .post(path.to_owned())
            .header(ContentType::Form)
            .body(body);
        send(request).await
    }

    /// `POST /token` with these form fields.
    pub async fn token(&self, fields: &[(&str, &str)]) -> Reply {
        self.post_form("/token", &form(fields)).await
    }

    /// Logs in with the password grant and returns the token pair.
    pub async fn login(&self, username: &str, password: &str) -> Tokens {
        let reply = self
            .token(&[("username", username), ("password", password)])
            .await;
        assert_eq!(
            reply.status,
            Status::Ok,
            "login of {username}: {}",
            reply.text
        );
        Tokens::from(&reply)
    }

    /// Logs in asking for `scope`.
    pub async fn login_with_scope(&self, username: &str, password: &str, scope: &str) -> Tokens {
        let reply = self
            .token(&[
                ("username", username),
                ("password", password),
                ("scope", scope),
            ])
            .await;
        assert_eq!(
            reply.status,
            Status::Ok,
            "login of {username}: {}",
            reply.text
        );
        Tokens::from(&reply)
    }

    /// `POST /token` with the refresh grant.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// The names of every stored item, as `GET /items` shows them to admin.
    pub async fn item_names(&self) -> Vec<String> {
        let admin = self.login("admin", "adminpass").await;
        let reply = self.get("/items", Some(&admin.access)).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        reply
            .json
            .as_array()
            .expect("an array")
            .iter()
            .map(|item| item["name"].as_str().expect("a name").to_owned())
            .collect()
    }
}

/// An access token, its refresh token and the granted scope.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub scope: String,
}

impl From<&Reply> for Tokens {
    fn from(reply: &Reply) -> Self {
        let field = |name: &str| {
            reply.json[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {}", reply.text))
                .to_owned()
        };
        Self {
            access: field("access_token"),
            refresh: field("refresh_token"),
            scope: field("scope"),
        }
    }
}

/// Adds `Authorization: Bearer <token>` when there is a token.
pub fn bearer<'c>(request: LocalRequest<'c>, token: Option<&str>) -> LocalRequest<'c> {
    match token {
        Some(token) => request.header(Header::new("Authorization", format!("Bearer {token}"))),
        None => request,
    }
}

/// A response, read completely.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    pub text: String,
    /// The body as JSON; `Value::Null` if it is not JSON.
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error` code of a JSON error body.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("<no error field>")
    }
}

pub async fn send(request: LocalRequest<'_>) -> Reply {
    let response = request.dispatch().await;
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|h| (h.name().as_str().to_owned(), h.value().to_owned()))
        .collect();
    let text = response.into_string().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        json,
    }
}

/// `application/x-www-form-urlencoded` encoding of `fields`.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Checks a JSON error of the demo or the toolkit:
/// `{"error": code, "error_description": "..."}` with `status`.
pub fn assert_error(reply: &Reply, status: Status, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.error(), code, "{}", reply.text);
    assert!(
        reply.json["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "error_description in {}",
        reply.text
    );
    assert_eq!(
        reply.header("Content-Type"),
        Some("application/json"),
        "{:?}",
        reply.headers
    );
}

/// Checks an error of the token endpoint (RFC 6749 §5.2): 400, the code,
/// `Cache-Control: no-store`, and no challenge.
pub fn assert_token_error(reply: &Reply, code: &str) {
    assert_error(reply, Status::BadRequest, code);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(reply.header("WWW-Authenticate"), None);
}

/// Checks an error of a protected resource (RFC 6750 §3): status, body and
/// a `WWW-Authenticate: Bearer` challenge carrying `code` (or no error code
/// for `unauthorized`).
pub fn assert_challenge(reply: &Reply, status: Status, code: &str) {
    assert_error(reply, status, code);
    let challenge = reply
        .header("WWW-Authenticate")
        .unwrap_or_else(|| panic!("no challenge: {:?}", reply.headers));
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    if code == "unauthorized" {
        assert!(!challenge.contains("error="), "{challenge}");
    } else {
        assert!(
            challenge.contains(&format!("error=\"{code}\"")),
            "{challenge}"
        );
    }
}
