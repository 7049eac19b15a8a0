//! The shipped proxy configuration (`deploy/nginx.conf`) in front of the real
//! binary: idle connections, a header or a body that never completes, and a
//! header dripped byte by byte are all closed within the configured time,
//! and hundreds of idle connections do not keep `/health` from answering.
//!
//! Rocket 0.5 has no read timeouts of its own (see the auth-core README,
//! "Known limitations"), so this file is what bounds them. The test runs
//! the file as shipped, with free ports and 2-second timeouts substituted.
//! It needs nginx (Debian: `nginx-light`); without it the test is skipped
//! with a message, except under CI (`CI` set), where it fails.

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::{Auth, AuthUser, protected};
use common::{Server, Workdir, agent};
use rocket::get;

/// The timeouts the test configures, instead of the shipped 10 s.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How late after [`TIMEOUT`] a close may come (nginx's timers are coarse,
/// and CI machines are busy).
const SLACK: Duration = Duration::from_secs(4);

fn nginx() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is required under CI (.ci/run installs nginx-light)"
        );
        eprintln!("SKIPPED: nginx is not installed (Debian: apt-get install nginx-light)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// nginx running `deploy/nginx.conf` with ports and timeouts substituted.
struct Proxy {
    child: Child,
    port: u16,
    nginx: PathBuf,
    prefix: PathBuf,
}

impl Proxy {
    fn start(nginx: &Path, prefix: &Path, upstream: u16) -> Self {
        Self::start_on(nginx, prefix, upstream, free_port(), false)
    }

    /// [`Self::start`] on `port`; with `path_prefix`, the shipped example
    /// of the app under `/auth/` is enabled too.
    fn start_on(nginx: &Path, prefix: &Path, upstream: u16, port: u16, path_prefix: bool) -> Self {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf");
        let shipped = std::fs::read_to_string(shipped).expect("deploy/nginx.conf");
        let seconds = format!("{}s;", TIMEOUT.as_secs());
        let mut config = String::new();
        let mut in_example = false;
        let mut example_lines = 0;
        for line in shipped.lines() {
            // The commented-out prefix example, uncommented.
            let trimmed = line.trim_start();
            if path_prefix && (in_example || trimmed == "#location /auth/ {") {
                in_example = trimmed != "#}";
                example_lines += 1;
                config.push_str(trimmed.trim_start_matches('#'));
                config.push('\n');
                continue;
            }
            let line = match line.split_whitespace().next() {
                Some("server") if line.contains("127.0.0.1:8000") => {
                    format!("server 127.0.0.1:{upstream};")
                }
                Some("listen") => format!("listen 127.0.0.1:{port};"),
                Some(
                    key @ ("client_header_timeout"
                    | "client_body_timeout"
                    | "send_timeout"
                    | "keepalive_timeout"),
                ) => format!("{key} {seconds}"),
                _ => line.to_owned(),
            };
            config.push_str(&line);
            config.push('\n');
        }
        for substituted in [
            "server 127.0.0.1:",
            "listen 127.0.0.1:",
            "client_header_timeout 2s",
        ] {
            assert!(config.contains(substituted), "{substituted:?} not found");
        }
        assert!(
            !path_prefix || example_lines > 2,
            "the prefix example is not in deploy/nginx.conf"
        );
        std::fs::create_dir_all(prefix.join("tmp")).expect("tmp dir");
        std::fs::write(prefix.join("nginx.conf"), config).expect("write config");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(prefix)
            .args(["-c", "nginx.conf", "-g", "daemon off;"])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let proxy = Self {
            child,
            port,
            nginx: nginx.to_owned(),
            prefix: prefix.to_owned(),
        };
        proxy.wait_until_healthy();
        proxy
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while agent().get(&self.url("/health")).call().is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(TIMEOUT + SLACK + SLACK))
            .expect("read timeout");
        stream
    }
}

impl Drop for Proxy {
    /// A fast shutdown through the master (`-s stop` sends it SIGTERM), so
    /// no worker outlives the test; SIGKILL only if that fails.
    fn drop(&mut self) {
        let stopped = Command::new(&self.nginx)
            .arg("-p")
            .arg(&self.prefix)
            .args(["-c", "nginx.conf", "-s", "stop"])
            .status()
            .is_ok_and(|status| status.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Reads until the server closes the connection; returns how long it took
/// from `since`, or panics if it stays open.
fn closed_after(stream: &mut TcpStream, since: Instant, what: &str) -> Duration {
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return since.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return since.elapsed(),
            Err(e) => panic!("{what}: the connection was not closed ({e})"),
        }
    }
}

fn assert_closed_in_time(stream: &mut TcpStream, since: Instant, what: &str) {
    let after = closed_after(stream, since, what);
    assert!(
        after >= TIMEOUT - Duration::from_millis(500) && after <= TIMEOUT + SLACK,
        "{what}: closed after {after:?}, expected about {TIMEOUT:?}"
    );
}

#[test]
fn slow_and_idle_connections_are_closed_by_the_shipped_proxy() {
    let Some(nginx) = nginx() else { return };
    let workdir = Workdir::new();
    let server = Server::start(&workdir);
    let upstream = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = Proxy::start(&nginx, &workdir.path().join("nginx"), upstream);

    // Open every kind of slow client at once, so the test waits one timeout.
    let start = Instant::now();
    let mut silent = proxy.connect();
    let mut half_header = proxy.connect();
    half_header
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let mut half_body = proxy.connect();
    half_body
        .write_all(
            b"POST /token HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\n\r\nusername=john",
        )
        .unwrap();
    let mut kept_alive = proxy.connect();
    kept_alive
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut reply = [0u8; 512];
    let n = kept_alive.read(&mut reply).unwrap();
    assert!(
        reply[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&reply[..n])
    );
    let idle_since = Instant::now();
    let idle: Vec<TcpStream> = (0..600).map(|_| proxy.connect()).collect();

    // A client dripping its header one byte at a time does not reset the
    // header timeout: it is a limit on the whole header.
    let mut drip = proxy.connect();
    let drip_since = Instant::now();
    let request =
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut dripped_closed = false;
    for byte in request {
        if drip.write_all(&[*byte]).is_err() {
            dripped_closed = true;
            break;
        }
        // With 600 idle connections open, the service still answers.
        if drip_since.elapsed() < Duration::from_millis(300) {
            let health = agent().get(&proxy.url("/health")).call().expect("health");
            assert_eq!(health.status(), 200);
        }
        std::thread::sleep(Duration::from_millis(150));
        if drip_since.elapsed() > TIMEOUT + SLACK {
            break;
        }
    }
    if !dripped_closed {
        assert_closed_in_time(&mut drip, drip_since, "a dripped header");
    }
    assert!(
        drip_since.elapsed() <= TIMEOUT + SLACK,
        "a dripped header was served for {:?}",
        drip_since.elapsed()
    );

    assert_closed_in_time(&mut silent, start, "a connection that sends nothing");
    assert_closed_in_time(&mut half_header, start, "half a header");
    assert_closed_in_time(&mut half_body, start, "half a body");
    assert_closed_in_time(&mut kept_alive, idle_since, "an idle kept-alive connection");
    for (i, mut stream) in idle.into_iter().enumerate().step_by(60) {
        let after = closed_after(&mut stream, idle_since, "an idle connection");
        assert!(
            after <= TIMEOUT + SLACK,
            "idle connection {i} closed after {after:?}"
        );
    }
    let health = agent().get(&proxy.url("/health")).call().expect("health");
    assert_eq!(health.status(), 200);
}

/// Behind the shipped proxy, with the app trusting the header it sets
/// (`auth_trusted_proxy_header = "X-Real-IP"`), a client's own `X-Real-IP`
/// is overwritten: failed logins are counted under the address nginx saw.
#[test]
fn behind_the_shipped_proxy_a_client_cannot_choose_its_counted_address() {
    let Some(nginx) = nginx() else { return };
    let workdir = Workdir::new().with_env("ROCKET_AUTH_TRUSTED_PROXY_HEADER", "X-Real-IP");
    let server = Server::start(&workdir);
    let upstream = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = Proxy::start(&nginx, &workdir.path().join("nginx"), upstream);

    let reply = agent()
        .post(&proxy.url("/token"))
        .set("X-Real-IP", "203.0.113.66")
        .send_form(&[("username", "john"), ("password", "not-his-password")]);
    let reply = common::read(reply);
    assert_eq!(reply.json["error"], "invalid_grant", "{}", reply.json);

    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let log = server.log_text();
        if let Some(line) = log.lines().find(|l| l.contains("event=login_failed")) {
            break line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no login_failed event in:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(line.contains("address=127.0.0.1"), "{line}");
    assert!(!line.contains("203.0.113.66"), "{line}");
}

const ED25519_KEY: &str = "../auth-core/tests/fixtures/ed25519-a.key";

#[protected(scopes = "read:items")]
#[get("/reports")]
fn reports(user: AuthUser) -> String {
    format!("reports for {}", user.subject())
}

/// The demo under `/auth/` behind the shipped proxy (its prefix example),
/// told its public base URL: Swagger's `tokenUrl`, the discovery metadata
/// and the challenge's `resource_metadata` all carry the prefix, each URL
/// they name answers through the proxy, and a resource server configured
/// with the issuer's URL alone finds the keys through it.
#[test]
fn behind_the_shipped_proxy_under_a_prefix_every_advertised_url_carries_it() {
    let Some(nginx) = nginx() else { return };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/auth");
    let workdir = Workdir::new()
        .with_env("ROCKET_AUTH_PUBLIC_BASE_URL", &base)
        .with_env("ROCKET_AUTH_ISSUER", &base);
    // Sign with Ed25519, so that the published key set is not empty.
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join(ED25519_KEY);
    std::fs::write(
        workdir.path().join("Rocket.toml"),
        format!(
            "[default]\nauth_signing_key = {{ algorithm = \"EdDSA\", kid = \"ed-1\", \
             private_key_file = {:?} }}\n",
            key.display().to_string()
        ),
    )
    .expect("Rocket.toml");
    let server = Server::start(&workdir);
    let upstream = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = Proxy::start_on(&nginx, &workdir.path().join("nginx"), upstream, port, true);
    let fetch = |url: &str| common::read(agent().get(url).call());
    assert_eq!(fetch(&proxy.url("/auth/health")).status, 200);

    // Swagger UI, served under the prefix, logs in under it.
    let openapi = fetch(&proxy.url("/auth/openapi.json"));
    let flow =
        &openapi.json["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"];
    assert_eq!(
        flow["tokenUrl"],
        format!("{base}/token"),
        "{}",
        openapi.json
    );
    assert_eq!(flow["refreshUrl"], format!("{base}/token"));

    // RFC 8414 §3.1: the issuer's metadata, at the host's root.
    let metadata = fetch(&proxy.url("/.well-known/oauth-authorization-server/auth"));
    assert_eq!(metadata.status, 200, "{:?}", metadata);
    assert_eq!(metadata.json["issuer"], base.as_str());
    let token_endpoint = common::field(&metadata, "token_endpoint");
    let jwks_uri = common::field(&metadata, "jwks_uri");
    assert_eq!(token_endpoint, format!("{base}/token"));
    assert_eq!(jwks_uri, format!("{base}/.well-known/jwks.json"));
    assert_eq!(
        common::field(&metadata, "revocation_endpoint"),
        format!("{base}/revoke")
    );
    let login = common::read(
        agent()
            .post(&token_endpoint)
            .send_form(&[("username", "johndoe"), ("password", "secret")]),
    );
    assert_eq!(login.status, 200, "{:?}", login);
    let access = common::field(&login, "access_token");
    let keys = fetch(&jwks_uri);
    assert_eq!(keys.json["keys"][0]["kid"], "ed-1", "{:?}", keys);

    // The challenge names the resource's metadata, and it answers.
    let refused = fetch(&proxy.url("/auth/items"));
    assert_eq!(refused.status, 401);
    let metadata_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/auth");
    assert_eq!(
        refused.www_authenticate.as_deref(),
        Some(format!("Bearer realm=\"api\", resource_metadata=\"{metadata_url}\"").as_str())
    );
    let resource = fetch(&metadata_url);
    assert_eq!(resource.json["resource"], base.as_str(), "{:?}", resource);
    assert_eq!(resource.json["authorization_servers"][0], base.as_str());
    let items = common::read(
        agent()
            .get(&proxy.url("/auth/items"))
            .set("Authorization", &format!("Bearer {access}"))
            .call(),
    );
    assert_eq!(items.status, 200, "{:?}", items);

    // A resource server that knows only the issuer's URL.
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("auth_issuer", &base))
        .merge(("auth_audience", "api"));
    let resource_server = rocket::local::blocking::Client::tracked(
        rocket::custom(figment)
            .attach(Auth::resource_server().scope("read:items", "Read items"))
            .mount("/", rocket::routes![reports]),
    )
    .expect("the resource server finds the keys through the proxy");
    let reply = resource_server
        .get("/reports")
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {access}"),
        ))
        .dispatch();
    assert_eq!(reply.status(), rocket::http::Status::Ok);
    assert_eq!(reply.into_string().unwrap(), "reports for johndoe");
}
