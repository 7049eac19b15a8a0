//! OAuth clients with the real binary: `demo-app client add|list|delete`,
//! and an unmodified OAuth2 client library (Python's Authlib) obtaining a
//! client-credentials token from the running server.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, Workdir, get};

/// Adds a confidential client and returns its secret: the last line of
/// standard output.
fn add_client(workdir: &Workdir, name: &str, scopes: &str) -> String {
    let added = workdir.run(&["client", "add", name, "--scopes", scopes], "");
    added.assert_success();
    let secret = added.stdout.lines().last().expect("a last line").to_owned();
    assert_eq!(secret.len(), 43, "{added:?}");
    assert!(!added.stderr.contains(&secret), "{added:?}");
    secret
}

#[test]
fn client_add_list_delete_and_their_errors() {
    let workdir = Workdir::new();
    let secret = add_client(&workdir, "billing", "read:items");

    let listed = workdir.run(&["client", "list"], "");
    listed.assert_success();
    assert!(
        listed.stdout.contains("\"billing\" (confidential)"),
        "{listed:?}"
    );
    assert!(listed.stdout.contains("client_credentials"), "{listed:?}");
    assert!(!listed.stdout.contains(&secret), "{listed:?}");

    let public = workdir.run(
        &["client", "add", "spa", "--scopes", "read:items", "--public"],
        "",
    );
    public.assert_success();
    assert!(public.stdout.contains("public"), "{public:?}");

    workdir
        .run(&["client", "add", "billing", "--scopes", "read:items"], "")
        .assert_failure("already exists");
    workdir
        .run(&["client", "add", "x", "--scopes", "nope"], "")
        .assert_failure("unknown scope");
    workdir
        .run(&["client", "add", "a b", "--scopes", "read:items"], "")
        .assert_failure("must not contain spaces");
    workdir
        .run(
            &[
                "client",
                "add",
                "x",
                "--scopes",
                "read:items",
                "--grants",
                "implicit",
            ],
            "",
        )
        .assert_failure("--grants");
    workdir
        .run(
            &[
                "client",
                "add",
                "x",
                "--scopes",
                "read:items",
                "--public",
                "--grants",
                "client_credentials",
            ],
            "",
        )
        .assert_failure("public client");

    let deleted = workdir.run(&["client", "delete", "billing"], "");
    deleted.assert_success();
    workdir
        .run(&["client", "delete", "billing"], "")
        .assert_failure("no client named");
}

#[test]
fn a_client_token_over_tcp_and_the_secret_never_in_the_log() {
    let workdir = Workdir::new();
    let server = Server::start(&workdir);
    let secret = add_client(&workdir, "svc", "read:items");
    let reply = common::read(
        common::agent()
            .post(&server.url("/token"))
            .set(
                "Authorization",
                &format!(
                    "Basic {}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        format!("svc:{secret}")
                    )
                ),
            )
            .send_form(&[("grant_type", "client_credentials")]),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let access = reply.json["access_token"].as_str().unwrap().to_owned();
    let me = get(&server, "/users/me", Some(&access));
    assert_eq!(me.json["username"], "svc", "{me:?}");
    assert_eq!(me.json["client"], true, "{me:?}");
    let wrong = common::read(common::agent().post(&server.url("/token")).send_form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "svc"),
        ("client_secret", "wrong"),
    ]));
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert!(!server.log_text().contains(&secret));
}

// ----- an OAuth2 client library, unmodified -----

/// Python with Authlib, in the virtual environment the OpenAPI validator
/// test keeps under the target directory; `None` without Python.
fn authlib_python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let system = ["python3", "python"].into_iter().find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })?;
        let status = Command::new(system)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("run python -m venv");
        assert!(
            status.success(),
            "{system} -m venv failed: install Python's venv module"
        );
    }
    let present = Command::new(&python)
        .args(["-c", "import authlib, requests"])
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        let status = Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "authlib==1.6.5", "requests==2.32.5"])
            .status()
            .expect("run pip");
        assert!(
            status.success(),
            "pip install authlib failed (PyPI unreachable?)"
        );
    }
    Some(python)
}

/// What the library does: fetch a token with the client-credentials grant
/// (`client_secret_basic`, then `client_secret_post`) and call the API with
/// it, printing what it got.
const AUTHLIB_SCRIPT: &str = r#"
import json, sys
from authlib.integrations.requests_client import OAuth2Session

base, client_id, secret = sys.argv[1:4]
results = {}
for method in ("client_secret_basic", "client_secret_post"):
    session = OAuth2Session(client_id, secret, scope="read:items",
                            token_endpoint_auth_method=method)
    token = session.fetch_token(base + "/token", grant_type="client_credentials")
    me = session.get(base + "/users/me")
    results[method] = {"token": token, "status": me.status_code, "me": me.json()}
print(json.dumps(results))
"#;

#[test]
fn authlib_obtains_a_client_credentials_token() {
    let Some(python) = authlib_python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI for the Authlib test"
        );
        eprintln!("SKIPPED: python3 is not installed, so the Authlib test cannot run");
        return;
    };
    let workdir = Workdir::new();
    let server = Server::start(&workdir);
    let secret = add_client(&workdir, "reporting", "read:items");
    let output = Command::new(python)
        .args(["-c", AUTHLIB_SCRIPT, &server.url(""), "reporting", &secret])
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "authlib failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the script's JSON");
    for method in ["client_secret_basic", "client_secret_post"] {
        let result = &results[method];
        assert_eq!(result["token"]["token_type"], "bearer", "{result}");
        assert_eq!(result["token"]["scope"], "read:items", "{result}");
        assert!(result["token"].get("refresh_token").is_none(), "{result}");
        assert_eq!(result["status"], 200, "{result}");
        assert_eq!(result["me"]["username"], "reporting", "{result}");
    }
}
