//! Launch-time configuration of the auth fairing.

use auth_core::Auth;
use rocket::error::ErrorKind;
use rocket::local::asynchronous::Client;
use rocket::routes;

use super::app::{Counters, config, maybe, me, read, write};

/// Rocket's launch error panics if dropped unread; read its kind.
fn assert_fairing_failed<P: rocket::Phase>(result: Result<rocket::Rocket<P>, rocket::Error>) {
    match result {
        Ok(_) => panic!("launch should have been refused"),
        Err(e) => assert!(matches!(e.kind(), ErrorKind::FailedFairings(_)), "{e:?}"),
    }
}

#[rocket::async_test]
async fn weak_secret_refuses_to_launch() {
    let mut config = config();
    config.secret = Some("too-short".to_owned());
    let rocket = rocket::build().attach(Auth::fairing().config(config));
    assert_fairing_failed(rocket.ignite().await);
}

#[rocket::async_test]
async fn secret_is_read_from_rocket_configuration() {
    let figment = rocket::Config::figment()
        .merge(("auth_secret", "figment-secret-0123456789-abcdefghijkl"))
        .merge(("auth_access_ttl", 60));
    let rocket = rocket::custom(figment).attach(Auth::fairing());
    let rocket = rocket.ignite().await.expect("ignites");
    let auth = rocket.state::<Auth>().unwrap();
    assert_eq!(auth.tokens().ttl(), 60);
    let figment_short = rocket::Config::figment().merge(("auth_secret", "short"));
    assert_fairing_failed(
        rocket::custom(figment_short)
            .attach(Auth::fairing())
            .ignite()
            .await,
    );
}

#[rocket::async_test]
async fn guards_without_the_fairing_stop_the_launch() {
    for rocket in [
        rocket::build().mount("/", routes![me]),
        rocket::build().mount("/", routes![maybe]),
        rocket::build()
            .manage(Counters::default())
            .mount("/", routes![read]),
    ] {
        let error = Client::tracked(rocket).await.expect_err("launch refused");
        assert!(
            matches!(error.kind(), ErrorKind::SentinelAborts(_)),
            "{error:?}"
        );
    }
}

#[rocket::async_test]
async fn an_undeclared_scope_stops_the_launch() {
    let fairing = Auth::fairing()
        .config(config())
        .scope("read", "Read")
        .scope("writ", "A typo of write");
    let rocket = rocket::build()
        .attach(fairing)
        .manage(Counters::default())
        .mount("/", routes![read, write]);
    let error = Client::tracked(rocket).await.expect_err("launch refused");
    let ErrorKind::SentinelAborts(sentries) = error.kind() else {
        panic!("{error:?}");
    };
    // Only `write` requires a scope ("write") nobody declared.
    assert_eq!(sentries.len(), 1, "{sentries:?}");
    assert!(sentries[0].type_name.contains("__auth_scopes_write"));
}
