//! Login throttling on two instances of one PostgreSQL database: they share
//! the per-username bound, while each has its own in-memory throttle and
//! pool, as two processes would.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use rocket::futures::future::join_all;

use crate::store::UserStore;
use crate::store::pool_settings::PoolSettings;
use crate::store::postgres::PgStore;
use crate::store::postgres::tests::fresh_database;
use crate::throttle::Throttle;

#[expect(
    clippy::unnecessary_wraps,
    reason = "the throttle takes an optional address"
)]
fn address(i: u32) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)))
}

/// Two throttles with free attempts 5, each on its own pool of `url`.
async fn instances(url: &str) -> [Arc<Throttle>; 2] {
    let mut pair = Vec::new();
    for _ in 0..2 {
        let store = PgStore::connect(url, &PoolSettings::default())
            .await
            .unwrap();
        let throttle =
            Throttle::new(true, 5, Duration::from_secs(300)).with_shared(store.shared_counters());
        pair.push(Arc::new(throttle));
    }
    [Arc::clone(&pair[0]), Arc::clone(&pair[1])]
}

#[rocket::async_test]
async fn two_instances_share_the_bound_per_username() {
    let Some(url) = fresh_database("throttle").await else {
        return;
    };
    let [a, b] = instances(&url).await;
    // A sequence alternating between the instances: five free failures and
    // the one that starts the delay, not twice that.
    let mut admitted = 0;
    for i in 0..24 {
        let instance = if i % 2 == 0 { &a } else { &b };
        if let Ok(attempt) = instance.reserve("victim", address(i)).await {
            drop(attempt);
            admitted += 1;
        }
    }
    assert_eq!(admitted, 6);

    // A burst of 64 at once over both instances gets no more.
    let attempts = (0..64u32).map(|i| {
        let instance = Arc::clone(if i % 2 == 0 { &a } else { &b });
        async move { instance.reserve("burst", address(i)).await.is_ok() }
    });
    let admitted = join_all(attempts)
        .await
        .into_iter()
        .filter(|ok| *ok)
        .count();
    assert!(admitted <= 6, "{admitted} admitted");
}

#[rocket::async_test]
async fn a_known_address_gets_in_on_either_instance_while_strangers_wait() {
    let Some(url) = fresh_database("throttle").await else {
        return;
    };
    let [a, b] = instances(&url).await;
    let home = address(1_000);
    let attempt = a.reserve("victim", home).await.unwrap();
    a.succeeded(attempt).await;
    for i in 0..12 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let _ = instance.reserve("victim", address(i)).await;
    }
    // The instance that saw the login knows the address.
    let attempt = a.reserve("victim", home).await.expect("a known address");
    a.succeeded(attempt).await;
    // The other one does not: the shared delay applies, and it is bounded.
    let wait = b.reserve("victim", home).await.unwrap_err();
    assert!((1..=300).contains(&wait), "{wait}");
}
