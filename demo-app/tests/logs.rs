//! The real binary's log, at the default level, never holds a credential:
//! a login, a refresh, a failed login, a revocation, and credentials sent
//! where they do not belong (the query string, a malformed header) are all
//! logged without the password, token, refresh token or secret.

mod common;

use common::{SECRET, Server, Workdir, agent, field, read, token};

const PASSWORD: &str = "Distinctive-Horse-Battery-42";
const WRONG_PASSWORD: &str = "Wrong-Staple-Password-77";
const CLIENT_SECRET: &str = "Client-Secret-Quokka-19";

#[test]
fn no_secret_reaches_the_log() {
    let workdir = Workdir::new();
    let added = workdir.run(
        &["adduser", "logger", "--scopes", "read:items"],
        &format!("{PASSWORD}\n"),
    );
    assert!(added.status.success(), "{added:?}");
    let server = Server::start(&workdir);

    // A full session: login, use, refresh, failed login, revoke.
    let login = token(&server, &[("username", "logger"), ("password", PASSWORD)]);
    assert_eq!(login.status, 200, "{login:?}");
    let access = field(&login, "access_token");
    let refresh = field(&login, "refresh_token");
    let me = read(
        agent()
            .get(&server.url("/users/me"))
            .set("Authorization", &format!("Bearer {access}"))
            .call(),
    );
    assert_eq!(me.status, 200, "{me:?}");
    let refreshed = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let new_access = field(&refreshed, "access_token");
    let new_refresh = field(&refreshed, "refresh_token");
    let replay = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(replay.status, 400, "{replay:?}");
    let failed = token(
        &server,
        &[("username", "logger"), ("password", WRONG_PASSWORD)],
    );
    assert_eq!(failed.status, 400, "{failed:?}");
    let with_client = token(
        &server,
        &[
            ("username", "logger"),
            ("password", WRONG_PASSWORD),
            ("client_id", "web"),
            ("client_secret", CLIENT_SECRET),
        ],
    );
    assert!(with_client.status >= 400, "{with_client:?}");
    let revoked = read(
        agent()
            .post(&server.url("/revoke"))
            .send_form(&[("token", &new_refresh)]),
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");

    // Credentials where they do not belong.
    let queries = [
        format!("/users/me?access_token={new_access}"),
        format!("/users/me?ACCESS%5FTOKEN={new_access}&x=1"),
        format!("/items?{new_access}"),
        format!("/token?username=logger&password={PASSWORD}"),
        format!("/token?grant_type=refresh_token&refresh_token={new_refresh}"),
        format!("/token?client_id=web&client_secret={CLIENT_SECRET}"),
        format!("/nowhere?password={PASSWORD}"),
    ];
    for query in &queries {
        let reply = if query.starts_with("/token") {
            read(
                agent()
                    .post(&server.url(query))
                    .send_form(&[("username", "logger")]),
            )
        } else {
            read(agent().get(&server.url(query)).call())
        };
        assert!(reply.status >= 400, "{query}: {reply:?}");
    }
    // A malformed header that carries the token, and a form whose password
    // is not valid form encoding.
    let malformed = read(
        agent()
            .get(&server.url("/users/me"))
            .set("Authorization", &format!("Bearer {new_access}!{PASSWORD}"))
            .call(),
    );
    assert_eq!(malformed.status, 401, "{malformed:?}");
    let bad_encoding = read(
        agent()
            .post(&server.url("/token"))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&format!("username=logger&password={PASSWORD}%zz")),
    );
    assert_eq!(bad_encoding.status, 400, "{bad_encoding:?}");
    let json_login = read(
        agent()
            .post(&server.url("/token"))
            .send_json(serde_json::json!({ "username": "logger", "password": PASSWORD })),
    );
    assert!(json_login.status >= 400, "{json_login:?}");
    let json_item = read(
        agent()
            .post(&server.url("/items"))
            .set("Authorization", &format!("Bearer {new_access}"))
            .set("Content-Type", "application/json")
            .send_string(&format!("{{\"name\": \"{PASSWORD}\", \"password\": ")),
    );
    assert!(json_item.status >= 400, "{json_item:?}");

    let log = server.log_text();
    // The log is Rocket's usual one: the requests are there, by path.
    assert!(log.contains("POST /token"), "{log}");
    assert!(log.contains("GET /users/me?<redacted>"), "{log}");
    for secret in [
        PASSWORD,
        WRONG_PASSWORD,
        CLIENT_SECRET,
        SECRET,
        access.as_str(),
        refresh.as_str(),
        new_access.as_str(),
        new_refresh.as_str(),
    ] {
        assert!(!log.contains(secret), "the log leaks {secret:?}:\n{log}");
        // Nor a large part of it (a token cut at a separator).
        let prefix = &secret[..secret.len().min(16)];
        assert!(
            !log.contains(prefix),
            "the log leaks part of {secret:?}:\n{log}"
        );
    }
}

/// Rocket's two warnings per refused request ("Request guard .. failed",
/// "Responding with registered .. catcher") are counted, not written:
/// forged tokens cannot fill the log. Other requests are logged as usual.
#[test]
fn refused_requests_do_not_write_a_warning_each() {
    let workdir = Workdir::new();
    let server = Server::start(&workdir);
    for round in 0..20 {
        for authorization in [
            None,
            Some("Bearer not-a-jwt".to_owned()),
            Some(format!("Bearer a.b.c{round}")),
            Some("Bearer ".to_owned()),
        ] {
            let mut request = agent().get(&server.url("/users/me"));
            if let Some(value) = &authorization {
                request = request.set("Authorization", value);
            }
            let reply = read(request.call());
            assert!(
                reply.status == 401 || reply.status == 400,
                "{authorization:?}: {reply:?}"
            );
        }
    }
    let missing = read(agent().get(&server.url("/no-such-route")).call());
    assert_eq!(missing.status, 404, "{missing:?}");
    let log = server.log_text();
    assert!(log.contains("GET /users/me"), "{log}");
    assert!(log.contains("GET /no-such-route"), "{log}");
    for line in log.lines() {
        assert!(
            !line.contains("Request guard") && !line.contains("catcher."),
            "a per-request warning reached the log: {line}"
        );
    }
}

/// At Rocket's release default level (`critical`), which hides `info`,
/// successful logins and refreshes still reach the log: as a summary at
/// `warn` (ASVS 7.2.1), the first at once, the rest at most once per
/// `SUMMARY_INTERVAL`. No line per success, so logins cannot flood it.
#[test]
fn successes_are_summarised_at_the_release_default_level() {
    let workdir = Workdir::new().with_env("ROCKET_LOG_LEVEL", "critical");
    let added = workdir.run(
        &["adduser", "summary", "--scopes", "read:items"],
        &format!("{PASSWORD}\n"),
    );
    assert!(added.status.success(), "{added:?}");
    let server = Server::start(&workdir);
    let login = token(&server, &[("username", "summary"), ("password", PASSWORD)]);
    assert_eq!(login.status, 200, "{login:?}");
    let mut refresh = field(&login, "refresh_token");
    for _ in 0..3 {
        let refreshed = token(
            &server,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        );
        assert_eq!(refreshed.status, 200, "{refreshed:?}");
        refresh = field(&refreshed, "refresh_token");
    }
    let log = server.log_text();
    assert!(
        log.contains("auth: 1 logins, 0 refreshes, 0 revocations succeeded since the start"),
        "{log}"
    );
    // The refreshes wait for the next interval; no line each.
    assert!(!log.contains("event=refreshed"), "{log}");
    assert!(!log.contains("event=login_succeeded"), "{log}");

    std::thread::sleep(auth_core::SUMMARY_INTERVAL + std::time::Duration::from_millis(200));
    let refreshed = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let log = server.log_text();
    assert!(
        log.contains("auth: 0 logins, 4 refreshes, 0 revocations succeeded in the last"),
        "{log}"
    );
}

/// At `debug`, Rocket logs whole requests, headers included: the values
/// of `Authorization` (here `Basic`) and `Cookie` are redacted.
#[test]
fn credential_headers_are_redacted_at_debug_level() {
    const BASIC: &str = "bG9nZ2VyOkRpc3RpbmN0aXZlLUhvcnNlLUJhdHRlcnktNDI=";
    const COOKIE: &str = "Opaque-Session-Cookie-Walrus-31";
    let workdir = Workdir::new().with_env("ROCKET_LOG_LEVEL", "debug");
    let server = Server::start(&workdir);
    let reply = read(
        agent()
            .get(&server.url("/users/me"))
            .set("Authorization", &format!("Basic {BASIC}"))
            .set("Cookie", &format!("session={COOKIE}"))
            .call(),
    );
    assert!(reply.status >= 400, "{reply:?}");
    let log = server.log_text();
    assert!(log.contains("received request"), "{log}");
    assert!(log.contains("\"authorization\": \"<redacted>\""), "{log}");
    for secret in [BASIC, &BASIC[..16], COOKIE] {
        assert!(!log.contains(secret), "the log leaks {secret:?}:\n{log}");
    }
}
