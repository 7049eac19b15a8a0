//! Many simultaneous writes and logins against one database file, from two
//! app instances (as two processes would be): every success is stored,
//! nothing fails with a 500 or "database is locked".

use std::collections::BTreeSet;

use rocket::futures::future::{join, join_all};
use rocket::http::Status;

use super::support::{App, TestDb};

const ITEMS: usize = 64;
const LOGINS: usize = 16;

#[rocket::async_test]
async fn simultaneous_item_posts_and_logins_are_all_served_and_stored() {
    let db = TestDb::new();
    let first = App::on(&db).await;
    let second = App::on(&db).await;
    let apps = [&first, &second];
    let john = first.login("johndoe", "secret").await;

    let posts = (0..ITEMS).map(|i| {
        let app = apps[i % 2];
        let body = format!(r#"{{"name": "item {i}"}}"#);
        let token = john.access.clone();
        async move { app.post_json("/items", Some(&token), &body).await }
    });
    let logins = (0..LOGINS).map(|i| {
        let app = apps[i % 2];
        async move {
            app.token(&[("username", "admin"), ("password", "adminpass")])
                .await
        }
    });
    let (posted, logged_in) = join(join_all(posts), join_all(logins)).await;

    let mut ids = BTreeSet::new();
    for reply in &posted {
        assert_eq!(reply.status, Status::Created, "{}", reply.text);
        assert!(ids.insert(reply.json["id"].as_i64().expect("an id")));
    }
    for reply in &logged_in {
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    }
    let refresh_tokens: BTreeSet<&str> = logged_in
        .iter()
        .map(|reply| reply.json["refresh_token"].as_str().unwrap())
        .collect();
    assert_eq!(
        refresh_tokens.len(),
        LOGINS,
        "every login got its own token"
    );

    let stored: BTreeSet<String> = second.item_names().await.into_iter().collect();
    let expected: BTreeSet<String> = (0..ITEMS).map(|i| format!("item {i}")).collect();
    assert_eq!(stored, expected);
    assert_eq!(first.item_names().await.len(), ITEMS);
}

#[rocket::async_test]
async fn concurrent_refreshes_of_one_token_let_exactly_one_through() {
    let db = TestDb::new();
    let first = App::on(&db).await;
    let second = App::on(&db).await;
    let john = first.login("johndoe", "secret").await;
    let replies = join_all((0..8).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        let token = john.refresh.clone();
        async move { app.refresh(&token).await }
    }))
    .await;
    let ok = replies.iter().filter(|r| r.status == Status::Ok).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != Status::Ok) {
        assert_eq!(reply.status, Status::BadRequest, "{}", reply.text);
        assert_eq!(reply.error(), "invalid_grant");
    }
}
