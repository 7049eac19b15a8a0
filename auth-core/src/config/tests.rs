use super::*;
use crate::token::{KeyError, TokenKeys};
use rocket::figment::Figment;
use rocket::figment::providers::{Format as _, Serialized, Toml};

#[test]
fn defaults_match_the_contract() {
    let config = AuthConfig::from_figment(&Figment::new()).unwrap();
    assert_eq!(config.access_ttl, 1800);
    assert_eq!(config.refresh_ttl, 1_209_600);
    assert_eq!(config.refresh_max_age, 30 * 24 * 3600);
    assert!(config.secret.is_none());
    config.validate().unwrap();
}

#[test]
fn reads_flat_keys_and_scope_table() {
    let figment = Figment::new().merge(Toml::string(
        r#"
        auth_secret = "0123456789abcdef0123456789abcdef"
        auth_access_ttl = 60
        auth_scopes = { "read:items" = "Read items" }
        port = 8000
        "#,
    ));
    let config = AuthConfig::from_figment(&figment).unwrap();
    assert_eq!(config.access_ttl, 60);
    assert_eq!(
        config.scope_registry().unwrap().description("read:items"),
        Some("Read items")
    );
    assert!(config.keys().is_ok());
}

#[test]
fn refuses_bad_values() {
    let bad_ttl = Figment::new().merge(Serialized::default("auth_access_ttl", 0));
    assert!(matches!(
        AuthConfig::from_figment(&bad_ttl).unwrap().validate(),
        Err(ConfigError::OutOfRange {
            key: "auth_access_ttl",
            ..
        })
    ));
    let wrong_type = Figment::new().merge(Serialized::default("auth_access_ttl", "soon"));
    assert!(matches!(
        AuthConfig::from_figment(&wrong_type),
        Err(ConfigError::Invalid(_))
    ));
    let short = AuthConfig {
        secret: Some("short".into()),
        ..AuthConfig::default()
    };
    assert!(matches!(
        short.keys(),
        Err(ConfigError::Key(KeyError::SecretTooShort { len: 5 }))
    ));
    let alg = AuthConfig {
        algorithm: Algorithm::RS256,
        secret: Some("0123456789abcdef0123456789abcdef".into()),
        ..AuthConfig::default()
    };
    assert!(matches!(
        alg.keys(),
        Err(ConfigError::Key(KeyError::WrongAlgorithm { .. }))
    ));
    let unknown = Figment::new().merge(Serialized::default("auth_algorithm", "HS999"));
    assert!(matches!(
        AuthConfig::from_figment(&unknown),
        Err(ConfigError::Invalid(_))
    ));
    let scope = AuthConfig {
        scopes: BTreeMap::from([("bad scope".to_owned(), String::new())]),
        ..AuthConfig::default()
    };
    assert!(matches!(scope.validate(), Err(ConfigError::Scope { .. })));
}

#[test]
fn every_number_is_bounded_and_the_error_names_the_range() {
    for (key, value) in [
        ("auth_access_ttl", u64::MAX),
        ("auth_refresh_ttl", 0),
        ("auth_refresh_max_age", 0),
        ("auth_refresh_max_age", u64::MAX),
        ("auth_max_sessions_per_user", 0),
        ("auth_max_sessions_per_user", 10_001),
        ("auth_leeway", u64::MAX),
        ("auth_subject_cache_ttl", u64::MAX),
        ("auth_jwks_min_refresh_interval", 0),
        ("auth_jwks_refresh_interval", u64::MAX),
        ("auth_jwks_timeout", 0),
        ("auth_password_min_chars", 0),
        ("auth_password_min_score", 5),
    ] {
        let figment = Figment::new().merge(Serialized::default(key, value));
        let err = AuthConfig::from_figment(&figment)
            .unwrap()
            .validate()
            .unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, ConfigError::OutOfRange { key: k, .. } if k == key),
            "{message}"
        );
        assert!(message.contains("must be between"), "{message}");
    }
}

#[test]
fn algorithm_names_are_read_in_any_case() {
    let figment = Figment::new().merge(Serialized::default("auth_algorithm", "hs384"));
    let config = AuthConfig::from_figment(&figment).unwrap();
    assert_eq!(config.algorithm, Algorithm::HS384);
}

#[test]
fn debug_hides_the_secret() {
    let config = AuthConfig {
        secret: Some("0123456789abcdef0123456789abcdef".into()),
        ..AuthConfig::default()
    };
    let debug = format!("{config:?}");
    assert!(!debug.contains("0123456789abcdef"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture_path(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

fn from_toml(toml: &str) -> AuthConfig {
    AuthConfig::from_figment(&Figment::new().merge(Toml::string(toml))).unwrap()
}

#[test]
fn the_secret_key_gets_a_configurable_kid() {
    let secret = r#"auth_secret = "0123456789abcdef0123456789abcdef""#;
    let derived = from_toml(secret).keys().unwrap();
    assert_eq!(
        derived.kid(),
        TokenKeys::hs256(b"0123456789abcdef0123456789abcdef")
            .unwrap()
            .kid()
    );
    let named = from_toml(&format!("{secret}\nauth_key_id = \"2026-01\""));
    assert_eq!(named.keys().unwrap().kid(), "2026-01");
    let bad = from_toml(&format!("{secret}\nauth_key_id = \"has space\""));
    assert!(matches!(
        bad.keys(),
        Err(ConfigError::BadKey { setting, reason: KeyError::BadKid { .. } }) if setting == "auth_key_id"
    ));
}

#[test]
fn signing_keys_come_from_a_pem_file_or_inline_pem() {
    let file = from_toml(&format!(
        r#"auth_signing_key = {{ kid = "ed", algorithm = "EdDSA", private_key_file = "{}" }}"#,
        fixture_path("ed25519-a.key")
    ));
    let keys = file.keys().unwrap();
    assert_eq!(keys.kid(), "ed");
    assert_eq!(keys.algorithm(), Algorithm::EdDSA);
    // No secret needed, even in a release build: no random one either.
    assert!(file.secret.is_none());
    let inline = AuthConfig {
        signing_key: Some(SigningKeyConfig {
            algorithm: Algorithm::RS256,
            private_key_pem: Some(fixture("rsa-2048.key")),
            public_key_pem: Some(fixture("rsa-2048.pub")),
            ..SigningKeyConfig::default()
        }),
        ..AuthConfig::default()
    };
    let keys = inline.keys().unwrap();
    assert_eq!(keys.algorithm(), Algorithm::RS256);
    assert_eq!(keys.kid().len(), 43); // RFC 7638 thumbprint
    let tokens = inline.access_tokens(None).unwrap();
    assert_eq!(tokens.jwks().keys.len(), 1);
    // Algorithm names in any case, and Ed25519 for EdDSA.
    for name in ["eddsa", "EdDSA", "Ed25519"] {
        let config = from_toml(&format!(
            r#"auth_signing_key = {{ algorithm = "{name}", private_key_pem = """{}""" }}"#,
            fixture("ed25519-a.key")
        ));
        assert_eq!(config.keys().unwrap().algorithm(), Algorithm::EdDSA);
    }
}

#[test]
fn key_errors_name_the_setting() {
    let missing = from_toml(
        r#"auth_signing_key = { algorithm = "EdDSA", private_key_file = "no/such/key.pem" }"#,
    );
    let err = missing.keys().unwrap_err();
    assert!(
        matches!(&err, ConfigError::KeyFile { setting, .. } if setting == "auth_signing_key.private_key_file"),
        "{err}"
    );
    assert!(err.to_string().contains("no/such/key.pem"), "{err}");

    let not_pem =
        from_toml(r#"auth_signing_key = { algorithm = "EdDSA", private_key_pem = "not a pem" }"#);
    assert!(matches!(
        not_pem.keys(),
        Err(ConfigError::BadKey {
            reason: KeyError::Pem(_),
            ..
        })
    ));
    // An RSA key said to be Ed25519, and an HMAC algorithm for a PEM.
    let mismatch = AuthConfig {
        signing_key: Some(SigningKeyConfig {
            algorithm: Algorithm::EdDSA,
            private_key_pem: Some(fixture("rsa-2048.key")),
            ..SigningKeyConfig::default()
        }),
        ..AuthConfig::default()
    };
    assert!(matches!(mismatch.keys(), Err(ConfigError::BadKey { .. })));
    let hmac_pem = AuthConfig {
        signing_key: Some(SigningKeyConfig {
            algorithm: Algorithm::HS256,
            private_key_pem: Some(fixture("ed25519-a.key")),
            ..SigningKeyConfig::default()
        }),
        ..AuthConfig::default()
    };
    let err = hmac_pem.keys().unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::BadKey {
                reason: KeyError::WrongAlgorithm { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("auth_secret"), "{err}");
    // A private key and its public key that do not match.
    let pair = AuthConfig {
        signing_key: Some(SigningKeyConfig {
            algorithm: Algorithm::EdDSA,
            private_key_pem: Some(fixture("ed25519-a.key")),
            public_key_file: Some(fixture_path("ed25519-b.pub").into()),
            ..SigningKeyConfig::default()
        }),
        ..AuthConfig::default()
    };
    assert!(matches!(
        pair.keys(),
        Err(ConfigError::BadKey {
            reason: KeyError::KeyMismatch,
            ..
        })
    ));
    // Both a file and inline PEM, or neither.
    let both = AuthConfig {
        signing_key: Some(SigningKeyConfig {
            algorithm: Algorithm::EdDSA,
            private_key_pem: Some(fixture("ed25519-a.key")),
            private_key_file: Some(fixture_path("ed25519-a.key").into()),
            ..SigningKeyConfig::default()
        }),
        ..AuthConfig::default()
    };
    assert!(matches!(both.keys(), Err(ConfigError::KeySource { .. })));
    let neither = from_toml(r#"auth_verification_keys = [ { algorithm = "EdDSA" } ]"#);
    assert!(matches!(
        neither.verification_keys(),
        Err(ConfigError::KeySource { setting, .. }) if setting == "auth_verification_keys[0]"
    ));
    // An unknown field is a typo, not silently ignored.
    let figment = Figment::new().merge(Toml::string(
        r#"auth_signing_key = { algorithm = "EdDSA", private_key = "x" }"#,
    ));
    assert!(matches!(
        AuthConfig::from_figment(&figment),
        Err(ConfigError::Invalid(_))
    ));
}

#[test]
fn verification_keys_are_read_and_kids_must_differ() {
    let config = from_toml(&format!(
        r#"
        auth_secret = "0123456789abcdef0123456789abcdef"
        auth_verification_keys = [
            {{ kid = "ed-old", algorithm = "EdDSA", public_key_file = "{}" }},
            {{ kid = "rsa-old", algorithm = "RS256", public_key_pem = """{}""" }},
            {{ algorithm = "HS256", secret = "an-older-secret-an-older-secret!" }},
        ]
        "#,
        fixture_path("ed25519-b.pub"),
        fixture("rsa-2048.pub"),
    ));
    let set = config.verification_keys().unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(set.get("rsa-old").unwrap().algorithm(), Algorithm::RS256);
    let tokens = config.access_tokens(None).unwrap();
    assert_eq!(tokens.jwks().keys.len(), 2);

    let duplicate = from_toml(
        r#"
        auth_verification_keys = [
            { kid = "same", algorithm = "HS256", secret = "an-older-secret-an-older-secret!" },
            { kid = "same", algorithm = "HS512", secret = "another-old-secret-another-old-s" },
        ]
        "#,
    );
    assert_eq!(
        duplicate.verification_keys().unwrap_err(),
        ConfigError::DuplicateKid { kid: "same".into() }
    );
    let clash = from_toml(
        r#"
        auth_secret = "0123456789abcdef0123456789abcdef"
        auth_key_id = "same"
        auth_verification_keys = [
            { kid = "same", algorithm = "HS256", secret = "an-older-secret-an-older-secret!" },
        ]
        "#,
    );
    assert!(matches!(
        clash.access_tokens(None),
        Err(ConfigError::DuplicateKid { .. })
    ));
    // A public key under an HMAC algorithm, a secret under EdDSA.
    let wrong = from_toml(&format!(
        r#"auth_verification_keys = [ {{ algorithm = "HS256", public_key_file = "{}" }} ]"#,
        fixture_path("ed25519-b.pub")
    ));
    assert!(matches!(
        wrong.verification_keys(),
        Err(ConfigError::BadKey {
            reason: KeyError::WrongAlgorithm { .. },
            ..
        })
    ));
    let wrong = from_toml(
        r#"auth_verification_keys = [ { algorithm = "EdDSA", secret = "an-older-secret-an-older-secret!" } ]"#,
    );
    assert!(matches!(
        wrong.verification_keys(),
        Err(ConfigError::BadKey {
            reason: KeyError::WrongAlgorithm { .. },
            ..
        })
    ));
}

#[test]
fn a_signing_key_keeps_the_secret_as_a_verification_key() {
    let config = from_toml(&format!(
        r#"
        auth_secret = "0123456789abcdef0123456789abcdef"
        auth_signing_key = {{ algorithm = "EdDSA", private_key_file = "{}" }}
        "#,
        fixture_path("ed25519-a.key")
    ));
    let old = AccessTokens::new(
        TokenKeys::hs256(b"0123456789abcdef0123456789abcdef").unwrap(),
        "auth-core",
        "api",
    );
    let token = old
        .issue("alice", "c", &crate::Scopes::default())
        .unwrap()
        .token;
    let tokens = config.access_tokens(None).unwrap();
    assert_eq!(tokens.keys_algorithm(), Some(Algorithm::EdDSA));
    assert_eq!(tokens.verify(&token).unwrap().sub, "alice");
    // Only the Ed25519 key is published.
    assert_eq!(tokens.jwks().keys.len(), 1);
}

#[test]
fn debug_hides_inline_private_keys_and_secrets() {
    let config = AuthConfig {
        signing_key: Some(SigningKeyConfig {
            algorithm: Algorithm::EdDSA,
            private_key_pem: Some(fixture("ed25519-a.key")),
            ..SigningKeyConfig::default()
        }),
        verification_keys: vec![VerificationKeyConfig {
            algorithm: Algorithm::HS256,
            secret: Some("an-older-secret-an-older-secret!".into()),
            ..VerificationKeyConfig::default()
        }],
        ..AuthConfig::default()
    };
    let debug = format!("{config:?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    assert!(!debug.contains("an-older-secret"), "{debug}");
}

#[test]
fn debug_builds_generate_a_secret() {
    // Unit tests run with debug assertions.
    assert!(AuthConfig::default().keys().is_ok());
}
