//! The real `demo-app` binary: the README flow over TCP, and the `adduser`
//! command on the same database.
//!
//! Each test gets its own temporary directory (database file, log) and a
//! free port; servers are killed when the test ends, whatever happens.

use std::fs::File;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_demo-app");
const SECRET: &str = "binary-tests-secret-0123456789-abcdefghijklmnop";
/// How long a server may take to answer `/health`, and a command to finish.
const DEADLINE: Duration = Duration::from_secs(60);

/// A directory for one test: the database and the logs.
struct Workdir(TempDir);

impl Workdir {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// A command for the binary, configured only by what we set here.
    fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(self.path())
            .env_remove("ROCKET_PROFILE")
            .env("ROCKET_CONFIG", self.path().join("Rocket.toml"))
            .env(
                "ROCKET_DATABASE_URL",
                format!("sqlite://{}", self.path().join("demo.db").display()),
            )
            .env("ROCKET_AUTH_SECRET", SECRET)
            .env("ROCKET_CLI_COLORS", "false")
            .env("ROCKET_LOG_LEVEL", "normal");
        command
    }

    /// Runs `demo-app args...` with `stdin` as standard input; waits at most
    /// [`DEADLINE`].
    fn run(&self, args: &[&str], stdin: &str) -> Finished {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn demo-app");
        {
            let mut input = child.stdin.take().expect("stdin");
            // A command that fails before reading its input may already be
            // gone: a broken pipe is then expected.
            if let Err(e) = input.write_all(stdin.as_bytes()) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
            }
        }
        let deadline = Instant::now() + DEADLINE;
        while child.try_wait().expect("try_wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("demo-app {args:?} did not finish within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().expect("output");
        Finished {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The result of a command.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn assert_success(&self) {
        assert!(self.status.success(), "{self:?}");
    }

    fn assert_failure(&self, message: &str) {
        assert!(!self.status.success(), "should fail: {self:?}");
        assert!(self.stderr.contains(message), "{message:?} in {self:?}");
    }
}

/// A running server; killed on drop, its log printed if the test failed.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `demo-app args...` on a free port and waits for `/health`.
    fn start(workdir: &Workdir, args: &[&str]) -> Self {
        // Another process may take the port between our probe and the
        // server's bind: then the server exits and we try another.
        for attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port();
            let log = workdir.path().join(format!("server-{port}-{attempt}.log"));
            let file = File::create(&log).expect("log file");
            let child = workdir
                .command()
                .args(args)
                .env("ROCKET_ADDRESS", "127.0.0.1")
                .env("ROCKET_PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("log file"))
                .stderr(file)
                .spawn()
                .expect("spawn demo-app");
            let mut server = Self {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
            };
            if server.wait_until_healthy() {
                return server;
            }
            eprintln!("server on port {port} exited early:\n{}", server.log_text());
        }
        panic!("the server did not start");
    }

    /// Polls `/health` until it answers; false if the process exited.
    fn wait_until_healthy(&mut self) -> bool {
        let agent = agent();
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.child.try_wait().expect("try_wait").is_some() {
                return false;
            }
            if let Ok(response) = agent.get(&self.url("/health")).call()
                && response.status() == 200
            {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "no /health within {DEADLINE:?}:\n{}",
                self.log_text()
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("server log:\n{}", self.log_text());
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

/// A response read completely, whatever its status.
#[derive(Debug)]
struct Reply {
    status: u16,
    cache_control: Option<String>,
    www_authenticate: Option<String>,
    json: Value,
}

fn read(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("request failed: {e}"),
    };
    Reply {
        status: response.status(),
        cache_control: response.header("Cache-Control").map(str::to_owned),
        www_authenticate: response.header("WWW-Authenticate").map(str::to_owned),
        json: response.into_json().unwrap_or(Value::Null),
    }
}

fn token(server: &Server, fields: &[(&str, &str)]) -> Reply {
    read(agent().post(&server.url("/token")).send_form(fields))
}

fn get(server: &Server, path: &str, access: Option<&str>) -> Reply {
    let mut request = agent().get(&server.url(path));
    if let Some(access) = access {
        request = request.set("Authorization", &format!("Bearer {access}"));
    }
    read(request.call())
}

fn field(reply: &Reply, name: &str) -> String {
    reply.json[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {reply:?}"))
        .to_owned()
}

#[test]
fn readme_flow_over_tcp() {
    let workdir = Workdir::new();
    let server = Server::start(&workdir, &["serve"]);

    let health = get(&server, "/health", None);
    assert_eq!(
        (health.status, health.json),
        (200, json!({ "status": "ok" }))
    );
    let plain = agent().get(&server.url("/health")).call().expect("health");
    assert_eq!(
        plain.header("Server"),
        None,
        "the demo does not name its server"
    );

    let login = token(&server, &[("username", "johndoe"), ("password", "secret")]);
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.cache_control.as_deref(), Some("no-store"));
    assert_eq!(login.json["token_type"], "bearer");
    assert_eq!(login.json["scope"], "read:items write:items");
    let access = field(&login, "access_token");
    let refresh = field(&login, "refresh_token");

    let me = get(&server, "/users/me", Some(&access));
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(
        me.json,
        json!({ "username": "johndoe", "scopes": ["read:items", "write:items"] })
    );

    let created = read(
        agent()
            .post(&server.url("/items"))
            .set("Authorization", &format!("Bearer {access}"))
            .send_json(json!({ "name": "hammer" })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json["name"], "hammer");
    assert_eq!(created.json["owner"], "johndoe");

    let items = get(&server, "/items", Some(&access));
    assert_eq!(items.status, 200, "{items:?}");
    assert_eq!(items.json, json!([created.json]));

    let refreshed = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let new_access = field(&refreshed, "access_token");
    assert_ne!(field(&refreshed, "refresh_token"), refresh);
    assert_eq!(get(&server, "/users/me", Some(&new_access)).status, 200);
    let replay = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(
        (replay.status, replay.json["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let anonymous = get(&server, "/items", None);
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json["error"], "unauthorized");
    assert_eq!(
        anonymous.www_authenticate.as_deref(),
        Some(r#"Bearer realm="api""#)
    );
    let missing = get(&server, "/nowhere", None);
    assert_eq!(
        (missing.status, missing.json["error"].as_str()),
        (404, Some("not_found"))
    );

    let log = server.log_text();
    assert!(
        log.contains("/health"),
        "the log names the URL to open:\n{log}"
    );
    for secret in [
        "secret\"",
        "adminpass",
        "secret2",
        SECRET,
        access.as_str(),
        refresh.as_str(),
    ] {
        assert!(!log.contains(secret), "the log leaks {secret:?}:\n{log}");
    }
}

#[test]
fn adduser_adds_a_user_the_running_server_accepts() {
    let workdir = Workdir::new();
    // No subcommand: serve. It seeds the demo users first.
    let server = Server::start(&workdir, &[]);

    let added = workdir.run(
        &["adduser", "bob", "--scopes", "read:items"],
        "bob-password-1\n",
    );
    added.assert_success();
    assert!(added.stdout.contains("bob"), "{added:?}");
    assert!(!added.stdout.contains("bob-password-1") && !added.stderr.contains("bob-password-1"));

    let bob = token(
        &server,
        &[("username", "bob"), ("password", "bob-password-1")],
    );
    assert_eq!(bob.status, 200, "{bob:?}");
    assert_eq!(bob.json["scope"], "read:items");
    let items = get(&server, "/items", Some(&field(&bob, "access_token")));
    assert_eq!(items.status, 200, "{items:?}");

    let disabled = workdir.run(
        &[
            "adduser",
            "carol",
            "--scopes",
            "read:items write:items",
            "--disabled",
        ],
        "carol-password\r\n",
    );
    disabled.assert_success();
    let carol = token(
        &server,
        &[("username", "carol"), ("password", "carol-password")],
    );
    assert_eq!(
        (carol.status, carol.json["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let admin = token(&server, &[("username", "admin"), ("password", "adminpass")]);
    let users = get(
        &server,
        "/admin/users",
        Some(&field(&admin, "access_token")),
    );
    let names: Vec<&str> = users
        .json
        .as_array()
        .expect("users")
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice", "bob", "carol", "johndoe"]);
}

#[test]
fn adduser_failures_are_clear_and_write_nothing() {
    let workdir = Workdir::new();
    workdir
        .run(&["adduser", "bob", "--scopes", "read:items"], "pw-1\n")
        .assert_success();

    let duplicate = workdir.run(&["adduser", "bob", "--scopes", "admin"], "pw-2\n");
    duplicate.assert_failure("already exists");
    let unknown = workdir.run(
        &["adduser", "dave", "--scopes", "read:items delete:all"],
        "pw-3\n",
    );
    unknown.assert_failure("unknown scope \"delete:all\"");
    let malformed = workdir.run(&["adduser", "dave", "--scopes", "read\"items"], "pw-3\n");
    malformed.assert_failure("--scopes");
    let empty = workdir.run(&["adduser", "dave", "--scopes", "read:items"], "");
    empty.assert_failure("password is empty");
    let blank_line = workdir.run(&["adduser", "dave", "--scopes", "read:items"], "\n");
    blank_line.assert_failure("password is empty");
    let bad_name = workdir.run(&["adduser", "da ve", "--scopes", "read:items"], "pw-3\n");
    bad_name.assert_failure("username");
    for failed in [
        &duplicate,
        &unknown,
        &malformed,
        &empty,
        &blank_line,
        &bad_name,
    ] {
        assert_eq!(failed.status.code(), Some(1), "{failed:?}");
        assert!(
            !failed.stderr.contains("pw-"),
            "echoes the password: {failed:?}"
        );
    }
    // clap's usage errors.
    let no_scopes = workdir.run(&["adduser", "dave"], "pw-3\n");
    assert_eq!(no_scopes.status.code(), Some(2), "{no_scopes:?}");
    assert!(no_scopes.stderr.contains("--scopes"), "{no_scopes:?}");

    // None of the failures wrote dave, and bob kept his first password.
    workdir
        .run(&["adduser", "dave", "--scopes", "read:items"], "pw-4\n")
        .assert_success();
    let server = Server::start(&workdir, &["serve"]);
    let bob = token(&server, &[("username", "bob"), ("password", "pw-1")]);
    assert_eq!(bob.status, 200, "{bob:?}");
    assert_eq!(bob.json["scope"], "read:items");
    let dave = token(&server, &[("username", "dave"), ("password", "pw-4")]);
    assert_eq!(dave.status, 200, "{dave:?}");
    // Users existed before the first start: no demo users were added.
    let john = token(&server, &[("username", "johndoe"), ("password", "secret")]);
    assert_eq!(john.status, 400, "{john:?}");
}

/// A refresh with `refresh_token`, naming no client.
fn refresh(server: &Server, refresh_token: &str) -> Reply {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

fn login(server: &Server, username: &str, password: &str) -> Reply {
    token(server, &[("username", username), ("password", password)])
}

fn assert_invalid_grant(reply: &Reply) {
    assert_eq!(
        (reply.status, reply.json["error"].as_str()),
        (400, Some("invalid_grant")),
        "{reply:?}"
    );
}

#[test]
fn user_commands_end_sessions_of_a_running_server() {
    let workdir = Workdir::new();
    let server = Server::start(&workdir, &[]);

    // Log out everywhere: two sessions, both end.
    let first = login(&server, "johndoe", "secret");
    let second = login(&server, "johndoe", "secret");
    let revoked = workdir.run(&["user", "revoke", "johndoe"], "");
    revoked.assert_success();
    assert!(
        revoked.stdout.contains("revoked 2 live sessions"),
        "{revoked:?}"
    );
    assert_invalid_grant(&refresh(&server, &field(&first, "refresh_token")));
    assert_invalid_grant(&refresh(&server, &field(&second, "refresh_token")));

    // A new password ends sessions; only the new password logs in.
    let session = login(&server, "johndoe", "secret");
    let passwd = workdir.run(&["user", "passwd", "johndoe"], "new-secret-1\n");
    passwd.assert_success();
    assert!(passwd.stdout.contains("revoked"), "{passwd:?}");
    assert!(!passwd.stdout.contains("new-secret-1") && !passwd.stderr.contains("new-secret-1"));
    assert_invalid_grant(&refresh(&server, &field(&session, "refresh_token")));
    assert_invalid_grant(&login(&server, "johndoe", "secret"));
    let session = login(&server, "johndoe", "new-secret-1");
    assert_eq!(session.status, 200, "{session:?}");

    // Disabling ends sessions, and enabling again does not revive them.
    workdir
        .run(&["user", "disable", "johndoe"], "")
        .assert_success();
    assert_invalid_grant(&login(&server, "johndoe", "new-secret-1"));
    let enabled = workdir.run(&["user", "enable", "johndoe"], "");
    enabled.assert_success();
    assert!(
        enabled.stdout.contains("enabled user \"johndoe\""),
        "{enabled:?}"
    );
    assert_invalid_grant(&refresh(&server, &field(&session, "refresh_token")));

    // Scopes.
    let scopes = workdir.run(&["user", "scopes", "johndoe", "read:items"], "");
    scopes.assert_success();
    assert!(scopes.stdout.contains("scopes read:items"), "{scopes:?}");
    let narrowed = login(&server, "johndoe", "new-secret-1");
    assert_eq!(narrowed.json["scope"], "read:items", "{narrowed:?}");

    // The list shows state and scopes.
    let list = workdir.run(&["user", "list"], "");
    list.assert_success();
    assert!(
        list.stdout.contains("alice\tdisabled\tread:items"),
        "{list:?}"
    );
    assert!(
        list.stdout.contains("johndoe\tenabled\tread:items"),
        "{list:?}"
    );

    // Deleting ends sessions; a user re-created with the name inherits none.
    let deleted = workdir.run(&["user", "delete", "johndoe"], "");
    deleted.assert_success();
    assert!(
        deleted.stdout.contains("deleted user \"johndoe\""),
        "{deleted:?}"
    );
    assert_invalid_grant(&refresh(&server, &field(&narrowed, "refresh_token")));
    workdir
        .run(
            &["adduser", "johndoe", "--scopes", "read:items"],
            "again-2\n",
        )
        .assert_success();
    assert_invalid_grant(&refresh(&server, &field(&narrowed, "refresh_token")));
    assert_eq!(login(&server, "johndoe", "again-2").status, 200);
    let list = workdir.run(&["user", "list"], "");
    assert!(list.stdout.starts_with("3 users"), "{list:?}");
}

#[test]
fn user_command_failures_are_clear() {
    let workdir = Workdir::new();
    workdir
        .run(&["adduser", "bob", "--scopes", "read:items"], "pw-1\n")
        .assert_success();
    for action in ["disable", "enable", "revoke", "delete"] {
        let missing = workdir.run(&["user", action, "nobody"], "");
        missing.assert_failure("no user named \"nobody\"");
        assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    }
    workdir
        .run(&["user", "passwd", "nobody"], "pw-2\n")
        .assert_failure("no user named \"nobody\"");
    workdir
        .run(&["user", "passwd", "bob"], "")
        .assert_failure("password is empty");
    workdir
        .run(&["user", "scopes", "bob", "read:items delete:all"], "")
        .assert_failure("unknown scope \"delete:all\"");
    workdir
        .run(&["user", "scopes", "nobody", "read:items"], "")
        .assert_failure("no user named \"nobody\"");
    // Nothing changed for bob.
    let list = workdir.run(&["user", "list"], "");
    list.assert_success();
    assert!(list.stdout.contains("bob\tenabled\tread:items"), "{list:?}");
    // clap's usage errors exit with 2.
    let usage = workdir.run(&["user", "frobnicate", "bob"], "");
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
}
