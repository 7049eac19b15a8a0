//! Tests of hashing, verification, rehash detection and admission control.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

/// Cheap parameters keep the suite fast; the logic is the same.
fn fast() -> PasswordHasher {
    PasswordHasher::with_params(256, 1, 1).unwrap()
}

#[test]
fn argon2id_roundtrip_with_owasp_defaults() {
    let hasher = PasswordHasher::new();
    let hash = hasher.hash_blocking("s3cret").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert_eq!(
        hasher.verify_blocking("s3cret", &hash).unwrap(),
        Verification::Match {
            needs_rehash: false
        }
    );
    assert_eq!(
        hasher.verify_blocking("S3cret", &hash).unwrap(),
        Verification::Mismatch
    );
}

#[test]
fn owasp_params_are_what_new_uses() {
    let (m, t, p) = PasswordHasher::OWASP_PARAMS;
    let hasher = PasswordHasher::new();
    assert_eq!(
        (
            hasher.params.m_cost(),
            hasher.params.t_cost(),
            hasher.params.p_cost()
        ),
        (m, t, p)
    );
}

#[test]
fn salts_differ() {
    let hasher = fast();
    assert_ne!(
        hasher.hash_blocking("x").unwrap(),
        hasher.hash_blocking("x").unwrap()
    );
}

#[test]
fn bcrypt_hashes_verify_and_need_rehash() {
    let hasher = fast();
    let hash = bcrypt::hash("secret", 4).unwrap();
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        let variant = format!("{prefix}{}", &hash[4..]);
        assert_eq!(
            hasher.verify_blocking("secret", &variant).unwrap(),
            Verification::Match { needs_rehash: true },
            "{prefix}"
        );
        assert_eq!(
            hasher.verify_blocking("nope", &variant).unwrap(),
            Verification::Mismatch
        );
    }
}

#[test]
fn weaker_argon2_parameters_need_rehash() {
    let old = fast().hash_blocking("pw").unwrap();
    let current = PasswordHasher::with_params(512, 1, 1).unwrap();
    assert_eq!(
        current.verify_blocking("pw", &old).unwrap(),
        Verification::Match { needs_rehash: true }
    );
    let fresh = current.hash_blocking("pw").unwrap();
    assert!(!current.needs_rehash(&fresh));
    assert!(current.needs_rehash("not a hash"));
}

#[test]
fn argon2i_hashes_verify_but_need_rehash() {
    let salt = SaltString::generate(&mut OsRng);
    let argon2i = Argon2::new(
        Algorithm::Argon2i,
        Version::V0x13,
        Params::new(256, 1, 1, None).unwrap(),
    );
    let hash = argon2i.hash_password(b"pw", &salt).unwrap().to_string();
    let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
    assert_eq!(
        hasher.verify_blocking("pw", &hash).unwrap(),
        Verification::Match { needs_rehash: true }
    );
}

#[test]
fn length_limits_and_bad_hashes_are_errors_not_panics() {
    let hasher = fast();
    let long = "x".repeat(MAX_PASSWORD_LEN + 1);
    assert_eq!(
        hasher.hash_blocking(&long),
        Err(PasswordError::TooLong {
            max: MAX_PASSWORD_LEN
        })
    );
    assert_eq!(hasher.hash_blocking(""), Err(PasswordError::Empty));
    let hash = hasher.hash_blocking("ok").unwrap();
    assert!(matches!(
        hasher.verify_blocking(&long, &hash),
        Err(PasswordError::TooLong { .. })
    ));
    for bad in [
        "",
        "plain",
        "$2b$",
        "$pbkdf2$x",
        "$argon2id$v=19$m=1,t=1,p=1$$",
    ] {
        assert!(hasher.verify_blocking("pw", bad).is_err(), "{bad:?}");
    }
    // Exactly at the limit is fine.
    let max = "y".repeat(MAX_PASSWORD_LEN);
    let hash = hasher.hash_blocking(&max).unwrap();
    assert!(matches!(
        hasher.verify_blocking(&max, &hash),
        Ok(Verification::Match { .. })
    ));
}

#[rocket::async_test]
async fn async_api_runs_on_the_hashing_threads() {
    let hasher = fast();
    let hash = hasher.hash("pw").await.unwrap();
    assert!(matches!(
        hasher.verify("pw", &hash).await,
        Ok(Verification::Match { .. })
    ));
    assert_eq!(hasher.verify("no", &hash).await, Ok(Verification::Mismatch));
    assert!(hasher.dummy.get().is_none());
    hasher.verify_dummy("anything").await.unwrap();
    let dummy = hasher.dummy.get().cloned().unwrap();
    hasher.prepare().await.unwrap();
    assert_eq!(hasher.dummy.get(), Some(&dummy), "made once");
}

/// Where and at which priority `hasher`'s hashing threads run a job.
async fn thread_of(hasher: &PasswordHasher) -> (String, i32) {
    let (tx, rx) = oneshot::channel();
    hasher.admission.run(Box::new(move || {
        let name = std::thread::current().name().unwrap_or("").to_owned();
        #[cfg(target_os = "linux")]
        let nice = workers::current_nice();
        #[cfg(not(target_os = "linux"))]
        let nice = 0;
        let _ = tx.send((name, nice));
    }));
    rx.await.unwrap()
}

#[cfg(target_os = "linux")]
#[rocket::async_test]
async fn hashing_threads_run_below_the_process_priority() {
    let here = workers::current_nice();
    assert_eq!(fast().nice(), DEFAULT_NICE);
    for steps in [0_u8, DEFAULT_NICE, 19] {
        let hasher = fast().with_nice(steps).with_admission(2, 4);
        assert_eq!(hasher.nice(), steps, "with_admission keeps the nice value");
        let (name, nice) = thread_of(&hasher).await;
        assert!(name.starts_with("auth-hash-"), "{name}");
        assert_eq!(nice, (here + i32::from(steps)).min(19), "steps {steps}");
    }
}

#[rocket::async_test]
async fn a_panicking_job_does_not_take_its_thread_along() {
    let hasher = fast().with_admission(1, 0);
    let (tx, rx) = oneshot::channel::<()>();
    hasher.admission.run(Box::new(move || {
        let _keep = tx;
        panic!("a job that fails");
    }));
    assert!(rx.await.is_err(), "the job's result is lost");
    let (name, _) = thread_of(&hasher).await;
    assert_eq!(name, "auth-hash-0", "the only thread still runs jobs");
    let hash = hasher.hash("pw").await.unwrap();
    assert!(matches!(
        hasher.verify("pw", &hash).await,
        Ok(Verification::Match { .. })
    ));
}

#[rocket::async_test]
async fn a_full_queue_is_refused_at_once() {
    let hasher = fast().with_admission(1, 1);
    assert_eq!((hasher.concurrency(), hasher.queue()), (1, 1));
    // Hold the only permit, then fill the one queue place.
    let held = hasher.admission.admit().await.unwrap();
    let waiter = {
        let hasher = hasher.clone();
        rocket::tokio::spawn(async move { hasher.hash("queued").await })
    };
    while hasher.admission.waiting.load(Ordering::SeqCst) == 0 {
        rocket::tokio::task::yield_now().await;
    }
    assert_eq!(hasher.hash("third").await, Err(PasswordError::Busy));
    assert_eq!(hasher.verify_dummy("third").await, Err(PasswordError::Busy));
    drop(held);
    assert!(waiter.await.unwrap().is_ok(), "the queued hash runs");
    assert!(hasher.hash("later").await.is_ok());
}

#[rocket::async_test]
async fn a_dropped_waiter_leaves_the_queue_without_hashing() {
    let hasher = fast().with_admission(1, 1);
    let held = hasher.admission.admit().await.unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let hasher = hasher.clone();
        let ran = Arc::clone(&ran);
        rocket::tokio::spawn(async move {
            hasher
                .run_blocking(move |_| {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
        })
    };
    while hasher.admission.waiting.load(Ordering::SeqCst) == 0 {
        rocket::tokio::task::yield_now().await;
    }
    waiter.abort();
    assert!(waiter.await.unwrap_err().is_cancelled());
    assert_eq!(hasher.admission.waiting.load(Ordering::SeqCst), 0);
    drop(held);
    // The permit is free again and the aborted work never ran.
    hasher.hash("x").await.unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn work_areas_are_pooled_one_per_permit() {
    let hasher = fast().with_admission(2, 0);
    std::thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| hasher.hash_blocking("pw").unwrap());
        }
    });
    let pooled = hasher.admission.areas.sizes().len();
    assert!((1..=2).contains(&pooled), "{pooled}");
    // A stored hash with more memory than ours verifies in a temporary
    // area, which is not pooled.
    let big = PasswordHasher::with_params(512, 1, 1).unwrap();
    let hash = big.hash_blocking("pw").unwrap();
    assert!(matches!(
        hasher.verify_blocking("pw", &hash),
        Ok(Verification::Match { needs_rehash: true })
    ));
    let sizes = hasher.admission.areas.sizes();
    assert!(sizes.iter().all(|&blocks| blocks == 256), "{sizes:?}");
}

#[rocket::async_test]
async fn idle_hashing_threads_give_the_work_memory_back() {
    let hasher = fast();
    let hash = hasher.hash("pw").await.unwrap();
    assert_eq!(hasher.admission.areas.sizes(), [256], "pooled after a hash");
    let started = std::time::Instant::now();
    while !hasher.admission.areas.sizes().is_empty() {
        assert!(
            started.elapsed() < area::AREA_IDLE * 5,
            "still pooled after {:?}",
            started.elapsed()
        );
        rocket::tokio::time::sleep(workers::IDLE_CHECK / 5).await;
    }
    assert!(
        started.elapsed() >= area::AREA_IDLE / 2,
        "not before it was idle"
    );
    assert!(matches!(
        hasher.verify("pw", &hash).await,
        Ok(Verification::Match { .. })
    ));
}

#[test]
fn hashes_match_the_argon2_crate() {
    let hasher = fast();
    let ours = hasher.hash_blocking("pw").unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    Argon2::default().verify_password(b"pw", &parsed).unwrap();
    let salt = SaltString::generate(&mut OsRng);
    let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, hasher.params.clone())
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
    assert!(matches!(
        hasher.verify_blocking("pw", &theirs),
        Ok(Verification::Match {
            needs_rehash: false
        })
    ));
    assert_eq!(
        hasher.verify_blocking("pX", &theirs),
        Ok(Verification::Mismatch)
    );
}
