//! The threads that hash: a fixed number of dedicated threads, started on
//! first use, at a lower scheduling priority than the request workers.
//!
//! Argon2 keeps a core busy for tens of milliseconds. On the shared blocking
//! pool, at the same priority as the async workers, a login flood takes half
//! of every core away from the requests that only check a bearer token.
//! Here each hashing thread lowers its own priority (a nice value, Linux
//! only), so the scheduler lets request handling run first and hashing takes
//! what is left; admission control still bounds how much hashing waits.
//!
//! While idle, every [`IDLE_CHECK`] a thread runs the pool's idle hook
//! (which gives argon2's pooled work memory back to the OS). The threads end
//! when the last handle to the pool is dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// How often an idle hashing thread runs the idle hook.
pub(super) const IDLE_CHECK: Duration = Duration::from_millis(500);

/// One unit of work for a hashing thread.
pub(super) type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of hashing threads fed through one channel.
pub(super) struct Workers {
    jobs: Mutex<Sender<Job>>,
}

impl Workers {
    /// Starts `count` threads (at least 1), each `nice` steps below the
    /// process's priority (0 keeps it), that run `idle` when no job came for
    /// [`IDLE_CHECK`]. `None` if not one thread started.
    pub(super) fn start(
        count: usize,
        nice: u8,
        idle: impl Fn() + Send + Sync + 'static,
    ) -> Option<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let idle = Arc::new(idle);
        let mut started = 0;
        for n in 0..count.max(1) {
            let queue = Arc::clone(&queue);
            let idle = Arc::clone(&idle);
            let spawned = thread::Builder::new()
                .name(format!("auth-hash-{n}"))
                .spawn(move || {
                    lower_priority(nice);
                    run(&queue, &*idle);
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => log::warn!("auth: could not start a hashing thread: {e}"),
            }
        }
        (started > 0).then(|| Self {
            jobs: Mutex::new(jobs),
        })
    }

    /// Hands `job` to a hashing thread; gives it back if none is left.
    pub(super) fn submit(&self, job: Job) -> Result<(), Job> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(|e| e.0)
    }
}

/// A hashing thread: runs jobs until the pool is dropped. A panicking job
/// loses its result (the caller sees the sender dropped), not the thread.
fn run(queue: &Mutex<Receiver<Job>>, idle: &dyn Fn()) {
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv_timeout(IDLE_CHECK);
        match next {
            Ok(job) => {
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
            Err(RecvTimeoutError::Timeout) => idle(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Lowers the calling thread's scheduling priority by `steps` nice values
/// (at most to 19, the lowest). On Linux a thread id names one thread to
/// `setpriority`; elsewhere it would name the whole process, so there the
/// threads keep the process's priority.
fn lower_priority(steps: u8) {
    if steps == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let tid = Some(rustix::thread::gettid());
        let lowered = getpriority_process(tid)
            .and_then(|now| setpriority_process(tid, (now + i32::from(steps)).min(19)));
        if let Err(e) = lowered {
            log::warn!("auth: could not lower the priority of a hashing thread: {e}");
        }
    }
}

/// The nice value of the calling thread (tests).
#[cfg(all(test, target_os = "linux"))]
pub(super) fn current_nice() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(i32::MIN)
}
