//! The real `demo-app` and `resource-server` binaries together: the
//! resource server trusts the demo's JWKS (through a small counting proxy,
//! so the test knows every fetch), accepts the demo's tokens, refuses
//! forged ones, follows a key rotation on the demo, and never fetches more
//! than once per interval however many unknown `kid`s arrive.

mod common;

use std::fs::File;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use common::{DEADLINE, Server, Workdir, agent, field, token};

const RESOURCE_SERVER: &str = env!("CARGO_BIN_EXE_resource-server");
/// `auth_jwks_min_refresh_interval` of the resource server in this test.
const INTERVAL: Duration = Duration::from_secs(3);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../auth-core/tests/fixtures")
        .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

/// Writes the demo's `Rocket.toml`: sign with `signing` (a fixture name
/// and `kid`), and also verify with `previous` (public key and `kid`).
fn demo_keys(workdir: &Workdir, signing: (&str, &str), previous: Option<(&str, &str)>) {
    let mut toml = format!(
        "[default]\nauth_signing_key = {{ algorithm = \"EdDSA\", kid = \"{}\", private_key_file = {:?} }}\n",
        signing.1,
        fixture(signing.0).display().to_string(),
    );
    if let Some((public, kid)) = previous {
        toml.push_str(&format!(
            "auth_verification_keys = [{{ algorithm = \"EdDSA\", kid = \"{kid}\", public_key_file = {:?} }}]\n",
            fixture(public).display().to_string(),
        ));
    }
    std::fs::write(workdir.path().join("Rocket.toml"), toml).expect("Rocket.toml");
}

/// A demo on a free port, signing as `demo_keys` said.
fn start_demo(workdir: &Workdir) -> Server {
    Server::start(workdir)
}

/// A JWKS proxy in front of the demo that records when it was asked.
struct JwksProxy {
    url: String,
    upstream: Arc<Mutex<String>>,
    hits: Arc<Mutex<Vec<Instant>>>,
}

impl JwksProxy {
    fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let upstream = Arc::new(Mutex::new(upstream.to_owned()));
        let hits: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let (up, seen) = (Arc::clone(&upstream), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (up, seen) = (Arc::clone(&up), Arc::clone(&seen));
                std::thread::spawn(move || proxy_one(stream, &up, &seen));
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/.well-known/jwks.json"),
            upstream,
            hits,
        }
    }

    fn point_at(&self, upstream: &str) {
        upstream.clone_into(&mut self.upstream.lock().unwrap());
    }

    fn hits(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    /// Sleeps until the resource server may fetch again.
    fn wait_for_next_interval(&self) {
        let last = *self.hits.lock().unwrap().last().expect("a fetch");
        let ready = last + INTERVAL + Duration::from_millis(200);
        if let Some(rest) = ready.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
    }
}

fn proxy_one(stream: TcpStream, upstream: &Mutex<String>, hits: &Mutex<Vec<Instant>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        line.clear();
    }
    hits.lock().unwrap().push(Instant::now());
    let url = upstream.lock().unwrap().clone();
    let (status, body) = match agent().get(&url).call() {
        Ok(response) => ("200 OK", response.into_string().unwrap_or_default()),
        Err(_) => ("502 Bad Gateway", String::new()),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The resource server, killed on drop, its log printed if the test failed.
struct ResourceServer {
    child: Child,
    base: String,
    log: PathBuf,
}

impl ResourceServer {
    fn command(workdir: &Workdir, jwks_url: &str, port: u16) -> Command {
        let mut command = Command::new(RESOURCE_SERVER);
        command
            .current_dir(workdir.path())
            .env_remove("ROCKET_PROFILE")
            .env_remove("ROCKET_AUTH_SECRET")
            .env("ROCKET_CONFIG", workdir.path().join("resource-server.toml"))
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_AUTH_JWKS_URL", jwks_url)
            .env("ROCKET_AUTH_AUDIENCE", "api")
            .env_remove("ROCKET_AUTH_JWKS_ALLOW_INSECURE_HTTP")
            .env(
                "ROCKET_AUTH_JWKS_MIN_REFRESH_INTERVAL",
                INTERVAL.as_secs().to_string(),
            )
            .env("ROCKET_AUTH_JWKS_REFRESH_INTERVAL", "0")
            .env("ROCKET_CLI_COLORS", "false")
            .env("ROCKET_LOG_LEVEL", "normal")
            .stdin(Stdio::null());
        command
    }

    fn start(workdir: &Workdir, jwks_url: &str) -> Self {
        let port = free_port();
        let log = workdir.path().join(format!("resource-server-{port}.log"));
        let file = File::create(&log).expect("log");
        let child = Self::command(workdir, jwks_url, port)
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("spawn resource-server");
        let mut server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + DEADLINE;
        loop {
            assert!(
                server.child.try_wait().expect("try_wait").is_none(),
                "the resource server exited:\n{}",
                server.log_text()
            );
            if agent()
                .get(&server.url("/health"))
                .call()
                .is_ok_and(|r| r.status() == 200)
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "no /health:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("resource server log:\n{}", self.log_text());
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A response: status, `WWW-Authenticate`, JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    challenge: Option<String>,
    json: Value,
}

fn get(url: &str, bearer: Option<&str>) -> Answer {
    let mut request = agent().get(url);
    if let Some(token) = bearer {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let response = match request.call() {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("GET {url}: {e}"),
    };
    Answer {
        status: response.status(),
        challenge: response.header("WWW-Authenticate").map(str::to_owned),
        json: response.into_json().unwrap_or(Value::Null),
    }
}

/// Asserts a 401 `invalid_token` with its RFC 6750 challenge.
fn assert_invalid_token(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {answer:?}");
    assert_eq!(answer.json["error"], "invalid_token", "{what}: {answer:?}");
    assert!(
        answer
            .challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer ") && c.contains("error=\"invalid_token\"")),
        "{what}: {answer:?}"
    );
}

fn login(demo: &Server) -> String {
    let reply = token(demo, &[("username", "johndoe"), ("password", "secret")]);
    assert_eq!(reply.status, 200, "{reply:?}");
    field(&reply, "access_token")
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs()
}

/// Claims as the demo writes them (issuer `auth-core`, audience `api`).
fn claims() -> Value {
    let now = now();
    json!({
        "iss": "auth-core", "sub": "johndoe", "aud": "api", "exp": now + 600,
        "iat": now, "nbf": now, "jti": "forged", "client_id": "default",
        "scope": "read:items write:items admin"
    })
}

fn sign(alg: Algorithm, kid: &str, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

fn ed25519(name: &str) -> EncodingKey {
    EncodingKey::from_ed_pem(&fixture_bytes(name)).expect("ed25519 key")
}

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(&fixture_bytes("rsa-2048.key")).expect("rsa key")
}

#[test]
fn the_resource_server_trusts_the_demo_keys_and_follows_a_rotation() {
    let workdir = Workdir::new();

    // The demo signs with Ed25519 key A.
    demo_keys(&workdir, ("ed25519-a.key", "demo-a"), None);
    let mut demo = start_demo(&workdir);
    let proxy = JwksProxy::start(&demo.url("/.well-known/jwks.json"));
    let rs = ResourceServer::start(&workdir, &proxy.url);
    assert_eq!(proxy.hits(), 1, "one fetch at launch");

    // A token from the demo is accepted, with its scopes.
    let token_a = login(&demo);
    assert_eq!(kid_of(&token_a), "demo-a");
    let answer = get(&rs.url("/reports"), Some(&token_a));
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json["user"], "johndoe");
    assert_eq!(answer.json["reports"].as_array().map(Vec::len), Some(4));
    let answer = get(&rs.url("/summary"), Some(&token_a));
    assert_eq!(answer.json["user"], "johndoe", "{answer:?}");
    let anonymous = get(&rs.url("/summary"), None);
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.json["user"], Value::Null);
    assert_eq!(anonymous.json["reports"].as_array().map(Vec::len), Some(2));
    let missing = get(&rs.url("/reports"), None);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json["error"], "unauthorized");

    // Forged tokens are refused, on protected and optional routes alike.
    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt","kid":"demo-a"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    let (signed_input, _) = token_a.rsplit_once('.').unwrap();
    let (header_a, _) = signed_input.split_once('.').unwrap();
    let (_, signature_a) = token_a.rsplit_once('.').unwrap();
    let mut wrong_audience = claims();
    wrong_audience["aud"] = "another-api".into();
    let forged = [
        (
            "right kid, wrong key",
            sign(
                Algorithm::EdDSA,
                "demo-a",
                &claims(),
                &ed25519("ed25519-b.key"),
            ),
        ),
        ("alg none", format!("{header_none}.{body}.")),
        (
            "payload swapped under the demo's signature",
            format!("{header_a}.{body}.{signature_a}"),
        ),
        (
            "HS256 keyed with the public key",
            sign(
                Algorithm::HS256,
                "demo-a",
                &claims(),
                &EncodingKey::from_secret(&fixture_bytes("ed25519-a.pub")),
            ),
        ),
        (
            "RS256 under the demo's kid",
            sign(Algorithm::RS256, "demo-a", &claims(), &rsa()),
        ),
        (
            "the demo's key, another audience",
            sign(
                Algorithm::EdDSA,
                "demo-a",
                &wrong_audience,
                &ed25519("ed25519-a.key"),
            ),
        ),
    ];
    for (what, token) in &forged {
        assert_invalid_token(&get(&rs.url("/reports"), Some(token)), what);
        assert_invalid_token(&get(&rs.url("/summary"), Some(token)), what);
    }

    // Rotation: the demo restarts signing with key B and keeps A as a
    // verification key. The resource server picks B up on the first token
    // that names it, and still accepts A's tokens.
    proxy.wait_for_next_interval();
    demo.kill();
    demo_keys(
        &workdir,
        ("ed25519-b.key", "demo-b"),
        Some(("ed25519-a.pub", "demo-a")),
    );
    let mut demo = start_demo(&workdir);
    proxy.point_at(&demo.url("/.well-known/jwks.json"));
    let fetches = proxy.hits();
    let token_b = login(&demo);
    assert_eq!(kid_of(&token_b), "demo-b");
    let answer = get(&rs.url("/reports"), Some(&token_b));
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(proxy.hits(), fetches + 1, "one fetch for the new kid");
    let answer = get(&rs.url("/reports"), Some(&token_a));
    assert_eq!(answer.status, 200, "A is still listed: {answer:?}");
    assert_eq!(proxy.hits(), fetches + 1, "known kids fetch nothing");

    // A burst of tokens with unknown kids: at most one fetch per interval,
    // and valid tokens keep working meanwhile.
    // The kid is looked up before any signature is checked, so an
    // attacker needs no key: any signature will do.
    let (_, signature) = forged[4].1.rsplit_once('.').unwrap();
    let with_kid = |kid: &str| {
        let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}).to_string();
        format!("{}.{body}.{signature}", URL_SAFE_NO_PAD.encode(header))
    };
    let burst: Vec<Vec<(String, String)>> = (0..8)
        .map(|thread| {
            (0..25)
                .map(|i| {
                    let kid = format!("unknown-{thread}-{i}");
                    let token = with_kid(&kid);
                    (kid, token)
                })
                .collect()
        })
        .collect();
    proxy.wait_for_next_interval();
    let fetches = proxy.hits();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for tokens in &burst {
            let (rs, token_b) = (&rs, &token_b);
            scope.spawn(move || {
                for (i, (kid, forged)) in tokens.iter().enumerate() {
                    assert_invalid_token(&get(&rs.url("/reports"), Some(forged)), kid);
                    if i % 5 == 0 {
                        assert_eq!(get(&rs.url("/reports"), Some(token_b)).status, 200);
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let burst_fetches = proxy.hits() - fetches;
    let allowed = 1 + usize::try_from(elapsed.as_secs() / INTERVAL.as_secs()).unwrap();
    eprintln!("200 unknown-kid requests in {elapsed:?}: {burst_fetches} JWKS fetches");
    assert!(
        (1..=allowed).contains(&burst_fetches),
        "{burst_fetches} fetches in {elapsed:?}"
    );

    // The demo stops listing A: once the resource server has fetched again
    // (here on an unknown kid), A's tokens are refused and B's accepted.
    proxy.wait_for_next_interval();
    demo.kill();
    demo_keys(&workdir, ("ed25519-b.key", "demo-b"), None);
    let demo = start_demo(&workdir);
    proxy.point_at(&demo.url("/.well-known/jwks.json"));
    let unknown = with_kid("yet-unknown");
    assert_invalid_token(&get(&rs.url("/reports"), Some(&unknown)), "unknown kid");
    assert_invalid_token(&get(&rs.url("/reports"), Some(&token_a)), "A removed");
    assert_eq!(get(&rs.url("/reports"), Some(&token_b)).status, 200);
}

/// The resource server's combined output when it exits at launch.
fn launch_log(command: &mut Command) -> String {
    let output = command.output().expect("run resource-server");
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn the_resource_server_refuses_defaults_that_trust_too_much() {
    let workdir = Workdir::new();
    let url = format!("http://127.0.0.1:{}/.well-known/jwks.json", free_port());

    // No explicit audience: refused before any fetch.
    let mut command = ResourceServer::command(&workdir, &url, free_port());
    command.env_remove("ROCKET_AUTH_AUDIENCE");
    let log = launch_log(&mut command);
    assert!(log.contains("refusing to start"), "{log}");
    assert!(log.contains("explicit auth_audience"), "{log}");

    // Plain http to another machine: refused, naming the opt-in; with the
    // opt-in the launch goes on to the fetch (which fails: nobody listens).
    let remote = "http://192.0.2.1:9/.well-known/jwks.json";
    let log = launch_log(&mut ResourceServer::command(&workdir, remote, free_port()));
    assert!(log.contains("auth_jwks_allow_insecure_http"), "{log}");
    let mut command = ResourceServer::command(&workdir, remote, free_port());
    command
        .env("ROCKET_AUTH_JWKS_ALLOW_INSECURE_HTTP", "true")
        .env("ROCKET_AUTH_JWKS_TIMEOUT", "1");
    let log = launch_log(&mut command);
    assert!(log.contains("fetching the JWKS"), "{log}");
}

#[test]
fn the_resource_server_refuses_to_start_without_the_issuer_keys() {
    let workdir = Workdir::new();
    // Nothing listens on this port.
    let url = format!("http://127.0.0.1:{}/.well-known/jwks.json", free_port());
    let output = ResourceServer::command(&workdir, &url, free_port())
        .output()
        .expect("run resource-server");
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("refusing to start"), "{log}");
    assert!(log.contains("fetching the JWKS"), "{log}");

    // A demo signing with its HMAC secret alone publishes no key.
    let demo = start_demo(&workdir);
    let output =
        ResourceServer::command(&workdir, &demo.url("/.well-known/jwks.json"), free_port())
            .output()
            .expect("run resource-server");
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("no usable public signing key"), "{log}");
}
