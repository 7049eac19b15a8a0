//! The real `demo-app` binary: the README flow over TCP, and the `adduser`
//! command on the same database.
//!
//! Each test gets its own temporary directory (database file, log) and a
//! free port; servers are killed when the test ends, whatever happens.

mod common;

use serde_json::json;

use common::{Reply, SECRET, Server, Workdir, agent, field, get, read, token};

#[test]
fn readme_flow_over_tcp() {
    let workdir = Workdir::new();
    let server = Server::start(&workdir);

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
    let server = Server::start_with(&workdir, &[]);

    let added = workdir.run(
        &["adduser", "bob", "--scopes", "read:items"],
        "Glacier-Tuba-Orchard-58\n",
    );
    added.assert_success();
    assert!(added.stdout.contains("bob"), "{added:?}");
    assert!(
        !added.stdout.contains("Glacier-Tuba-Orchard-58")
            && !added.stderr.contains("Glacier-Tuba-Orchard-58")
    );

    let bob = token(
        &server,
        &[("username", "bob"), ("password", "Glacier-Tuba-Orchard-58")],
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
        "Velvet-Kayak-Meadow-31\r\n",
    );
    disabled.assert_success();
    let carol = token(
        &server,
        &[
            ("username", "carol"),
            ("password", "Velvet-Kayak-Meadow-31"),
        ],
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
        .run(
            &["adduser", "bob", "--scopes", "read:items"],
            "Pumice-Lantern-Otter-11\n",
        )
        .assert_success();

    let duplicate = workdir.run(
        &["adduser", "bob", "--scopes", "admin"],
        "Pumice-Lantern-Otter-22\n",
    );
    duplicate.assert_failure("already exists");
    let unknown = workdir.run(
        &["adduser", "dave", "--scopes", "read:items delete:all"],
        "Pumice-Lantern-Otter-33\n",
    );
    unknown.assert_failure("unknown scope \"delete:all\"");
    let malformed = workdir.run(
        &["adduser", "dave", "--scopes", "read\"items"],
        "Pumice-Lantern-Otter-33\n",
    );
    malformed.assert_failure("--scopes");
    let empty = workdir.run(&["adduser", "dave", "--scopes", "read:items"], "");
    empty.assert_failure("password is empty");
    let blank_line = workdir.run(&["adduser", "dave", "--scopes", "read:items"], "\n");
    blank_line.assert_failure("password is empty");
    let bad_name = workdir.run(
        &["adduser", "da ve", "--scopes", "read:items"],
        "Pumice-Lantern-Otter-33\n",
    );
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
            !failed.stderr.contains("Pumice-Lantern"),
            "echoes the password: {failed:?}"
        );
    }
    // clap's usage errors.
    let no_scopes = workdir.run(&["adduser", "dave"], "Pumice-Lantern-Otter-33\n");
    assert_eq!(no_scopes.status.code(), Some(2), "{no_scopes:?}");
    assert!(no_scopes.stderr.contains("--scopes"), "{no_scopes:?}");

    // None of the failures wrote dave, and bob kept his first password.
    workdir
        .run(
            &["adduser", "dave", "--scopes", "read:items"],
            "Pumice-Lantern-Otter-44\n",
        )
        .assert_success();
    let server = Server::start(&workdir);
    let bob = token(
        &server,
        &[("username", "bob"), ("password", "Pumice-Lantern-Otter-11")],
    );
    assert_eq!(bob.status, 200, "{bob:?}");
    assert_eq!(bob.json["scope"], "read:items");
    let dave = token(
        &server,
        &[
            ("username", "dave"),
            ("password", "Pumice-Lantern-Otter-44"),
        ],
    );
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
    let server = Server::start_with(&workdir, &[]);

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
    let passwd = workdir.run(&["user", "passwd", "johndoe"], "Saffron-Trellis-Comet-71\n");
    passwd.assert_success();
    assert!(passwd.stdout.contains("revoked"), "{passwd:?}");
    assert!(
        !passwd.stdout.contains("Saffron-Trellis-Comet-71")
            && !passwd.stderr.contains("Saffron-Trellis-Comet-71")
    );
    assert_invalid_grant(&refresh(&server, &field(&session, "refresh_token")));
    assert_invalid_grant(&login(&server, "johndoe", "secret"));
    let session = login(&server, "johndoe", "Saffron-Trellis-Comet-71");
    assert_eq!(session.status, 200, "{session:?}");

    // Disabling ends sessions, and enabling again does not revive them.
    workdir
        .run(&["user", "disable", "johndoe"], "")
        .assert_success();
    assert_invalid_grant(&login(&server, "johndoe", "Saffron-Trellis-Comet-71"));
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
    let narrowed = login(&server, "johndoe", "Saffron-Trellis-Comet-71");
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
            "Marble-Quiver-Ember-62\n",
        )
        .assert_success();
    assert_invalid_grant(&refresh(&server, &field(&narrowed, "refresh_token")));
    assert_eq!(
        login(&server, "johndoe", "Marble-Quiver-Ember-62").status,
        200
    );
    let list = workdir.run(&["user", "list"], "");
    assert!(list.stdout.starts_with("3 users"), "{list:?}");
}

#[test]
fn user_command_failures_are_clear() {
    let workdir = Workdir::new();
    workdir
        .run(
            &["adduser", "bob", "--scopes", "read:items"],
            "Pumice-Lantern-Otter-11\n",
        )
        .assert_success();
    for action in ["disable", "enable", "revoke", "delete"] {
        let missing = workdir.run(&["user", action, "nobody"], "");
        missing.assert_failure("no user named \"nobody\"");
        assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    }
    workdir
        .run(&["user", "passwd", "nobody"], "Pumice-Lantern-Otter-22\n")
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

/// New passwords follow auth-core's `PasswordPolicy` (NIST SP 800-63B):
/// too short, the username, and known-weak passwords are refused with the
/// rule that failed, never echoing the password, and nothing is written.
#[test]
fn new_passwords_must_follow_the_policy() {
    let workdir = Workdir::new();
    for (name, password, rule) in [
        ("erin", "Ab1!xyz", "at least 8 characters"),
        ("erin", "Erin-Erin-Erin-7", "must not contain the username"),
        ("erin", "password123", "too easy to guess"),
        ("erin", "qwertyuiop", "too easy to guess"),
    ] {
        let refused = workdir.run(
            &["adduser", name, "--scopes", "read:items"],
            &format!("{password}\n"),
        );
        refused.assert_failure(rule);
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        assert!(
            !refused.stderr.contains(password) && !refused.stdout.contains(password),
            "echoes the password: {refused:?}"
        );
    }
    workdir
        .run(
            &["adduser", "erin", "--scopes", "read:items"],
            "Glacier-Tuba-Orchard-58\n",
        )
        .assert_success();
    workdir
        .run(&["user", "passwd", "erin"], "sunshine1\n")
        .assert_failure("too easy to guess");
    // The minimum length is configurable.
    let strict = Workdir::new().with_env("ROCKET_AUTH_PASSWORD_MIN_CHARS", "30");
    strict
        .run(
            &["adduser", "erin", "--scopes", "read:items"],
            "Glacier-Tuba-Orchard-58\n",
        )
        .assert_failure("at least 30 characters");
    let server = Server::start(&workdir);
    let erin = token(
        &server,
        &[
            ("username", "erin"),
            ("password", "Glacier-Tuba-Orchard-58"),
        ],
    );
    assert_eq!(erin.status, 200, "{erin:?}");
}

/// `GET /users/me` with an API key.
fn me_with_key(server: &Server, key: &str) -> Reply {
    read(
        agent()
            .get(&server.url("/users/me"))
            .set("X-API-Key", key)
            .call(),
    )
}

#[test]
fn apikey_commands_make_list_and_revoke_keys_a_running_server_accepts() {
    let workdir = Workdir::new();
    let server = Server::start_with(&workdir, &[]);

    let added = workdir.run(
        &[
            "apikey",
            "add",
            "johndoe",
            "--scopes",
            "read:items",
            "--name",
            "nightly",
        ],
        "",
    );
    added.assert_success();
    let key = added.stdout.trim_end().lines().last().expect("a last line");
    assert!(key.starts_with("ak_") && !key.contains(' '), "{added:?}");
    assert_eq!(
        added.stdout.matches(key).count(),
        1,
        "shown once: {added:?}"
    );
    let me = me_with_key(&server, key);
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json["username"], "johndoe");
    assert_eq!(me.json["scopes"], json!(["read:items"]));

    let list = workdir.run(&["apikey", "list"], "");
    list.assert_success();
    assert!(list.stdout.starts_with("1 API keys"), "{list:?}");
    assert!(!list.stdout.contains(key), "never the key: {list:?}");
    let id = key
        .strip_prefix("ak_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
        .expect("an id");
    assert!(
        list.stdout
            .contains(&format!("{id}\tjohndoe\tnightly\tactive\tread:items")),
        "{list:?}"
    );

    let revoked = workdir.run(&["apikey", "revoke", id], "");
    revoked.assert_success();
    // The server's cache lifetime is 5 seconds by default.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let me = me_with_key(&server, key);
        if me.status == 401 {
            assert!(
                me.www_authenticate
                    .as_deref()
                    .is_some_and(|c| c.contains("invalid_token")),
                "{me:?}"
            );
            break;
        }
        assert_eq!(me.status, 200, "{me:?}");
        assert!(std::time::Instant::now() < deadline, "still accepted");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let list = workdir.run(&["apikey", "list", "johndoe"], "");
    assert!(list.stdout.contains("revoked at"), "{list:?}");
}

#[test]
fn apikey_command_failures_are_clear() {
    let workdir = Workdir::new();
    // The demo users are added by the first start.
    drop(Server::start_with(&workdir, &[]));
    let failures = [
        (
            vec!["apikey", "add", "nobody", "--scopes", "read:items"],
            "no enabled user named \"nobody\"",
        ),
        (
            vec!["apikey", "add", "alice", "--scopes", "read:items"],
            "no enabled user named \"alice\"",
        ),
        (
            vec!["apikey", "add", "johndoe", "--scopes", "admin"],
            "does not hold the scope",
        ),
        (
            vec!["apikey", "add", "johndoe", "--scopes", "delete:all"],
            "unknown scope",
        ),
        (
            vec!["apikey", "add", "johndoe", "--scopes", "", "--name", ""],
            "--name",
        ),
        (vec!["apikey", "revoke", "0000"], "no API key with id"),
        (vec!["apikey", "list", "nobody"], "no user named"),
    ];
    for (args, message) in failures {
        let failed = workdir.run(&args, "");
        failed.assert_failure(message);
        assert_eq!(failed.status.code(), Some(1), "{failed:?}");
        assert!(!failed.stdout.contains("ak_"), "{failed:?}");
    }
    let usage = workdir.run(
        &[
            "apikey",
            "add",
            "johndoe",
            "--expires-in-days",
            "0",
            "--scopes",
            "",
        ],
        "",
    );
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
    let list = workdir.run(&["apikey", "list"], "");
    assert!(list.stdout.starts_with("0 API keys"), "{list:?}");
}
