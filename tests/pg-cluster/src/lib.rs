//! Test support: a real, throw-away PostgreSQL server for the test suites.
//!
//! [`server`] returns the URL of a server the tests may create databases
//! on. It is, in order of preference:
//!
//! 1. the server named by `AUTH_TEST_POSTGRES_URL` (a URL whose user may
//!    create databases, e.g. `postgres://postgres@127.0.0.1:5432/postgres`);
//! 2. a cluster started for this test binary: `initdb` into a temporary
//!    directory, `pg_ctl start` on a free port of `127.0.0.1` with the unix
//!    socket in that directory, trust authentication, no `fsync`. It runs
//!    as an unprivileged user: as root (where `initdb` refuses to run), as
//!    the `postgres` user (or `nobody`) through `runuser`. One cluster serves every test
//!    of a binary; it is stopped (`pg_ctl stop -m immediate`) and its
//!    directory removed when the test binary exits;
//! 3. nothing: when neither `initdb`/`pg_ctl` is found (in `PATH` or
//!    `/usr/lib/postgresql/*/bin`), [`server`] returns `None` and prints a
//!    loud notice, and the PostgreSQL tests skip themselves. With the `CI`
//!    environment variable set, it panics instead, so CI cannot pass
//!    without running them.
//!
//! Tests take a database of their own with [`database_name`] and
//! `CREATE DATABASE`, and connect with [`Server::url`].
#![warn(clippy::pedantic)]

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable naming an existing server to use instead.
pub const URL_VARIABLE: &str = "AUTH_TEST_POSTGRES_URL";

/// A PostgreSQL server the tests may create databases on.
#[derive(Debug)]
pub struct Server {
    /// `postgres://user@host:port` (no database, no trailing slash).
    base: String,
    /// The query string of the configured URL, if any (e.g. `?sslmode=...`).
    query: String,
    /// The cluster this binary started, if it started one.
    cluster: Option<Cluster>,
}

impl Server {
    /// The URL of database `name` on this server.
    #[must_use]
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}{}", self.base, self.query)
    }

    /// The URL of the `postgres` maintenance database, for `CREATE
    /// DATABASE`.
    #[must_use]
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// Whether this binary started the server (rather than using
    /// `AUTH_TEST_POSTGRES_URL`).
    #[must_use]
    pub fn is_own_cluster(&self) -> bool {
        self.cluster.is_some()
    }
}

/// The server for this test binary, started on first use; `None` (after a
/// loud notice) when PostgreSQL is not installed and `CI` is not set.
///
/// # Panics
///
/// If PostgreSQL is installed but the cluster cannot be started, or it is
/// not installed and `CI` is set.
pub fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER.get_or_init(start_or_find).as_ref()
}

/// A database name unique to this process and call, starting with
/// `prefix` (lowercase letters, digits and `_`).
#[must_use]
pub fn database_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn start_or_find() -> Option<Server> {
    if let Ok(url) = std::env::var(URL_VARIABLE) {
        return Some(from_url(&url));
    }
    let Some(bin) = find_binaries() else {
        let message = "PostgreSQL is not installed (no initdb/pg_ctl in PATH or \
                       /usr/lib/postgresql/*/bin): SKIPPING the PostgreSQL tests. Install \
                       Debian's `postgresql` package, or set AUTH_TEST_POSTGRES_URL.";
        assert!(std::env::var_os("CI").is_none(), "CI is set: {message}");
        // Straight to stderr: the test harness does not capture this.
        let _ = writeln!(std::io::stderr(), "\n*** {message}\n");
        return None;
    };
    let cluster = Cluster::start(&bin);
    Some(Server {
        base: format!("postgres://postgres@127.0.0.1:{}", cluster.port),
        query: String::new(),
        cluster: Some(cluster),
    })
}

/// Splits `postgres://user@host:port/db?query` into base and query.
fn from_url(url: &str) -> Server {
    let (rest, query) = match url.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = rest.find("://").map_or(0, |i| i + 3);
    let base = match rest[scheme_end..].find('/') {
        Some(slash) => &rest[..scheme_end + slash],
        None => rest,
    };
    Server {
        base: base.to_owned(),
        query,
        cluster: None,
    }
}

/// The directory holding `initdb` and `pg_ctl`: `PATH` first, then the
/// newest `/usr/lib/postgresql/*/bin` (Debian's layout).
fn find_binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|dir| has_both(dir))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A cluster in a temporary directory, owned by this process.
#[derive(Debug)]
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// `Some("postgres")` when commands run as another user (we are root).
    run_as: Option<String>,
}

impl Cluster {
    fn start(bin: &Path) -> Self {
        let run_as = is_root().then(unprivileged_user);
        let dir = std::env::temp_dir().join(format!("auth-pg-{}", database_name("cluster")));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let mut cluster = Self {
            bin: bin.to_owned(),
            dir,
            port: 0,
            run_as,
        };
        if let Some(user) = &cluster.run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&cluster.dir)
                .status()
                .expect("run chown");
            assert!(status.success(), "chown {user} {}", cluster.dir.display());
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        // Another process may take the port between the probe and the
        // server's bind: then try another.
        let mut last_error = String::new();
        for _ in 0..5 {
            cluster.port = free_port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=300 \
                 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                cluster.port,
                cluster.dir.display()
            );
            let data = cluster.data().display().to_string();
            let log = cluster.dir.join("server.log").display().to_string();
            match cluster.try_run(
                "pg_ctl",
                &[
                    "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
                ],
            ) {
                Ok(()) => {
                    cluster.watch_this_process();
                    return cluster;
                }
                Err(e) => {
                    last_error =
                        format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default());
                }
            }
        }
        panic!("could not start PostgreSQL: {last_error}");
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn try_run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        if let Err(e) = self.try_run(program, args) {
            panic!("{e}");
        }
    }

    /// Statics are never dropped, so a watcher stops the cluster and
    /// removes its directory once this process has exited, however it
    /// ended (even by SIGKILL).
    fn watch_this_process(&self) {
        let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
"$2" stop -D "$3" -m immediate >/dev/null 2>&1
rm -rf "$4""#;
        let pg_ctl = self.bin.join("pg_ctl");
        // The watcher stays root (it removes a directory root created);
        // only pg_ctl must run as the cluster's owner.
        let script = if let Some(user) = &self.run_as {
            script.replace(
                r#""$2" stop"#,
                &format!(r#"runuser -u {user} -- "$2" stop"#),
            )
        } else {
            script.to_owned()
        };
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        command
            .arg("pg-cluster-watch")
            .arg(std::process::id().to_string())
            .arg(pg_ctl)
            .arg(self.data())
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Detached: it must outlive this process. Not waited for.
        if let Err(e) = command.spawn() {
            let _ = writeln!(
                std::io::stderr(),
                "pg-cluster: no watcher ({e}); stop the cluster in {} by hand",
                self.dir.display()
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self.try_run("pg_ctl", &["stop", "-D", &data, "-m", "immediate"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    // The effective uid from /proc, without a libc dependency.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// The user a root process runs the cluster as: `postgres` (created by
/// Debian's package), else `nobody`.
fn unprivileged_user() -> String {
    let exists = |user: &str| {
        Command::new("id")
            .arg("-u")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if exists("postgres") {
        "postgres"
    } else {
        "nobody"
    }
    .to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_into_base_and_query() {
        let server = from_url("postgres://u:p@db.example:5433/app?sslmode=disable");
        assert_eq!(
            server.url("t1"),
            "postgres://u:p@db.example:5433/t1?sslmode=disable"
        );
        let server = from_url("postgresql://u@localhost");
        assert_eq!(server.admin_url(), "postgresql://u@localhost/postgres");
    }

    #[test]
    fn database_names_are_unique() {
        assert_ne!(database_name("a"), database_name("a"));
        assert!(database_name("store").starts_with("store_"));
    }
}
