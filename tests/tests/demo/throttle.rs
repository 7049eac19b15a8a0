//! Throttling of the password grant over HTTP (contract §9): a burst gets
//! no more checks than a sequence, nobody can keep a user out of an
//! address it logged in from, the counted address is the socket's peer
//! (IPv6 per /64) unless a proxy header is trusted, and filling the table
//! does not reset a victim's counter.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rocket::futures::future::join_all;
use rocket::http::{ContentType, Header, Status};

use super::support::{App, Reply, TestDb, figment, form, send};

fn v4(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
}

/// `POST /token` for `username` with `password`, from `address`, with
/// extra headers.
async fn attempt(
    app: &App,
    username: &str,
    password: &str,
    address: IpAddr,
    headers: &[(&'static str, String)],
) -> Reply {
    let mut request = app
        .client
        .post("/token")
        .remote(SocketAddr::new(address, 40_000))
        .header(ContentType::Form)
        .body(form(&[("username", username), ("password", password)]));
    for (name, value) in headers {
        request = request.header(Header::new(*name, value.clone()));
    }
    send(request).await
}

fn count(replies: &[Reply], status: Status) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

#[rocket::async_test]
async fn a_burst_of_guesses_gets_no_more_checks_than_a_sequence() {
    let sequence = App::new().await;
    let mut in_order = Vec::new();
    for i in 0..64 {
        in_order.push(attempt(&sequence, "johndoe", "wrong", v4(i), &[]).await);
    }
    let burst = App::new().await;
    let at_once = join_all((0..64).map(|i| attempt(&burst, "johndoe", "wrong", v4(i), &[]))).await;

    let checked = count(&in_order, Status::BadRequest);
    assert_eq!(
        checked, 6,
        "five free failures and the one that starts the delay"
    );
    assert!(
        count(&at_once, Status::BadRequest) <= checked,
        "a burst got {} checks, a sequence {checked}",
        count(&at_once, Status::BadRequest)
    );
    assert_eq!(count(&at_once, Status::TooManyRequests), 64 - checked);
}

#[rocket::async_test]
async fn failures_elsewhere_never_refuse_the_right_password_from_a_known_address() {
    let app = App::new().await;
    let home = v4(1_000);
    let reply = attempt(&app, "johndoe", "secret", home, &[]).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    for round in 0..3 {
        for i in 0..12 {
            attempt(&app, "johndoe", "wrong", v4(i), &[]).await;
        }
        let reply = attempt(&app, "johndoe", "secret", home, &[]).await;
        assert_eq!(reply.status, Status::Ok, "round {round}: {}", reply.text);
    }
    // A caller on a new address waits, but at most the maximum delay.
    let stranger = attempt(&app, "johndoe", "secret", v4(2_000), &[]).await;
    assert_eq!(
        stranger.status,
        Status::TooManyRequests,
        "{}",
        stranger.text
    );
    let retry_after: u64 = stranger.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
}

/// 21 wrong passwords, each for another username, from one peer that
/// claims a new `X-Real-IP` each time; then whether the 22nd is refused.
async fn spray_with_spoofed_addresses(app: &App) -> Status {
    let peer = v4(7);
    for i in 0..21 {
        let spoofed = format!("192.0.2.{i}");
        let user = format!("nobody{i}");
        let reply = attempt(app, &user, "wrong", peer, &[("X-Real-IP", spoofed)]).await;
        assert_eq!(reply.status, Status::BadRequest, "{}", reply.text);
    }
    let spoofed = ("X-Real-IP", "192.0.2.99".to_owned());
    attempt(app, "nobody99", "wrong", peer, &[spoofed])
        .await
        .status
}

#[rocket::async_test]
async fn a_spoofed_x_real_ip_does_not_change_the_counted_address() {
    // The peer's four times five free failures are spent, whatever it claims.
    let app = App::new().await;
    assert_eq!(
        spray_with_spoofed_addresses(&app).await,
        Status::TooManyRequests
    );

    // Behind a proxy that sets the header, the header is the address.
    let db = TestDb::new();
    let trusting = figment(&db).merge(("auth_trusted_proxy_header", "X-Real-IP"));
    let proxied = App::with(&db, trusting).await;
    assert_eq!(
        spray_with_spoofed_addresses(&proxied).await,
        Status::BadRequest
    );
}

#[rocket::async_test]
async fn ipv6_addresses_in_one_64_share_a_counter() {
    let app = App::new().await;
    let in_64 = |i: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, 7, i, 0, 0, 1));
    for i in 0..21 {
        let reply = attempt(&app, &format!("nobody{i}"), "wrong", in_64(i), &[]).await;
        assert_eq!(reply.status, Status::BadRequest, "{}", reply.text);
    }
    let reply = attempt(&app, "nobody99", "wrong", in_64(99), &[]).await;
    assert_eq!(reply.status, Status::TooManyRequests, "{}", reply.text);
    // The next /64 is another subscriber.
    let next = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, 8, 0, 0, 0, 1));
    let reply = attempt(&app, "nobody99", "wrong", next, &[]).await;
    assert_eq!(reply.status, Status::BadRequest, "{}", reply.text);
}

#[rocket::async_test]
async fn filling_the_table_does_not_reset_a_victims_counter() {
    let db = TestDb::new();
    let small = figment(&db).merge(("auth_throttle_capacity", 100));
    let app = App::with(&db, small).await;
    for i in 0..5 {
        let reply = attempt(&app, "johndoe", "wrong", v4(i), &[]).await;
        assert_eq!(reply.status, Status::BadRequest, "{}", reply.text);
    }
    // Rotated usernames and addresses, far more than the table holds.
    for i in 0..300 {
        attempt(&app, &format!("filler{i}"), "wrong", v4(10_000 + i), &[]).await;
    }
    // The victim's five failures are still counted: a sixth is checked and
    // starts the delay, a seventh waits.
    let sixth = attempt(&app, "johndoe", "wrong", v4(50_000), &[]).await;
    assert_eq!(sixth.status, Status::BadRequest, "{}", sixth.text);
    let seventh = attempt(&app, "johndoe", "wrong", v4(50_001), &[]).await;
    assert_eq!(seventh.status, Status::TooManyRequests, "{}", seventh.text);
}
