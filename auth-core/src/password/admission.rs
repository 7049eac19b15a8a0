//! Admission control for hashing: at most `concurrency` hashes at once, a
//! bounded wait queue, a pool of argon2 work areas (one per permit), and the
//! hashing threads that run admitted work, so a login flood costs bounded
//! CPU and bounded memory, at a lower priority than request handling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::PasswordError;
use super::area::AreaPool;
use super::workers::{Job, Workers};

/// The limit on concurrent hashes, the bounded wait queue, the pool of
/// argon2 work areas (one per permit, freed when idle) and the hashing
/// threads (one per permit, started on first use).
pub(super) struct Admission {
    permits: Arc<Semaphore>,
    pub(super) concurrency: usize,
    pub(super) queue: usize,
    pub(super) nice: u8,
    pub(super) waiting: AtomicUsize,
    pub(super) areas: Arc<AreaPool>,
    workers: OnceLock<Option<Workers>>,
}

impl Admission {
    pub(super) fn new(concurrency: usize, queue: usize, nice: u8) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            queue,
            nice,
            waiting: AtomicUsize::new(0),
            areas: Arc::new(AreaPool::new(concurrency)),
            workers: OnceLock::new(),
        }
    }

    /// Runs `job` on a hashing thread, or, if none could be started, on
    /// the runtime's blocking pool.
    pub(super) fn run(&self, job: Job) {
        let workers = self.workers.get_or_init(|| {
            let areas = Arc::clone(&self.areas);
            Workers::start(self.concurrency, self.nice, move || areas.trim_if_idle())
        });
        let job = match workers {
            Some(workers) => match workers.submit(job) {
                Ok(()) => return,
                Err(job) => job,
            },
            None => job,
        };
        drop(rocket::tokio::task::spawn_blocking(job));
    }

    /// A permit now, or after waiting in the queue, or
    /// [`PasswordError::Busy`] when the queue is full. Cancel-safe: dropping
    /// the future gives up the place in the queue.
    pub(super) async fn admit(&self) -> Result<OwnedSemaphorePermit, PasswordError> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(PasswordError::WorkerLost),
            Err(TryAcquireError::NoPermits) => {}
        }
        let place = Waiting::enter(&self.waiting);
        if place.ahead >= self.queue {
            return Err(PasswordError::Busy);
        }
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::WorkerLost)
    }
}

/// A place in the wait queue, left when dropped.
struct Waiting<'a> {
    count: &'a AtomicUsize,
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        let ahead = count.fetch_add(1, Ordering::SeqCst);
        Self { count, ahead }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}
