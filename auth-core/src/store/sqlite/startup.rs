//! Retrying what can collide when several processes start on one new
//! database file at once.

use std::future::Future;
use std::time::Duration;

/// Tries for [`super::open`] and [`super::migrate`], which can collide with
/// another process starting on the same new database file (0.7 s of waiting
/// in all).
const STARTUP_ATTEMPTS: u32 = 8;

/// Runs `step` until it succeeds, fails with an error `transient` does not
/// accept, or has failed [`STARTUP_ATTEMPTS`] times; waits a little longer
/// after each failure.
pub(super) async fn retry<T, E, Fut>(
    mut step: impl FnMut() -> Fut,
    transient: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match step().await {
            Err(error) if attempt < STARTUP_ATTEMPTS && transient(&error) => {
                let pause = Duration::from_millis(25 * u64::from(attempt));
                rocket::tokio::time::sleep(pause).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}
