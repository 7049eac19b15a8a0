//! Memory after login floods: argon2's work areas are pooled, one per
//! hashing permit, so the resident set after any number of floods stays
//! within base + permits x argon2 memory + a margin, and does not grow from
//! one flood to the next; once hashing is idle the areas go back to the OS. Linux only (reads `/proc/self/status`); a binary
//! of its own, so no other test allocates alongside.

#![cfg(target_os = "linux")]

use auth_core::{PasswordHasher, Verification};

const MIB: u64 = 1024 * 1024;

fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

#[test]
fn login_floods_do_not_grow_memory() {
    const PERMITS: usize = 2;
    const FLOOD: usize = 24;
    let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .unwrap();
    let hasher = PasswordHasher::new().with_admission(PERMITS, FLOOD);
    let hash = hasher.hash_blocking("right").unwrap();
    let area = u64::from(PasswordHasher::OWASP_PARAMS.0) * 1024;
    let base = resident();
    let mut after = Vec::new();
    for _ in 0..5 {
        runtime.block_on(async {
            let tasks: Vec<_> = (0..FLOOD)
                .map(|_| {
                    let hasher = hasher.clone();
                    let hash = hash.clone();
                    rocket::tokio::spawn(async move { hasher.verify("wrong", &hash).await })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap(), Ok(Verification::Mismatch));
            }
        });
        after.push(resident());
    }
    let bound = base + PERMITS as u64 * area + 16 * MIB;
    let shown: Vec<u64> = after.iter().map(|rss| rss / MIB).collect();
    eprintln!(
        "resident: base {} MiB, after each flood {shown:?} MiB",
        base / MIB
    );
    assert!(
        after.iter().all(|&rss| rss <= bound),
        "base {} MiB, bound {} MiB, after each flood {shown:?} MiB",
        base / MIB,
        bound / MIB
    );
    assert!(
        after[4] <= after[1] + 4 * MIB,
        "grew from flood 2 to flood 5: {shown:?} MiB"
    );
    // `base` holds the area pooled by the first hash; idle, none is kept.
    let started = std::time::Instant::now();
    let idle = loop {
        let rss = resident();
        if rss + area / 2 <= base || started.elapsed() > std::time::Duration::from_secs(10) {
            break rss;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        idle + area / 2 <= base,
        "idle for {:?}: {} MiB resident, base with one pooled area {} MiB",
        started.elapsed(),
        idle / MIB,
        base / MIB
    );
}
