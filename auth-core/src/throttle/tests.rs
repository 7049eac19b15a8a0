use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::*;

const ADDR: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));

#[expect(
    clippy::unnecessary_wraps,
    reason = "the throttle takes an optional address"
)]
fn v4(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)))
}

fn throttle() -> Throttle {
    Throttle::new(true, 3, Duration::from_secs(60))
}

/// Counts a failure: reserves and never gives the attempt back.
fn fail(t: &Throttle, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
    t.reserve_at(user, address, now).map(drop)
}

/// Logs in with the right password: reserves, then gives it back.
fn log_in(t: &Throttle, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
    let attempt = t.reserve_at(user, address, now)?;
    t.succeeded_at(&attempt, now);
    Ok(())
}

#[test]
fn free_attempts_then_doubling_delays_up_to_the_maximum() {
    let t = throttle();
    let now = Instant::now();
    for _ in 0..4 {
        assert_eq!(
            fail(&t, "bob", None, now),
            Ok(()),
            "three free, a fourth checked"
        );
    }
    let mut seen = Vec::new();
    let mut at = now;
    for _ in 0..9u32 {
        let wait = fail(&t, "bob", None, at).unwrap_err();
        seen.push(wait);
        at += Duration::from_secs(wait);
        assert_eq!(
            fail(&t, "bob", None, at),
            Ok(()),
            "free again after the wait"
        );
    }
    assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
}

#[test]
fn a_burst_gets_no_more_checks_than_a_sequence() {
    // The reservation is taken before the hash: 64 attempts in flight at
    // once (none answered yet) are admitted exactly as a sequence is.
    let t = throttle();
    let now = Instant::now();
    let in_flight: Vec<Attempt> = (0..64)
        .filter_map(|i| t.reserve_at("bob", v4(i), now).ok())
        .collect();
    assert_eq!(
        in_flight.len(),
        4,
        "three free and the one that starts the delay"
    );
}

#[test]
fn a_right_password_gives_its_reservation_back() {
    let t = throttle();
    let now = Instant::now();
    for _ in 0..2 {
        fail(&t, "bob", ADDR, now).unwrap();
    }
    for _ in 0..5 {
        log_in(&t, "bob", ADDR, now).unwrap();
    }
    // Still two failures of three: a third and a fourth are checked.
    fail(&t, "bob", v4(9), now).unwrap();
    fail(&t, "bob", v4(9), now).unwrap();
    assert!(fail(&t, "bob", v4(9), now).is_err());
}

#[test]
fn a_known_address_is_not_kept_out_by_failures_elsewhere() {
    let t = throttle();
    let now = Instant::now();
    log_in(&t, "victim", ADDR, now).unwrap();
    // An attacker with twelve other addresses, again and again.
    let mut at = now;
    for round in 0..50 {
        for i in 0..12 {
            let _ = fail(&t, "victim", v4(i), at);
        }
        assert_eq!(log_in(&t, "victim", ADDR, at), Ok(()), "round {round}");
        at += Duration::from_secs(7);
    }
    // A caller on a new address waits, but never longer than the maximum.
    let wait = fail(&t, "victim", v4(200), at).unwrap_err();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[test]
fn a_known_address_still_has_its_own_hard_limit() {
    let t = throttle();
    let now = Instant::now();
    log_in(&t, "bob", ADDR, now).unwrap();
    for _ in 0..4 {
        fail(&t, "bob", ADDR, now).unwrap();
    }
    assert_eq!(log_in(&t, "bob", ADDR, now), Err(1));
}

#[test]
fn guesses_per_username_stay_bounded_across_addresses() {
    let t = throttle();
    let start = Instant::now();
    let mut admitted = 0;
    // One guess a second for an hour, each from a fresh address.
    for s in 0..3600u64 {
        let address = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + u32::try_from(s).unwrap()));
        if fail(&t, "bob", Some(address), start + Duration::from_secs(s)).is_ok() {
            admitted += 1;
        }
    }
    // Four, six while the delay doubles up to 60 s, then one per 60 s.
    assert!(admitted <= 4 + 6 + 3600 / 60, "{admitted}");
    assert!(
        admitted >= 3600 / 60,
        "a bounded delay, not a lockout: {admitted}"
    );
}

#[test]
fn ipv6_counts_per_64() {
    let t = throttle();
    let now = Instant::now();
    let in_64 = |last: u16| {
        Some(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 1, 2, 0, 0, 0, last,
        )))
    };
    for i in 0..4 {
        fail(&t, "bob", in_64(i), now).unwrap();
    }
    // The same /64, a new interface identifier: the same counter.
    log_in(&t, "bob", in_64(99), now + Duration::from_secs(1)).unwrap();
    assert!(
        t.table
            .lock()
            .unwrap()
            .is_known("bob", address_key(in_64(4).unwrap()))
    );
    let other = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
    assert!(!t.table.lock().unwrap().is_known("bob", address_key(other)));
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
    assert_eq!(address_key(mapped), ADDR.unwrap());
}

#[test]
fn an_address_is_throttled_across_usernames() {
    let t = Throttle::new(true, 2, Duration::from_secs(60));
    let now = Instant::now();
    for i in 0..8 {
        fail(&t, &format!("user{i}"), ADDR, now).unwrap();
    }
    fail(&t, "user8", ADDR, now).unwrap();
    assert_eq!(fail(&t, "someone", ADDR, now), Err(1));
    assert_eq!(fail(&t, "someone", None, now), Ok(()));
}

#[test]
fn old_failures_are_forgotten() {
    let t = Throttle::new(true, 1, Duration::from_secs(10));
    let now = Instant::now();
    fail(&t, "bob", None, now).unwrap();
    fail(&t, "bob", None, now).unwrap();
    assert!(fail(&t, "bob", None, now).is_err());
    let later = now + Duration::from_secs(16 * 60);
    fail(&t, "bob", None, later).unwrap();
    fail(&t, "bob", None, later).unwrap();
    assert!(fail(&t, "bob", None, later).is_err(), "count started over");
}

#[test]
fn rotating_usernames_and_addresses_does_not_reset_a_victim() {
    let t = Throttle::with_capacity(true, 3, Duration::from_secs(60), 100);
    let now = Instant::now();
    for i in 0..3 {
        fail(&t, "victim", v4(i), now).unwrap();
    }
    for i in 0..1000u32 {
        let address = Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
        let _ = fail(
            &t,
            &format!("u{i}"),
            address,
            now + Duration::from_millis(1),
        );
        assert!(t.len() <= 101, "bounded: {}", t.len());
    }
    // Three failures are still counted: one more is checked, then a delay.
    let at = now + Duration::from_secs(2);
    fail(&t, "victim", v4(50), at).unwrap();
    assert_eq!(fail(&t, "victim", v4(51), at), Err(1));
    // Idle counters are dropped once they would be forgotten anyway.
    let much_later = now + Duration::from_secs(3600);
    fail(&t, "newcomer", v4(52), much_later).unwrap();
    assert!(t.len() <= 101);
}

#[test]
fn disabled_throttle_never_refuses() {
    let t = Throttle::new(false, 1, Duration::from_secs(60));
    let now = Instant::now();
    for _ in 0..50 {
        fail(&t, "bob", ADDR, now).unwrap();
    }
    assert!(fail(&t, "bob", ADDR, now).is_ok());
    assert_eq!(t.len(), 0);
}

#[test]
fn long_usernames_share_a_bounded_key() {
    let t = Throttle::new(true, 1, Duration::from_secs(60));
    let now = Instant::now();
    let long = "é".repeat(10_000);
    fail(&t, &long, None, now).unwrap();
    fail(&t, &long, None, now).unwrap();
    assert!(fail(&t, &"é".repeat(MAX_KEY_LEN / 2), None, now).is_err());
}

/// Sixteen logins at once, each answered after a simulated hash: `right`
/// says whether the password was right. The checked ones and the refusals.
async fn concurrent_logins(right: bool) -> (usize, Vec<u64>) {
    use rocket::futures::future::join_all;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let t = Arc::new(throttle());
    let checked = Arc::new(AtomicUsize::new(0));
    let logins = (0..16).map(|_| {
        let (t, checked) = (Arc::clone(&t), Arc::clone(&checked));
        async move {
            let attempt = t.reserve("bob", ADDR).await?;
            rocket::tokio::time::sleep(Duration::from_millis(20)).await;
            checked.fetch_add(1, Ordering::SeqCst);
            if right {
                t.succeeded(attempt).await;
            }
            Ok::<(), u64>(())
        }
    });
    let refused = join_all(logins)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    (checked.load(Ordering::SeqCst), refused)
}

#[rocket::async_test]
async fn a_burst_of_right_passwords_waits_for_the_answers_instead_of_being_refused() {
    let (checked, refused) = concurrent_logins(true).await;
    assert_eq!(refused, [0u64; 0], "none refused");
    assert_eq!(checked, 16);
}

#[rocket::async_test]
async fn a_burst_of_wrong_passwords_that_waited_is_refused_once_they_fail() {
    let (checked, refused) = concurrent_logins(false).await;
    assert_eq!(checked, 4, "three free and the one that starts the delay");
    assert_eq!(refused.len(), 12);
    assert!(refused.iter().all(|&s| s >= 1), "{refused:?}");
}
