//! Helpers shared by the tests of the real `demo-app` binary: a temporary
//! directory per test, servers on free ports (killed on drop, their log
//! printed when a test fails) and HTTP helpers.
#![allow(dead_code, reason = "each test binary uses a part")]

use std::fs::File;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_demo-app");
pub const SECRET: &str = "binary-tests-secret-0123456789-abcdefghijklmnop";
/// How long a server may take to answer `/health`, and a command to finish.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A directory for one test: the database and the logs.
pub struct Workdir {
    dir: TempDir,
    /// Environment set on every command, after the defaults.
    env: Vec<(String, String)>,
}

impl Workdir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    /// Sets `key=value` in the environment of every command and server
    /// (e.g. another `ROCKET_DATABASE_URL`).
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn database(&self) -> PathBuf {
        self.path().join("demo.db")
    }

    /// A command for the binary, configured only by what we set here.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(self.path())
            .env_remove("ROCKET_PROFILE")
            .env("ROCKET_CONFIG", self.path().join("Rocket.toml"))
            .env(
                "ROCKET_DATABASE_URL",
                format!("sqlite://{}", self.database().display()),
            )
            .env("ROCKET_AUTH_SECRET", SECRET)
            .env("ROCKET_CLI_COLORS", "false")
            .env("ROCKET_LOG_LEVEL", "normal")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `demo-app args...` with `stdin` as standard input and waits for
    /// it (at most [`DEADLINE`]).
    pub fn run(&self, args: &[&str], stdin: &str) -> Finished {
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
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn assert_success(&self) {
        assert!(self.status.success(), "{self:?}");
    }

    /// The command failed, saying `message` on standard error.
    pub fn assert_failure(&self, message: &str) {
        assert!(!self.status.success(), "should fail: {self:?}");
        assert!(self.stderr.contains(message), "{message:?} in {self:?}");
    }
}

/// A running server; killed on drop, its log printed if the test failed.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `demo-app serve` on a free port and waits for `/health`.
    /// Standard output and error both go to [`Self::log`].
    pub fn start(workdir: &Workdir) -> Self {
        Self::start_with(workdir, &["serve"])
    }

    /// Starts `demo-app args...` (no arguments also serve) on a free port
    /// and waits for `/health`.
    pub fn start_with(workdir: &Workdir, args: &[&str]) -> Self {
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("server log:\n{}", self.log_text());
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

/// A response read completely, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub cache_control: Option<String>,
    pub www_authenticate: Option<String>,
    pub json: Value,
}

impl Reply {
    fn of(response: ureq::Response) -> Self {
        Self {
            status: response.status(),
            cache_control: response.header("Cache-Control").map(str::to_owned),
            www_authenticate: response.header("WWW-Authenticate").map(str::to_owned),
            json: response.into_json().unwrap_or(Value::Null),
        }
    }
}

/// Reads a response; `None` when the request failed below HTTP.
pub fn try_read(result: Result<ureq::Response, ureq::Error>) -> Option<Reply> {
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => Some(Reply::of(response)),
        Err(_) => None,
    }
}

pub fn read(result: Result<ureq::Response, ureq::Error>) -> Reply {
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => Reply::of(response),
        Err(e) => panic!("request failed: {e}"),
    }
}

/// `GET path`, with `access` as the bearer token if given.
pub fn get(server: &Server, path: &str, access: Option<&str>) -> Reply {
    let mut request = agent().get(&server.url(path));
    if let Some(access) = access {
        request = request.set("Authorization", &format!("Bearer {access}"));
    }
    read(request.call())
}

pub fn token(server: &Server, fields: &[(&str, &str)]) -> Reply {
    read(agent().post(&server.url("/token")).send_form(fields))
}

pub fn field(reply: &Reply, name: &str) -> String {
    reply.json[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {reply:?}"))
        .to_owned()
}
