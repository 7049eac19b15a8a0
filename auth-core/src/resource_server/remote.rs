//! Keys from another issuer's JWKS URL (RFC 7517), for resource servers:
//! fetched with an HTTP client (ureq, rustls), cached, refreshed when a
//! token names an unknown `kid` (at most once per minimum interval, one
//! fetch at a time) and, optionally, periodically.
//!
//! The HTTP fetch is blocking and runs on Tokio's blocking pool, never on
//! an async worker. Free of Rocket's request types; the fairing wires it in.
//!
//! Behind the cargo feature `remote-jwks`. Used through
//! [`Auth::resource_server`](crate::Auth::resource_server) and the
//! `auth_jwks_*` settings; public here are the size bound and the error
//! type, which the launch log shows.

use std::fmt;
use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, PublicKeyUse};
use rocket::tokio;

/// The largest JWKS document accepted, in bytes. Real sets hold a few keys
/// (a few KiB); anything larger is refused rather than buffered.
pub const MAX_JWKS_BYTES: u64 = 256 * 1024;

/// Why fetching or reading a JWKS failed. The last good keys stay in use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The connection or the transfer failed, or timed out.
    #[error("fetching the JWKS from {url} failed: {reason}")]
    Fetch {
        /// The JWKS URL.
        url: String,
        /// What the HTTP client reported.
        reason: String,
    },
    /// The server answered with a status other than 200.
    #[error("the JWKS URL {url} answered with HTTP status {status}")]
    Status {
        /// The JWKS URL.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The document is larger than [`MAX_JWKS_BYTES`].
    #[error("the JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge {
        /// The JWKS URL.
        url: String,
    },
    /// The document is not a JSON Web Key Set.
    #[error("the document at {url} is not a JSON Web Key Set: {reason}")]
    NotAKeySet {
        /// The JWKS URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The set holds no key this server may use: no public signing key
    /// (symmetric and private keys are always refused).
    #[error("the JWKS at {url} holds no usable public signing key")]
    NoUsableKeys {
        /// The JWKS URL.
        url: String,
    },
    /// The keys could not be installed.
    #[error("the keys from {url} could not be used: {reason}")]
    Install {
        /// The JWKS URL.
        url: String,
        /// Why they were refused.
        reason: String,
    },
}

/// Fetches the raw JWKS document. Blocking: [`RemoteJwks`] calls it on
/// Tokio's blocking pool. [`HttpFetcher`] is the real one; tests inject
/// their own.
pub(crate) trait JwksFetcher: Send + Sync + 'static {
    /// The URL fetched, for messages.
    fn url(&self) -> &str;

    /// The document's bytes (at most [`MAX_JWKS_BYTES`]).
    ///
    /// # Errors
    ///
    /// [`JwksError::Fetch`], [`JwksError::Status`] or
    /// [`JwksError::TooLarge`].
    fn fetch(&self) -> Result<Vec<u8>, JwksError>;
}

/// Fetches a JWKS over HTTP(S) with ureq: one connection attempt bounded by
/// the timeout, the whole transfer bounded by the timeout too, at most
/// [`MAX_JWKS_BYTES`] read, no redirects followed, no cookies, no proxy.
pub(crate) struct HttpFetcher {
    url: String,
    agent: ureq::Agent,
}

impl fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpFetcher")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpFetcher {
    /// A fetcher for `url`, where connecting, and the whole request, may
    /// each take at most `timeout`.
    #[must_use]
    pub(crate) fn new(url: &str, timeout: Duration) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout(timeout)
            .redirects(0)
            .user_agent(concat!("auth-core/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            url: url.to_owned(),
            agent,
        }
    }
}

impl JwksFetcher for HttpFetcher {
    fn url(&self) -> &str {
        &self.url
    }

    fn fetch(&self) -> Result<Vec<u8>, JwksError> {
        let url = || self.url.clone();
        let response = match self
            .agent
            .get(&self.url)
            .set("Accept", "application/jwk-set+json, application/json")
            .call()
        {
            Ok(response) => response,
            Err(ureq::Error::Status(status, _)) => {
                return Err(JwksError::Status { url: url(), status });
            }
            Err(e) => {
                return Err(JwksError::Fetch {
                    url: url(),
                    reason: e.to_string(),
                });
            }
        };
        if response.status() != 200 {
            return Err(JwksError::Status {
                url: url(),
                status: response.status(),
            });
        }
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_JWKS_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| JwksError::Fetch {
                url: url(),
                reason: e.to_string(),
            })?;
        if body.len() as u64 > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge { url: url() });
        }
        Ok(body)
    }
}

/// Reads a JWKS document and keeps only the keys a resource server may
/// trust: public signing keys. Refused, each with a log line: symmetric
/// (`oct`) keys, keys carrying private material, keys marked for
/// encryption (`"use": "enc"`), and keys this library cannot read.
///
/// # Errors
///
/// [`JwksError::NotAKeySet`] if the document is not `{"keys": [...]}`,
/// [`JwksError::NoUsableKeys`] if no key survives.
pub(crate) fn usable_keys(url: &str, document: &[u8]) -> Result<JwkSet, JwksError> {
    #[derive(serde::Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawSet = serde_json::from_slice(document).map_err(|e| JwksError::NotAKeySet {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let mut keys = Vec::new();
    for value in raw.keys {
        let kid = value
            .get("kid")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned();
        if PRIVATE_MEMBERS.iter().any(|m| value.get(m).is_some()) {
            log::error!(
                "auth: the JWKS at {url} publishes private key material (kid {kid:?}); \
                 refusing that key (the issuer should rotate it)"
            );
            continue;
        }
        let jwk: Jwk = match serde_json::from_value(value) {
            Ok(jwk) => jwk,
            Err(e) => {
                log::warn!("auth: ignoring an unreadable key (kid {kid:?}) in {url}: {e}");
                continue;
            }
        };
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            log::error!(
                "auth: the JWKS at {url} publishes a symmetric key (kid {kid:?}); \
                 refusing it: a resource server only trusts public keys"
            );
            continue;
        }
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            log::warn!("auth: ignoring a key not meant for signatures (kid {kid:?}) in {url}");
            continue;
        }
        keys.push(jwk);
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKeys {
            url: url.to_owned(),
        });
    }
    Ok(JwkSet { keys })
}

/// JWK members that only private (or symmetric) keys have (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// Installs a fetched key set (replacing the previous one); returns how many
/// keys are now in use.
pub(crate) type Install = dyn Fn(&JwkSet) -> Result<usize, String> + Send + Sync;

/// The clock, injectable for tests.
type Clock = dyn Fn() -> Instant + Send + Sync;

/// What [`RemoteJwks::refresh_for_unknown_kid`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refreshed {
    /// New keys are installed since the caller looked: verify again.
    Changed,
    /// No new keys: the last fetch was too recent, or it failed.
    Unchanged,
}

/// A JWKS URL's keys, kept current: see the [module docs](self).
///
/// Cloning is cheap (shared state).
#[derive(Clone)]
pub(crate) struct RemoteJwks {
    inner: Arc<Inner>,
}

struct Inner {
    fetcher: Arc<dyn JwksFetcher>,
    install: Arc<Install>,
    min_interval: Duration,
    /// How long a request waits for a fetch in progress.
    max_wait: Duration,
    clock: Arc<Clock>,
    /// Held while fetching: at most one fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct State {
    /// When the last fetch started (successful or not).
    last_attempt: Option<Instant>,
    /// Bumped each time new keys are installed.
    generation: u64,
}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("url", &self.inner.fetcher.url())
            .field("min_interval", &self.inner.min_interval)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

impl RemoteJwks {
    /// Keys from `fetcher`, installed with `install`, fetched at most once
    /// per `min_interval`; a request waits at most `max_wait` for a fetch
    /// in progress.
    pub(crate) fn new(
        fetcher: Arc<dyn JwksFetcher>,
        install: Arc<Install>,
        min_interval: Duration,
        max_wait: Duration,
    ) -> Self {
        Self::with_clock(
            fetcher,
            install,
            min_interval,
            max_wait,
            Arc::new(Instant::now),
        )
    }

    fn with_clock(
        fetcher: Arc<dyn JwksFetcher>,
        install: Arc<Install>,
        min_interval: Duration,
        max_wait: Duration,
        clock: Arc<Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                fetcher,
                install,
                min_interval,
                max_wait,
                clock,
                fetching: tokio::sync::Mutex::new(()),
                state: Mutex::new(State::default()),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// How many fetches were started.
    pub(crate) fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Changes each time new keys are installed. Read it before verifying a
    /// token, and pass it to [`Self::refresh_for_unknown_kid`].
    pub(crate) fn generation(&self) -> u64 {
        self.inner.state().generation
    }

    /// Fetches and installs the keys now, whatever the rate limit (at
    /// launch).
    ///
    /// # Errors
    ///
    /// Any [`JwksError`]; nothing is installed then.
    pub(crate) async fn fetch_now(&self) -> Result<usize, JwksError> {
        let _fetching = self.inner.fetching.lock().await;
        self.inner.fetch_and_install().await
    }

    /// A token named a `kid` that the keys installed at `seen` (a
    /// [`Self::generation`]) do not have: fetches the set again unless a
    /// fetch started less than the minimum interval ago. Concurrent callers
    /// share one fetch: they wait for it (at most the configured wait) and
    /// see its result.
    pub(crate) async fn refresh_for_unknown_kid(&self, seen: u64) -> Refreshed {
        let inner = &self.inner;
        if inner.state().generation != seen {
            return Refreshed::Changed;
        }
        // Cheap refusal when a fetch is neither due nor in progress: a flood
        // of unknown kids costs a lock and a clock read each.
        if !inner.is_due() && inner.fetching.try_lock().is_ok() {
            return Refreshed::Unchanged;
        }
        let Ok(_fetching) = tokio::time::timeout(inner.max_wait, inner.fetching.lock()).await
        else {
            return Refreshed::Unchanged;
        };
        if inner.state().generation != seen {
            return Refreshed::Changed;
        }
        if !inner.is_due() {
            return Refreshed::Unchanged;
        }
        match inner.fetch_and_install().await {
            Ok(_) => Refreshed::Changed,
            Err(e) => {
                log::warn!("auth: keeping the last good keys: {e}");
                Refreshed::Unchanged
            }
        }
    }

    /// Fetches the set again if the minimum interval has passed since the
    /// last fetch; for the periodic refresh.
    async fn refresh_if_due(&self) {
        let inner = &self.inner;
        let _fetching = inner.fetching.lock().await;
        if !inner.is_due() {
            return;
        }
        if let Err(e) = inner.fetch_and_install().await {
            log::warn!("auth: periodic JWKS refresh failed, keeping the last good keys: {e}");
        }
    }

    /// Refreshes every `period` on the current Tokio runtime until every
    /// clone of `self` is dropped.
    pub(crate) fn spawn_periodic_refresh(&self, period: Duration) {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is immediate
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                RemoteJwks { inner }.refresh_if_due().await;
            }
        });
    }
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the minimum interval has passed since the last fetch began.
    fn is_due(&self) -> bool {
        let now = (self.clock)();
        self.state()
            .last_attempt
            .is_none_or(|last| now.saturating_duration_since(last) >= self.min_interval)
    }

    /// One fetch, on the blocking pool. The caller holds `fetching`.
    async fn fetch_and_install(&self) -> Result<usize, JwksError> {
        self.state().last_attempt = Some((self.clock)());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetcher = Arc::clone(&self.fetcher);
        let install = Arc::clone(&self.install);
        let url = fetcher.url().to_owned();
        let installed = tokio::task::spawn_blocking(move || {
            let document = fetcher.fetch()?;
            let keys = usable_keys(fetcher.url(), &document)?;
            install(&keys).map_err(|reason| JwksError::Install {
                url: fetcher.url().to_owned(),
                reason,
            })
        })
        .await
        .unwrap_or_else(|e| {
            Err(JwksError::Fetch {
                url,
                reason: format!("the fetch task failed: {e}"),
            })
        })?;
        self.state().generation += 1;
        log::info!(
            "auth: {installed} verification keys from {}",
            self.fetcher.url()
        );
        Ok(installed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::net::TcpListener;
    use std::sync::atomic::AtomicBool;

    /// A fetcher that serves whatever document it is given, counts its
    /// calls, and can be held (to simulate a slow issuer).
    struct FakeIssuer {
        url: String,
        document: Mutex<Result<String, u16>>,
        calls: AtomicU64,
        hold: AtomicBool,
    }

    impl FakeIssuer {
        fn new(document: &str) -> Arc<Self> {
            Arc::new(Self {
                url: "https://issuer.test/jwks.json".to_owned(),
                document: Mutex::new(Ok(document.to_owned())),
                calls: AtomicU64::new(0),
                hold: AtomicBool::new(false),
            })
        }

        fn serve(&self, document: Result<&str, u16>) {
            *self.document.lock().unwrap() = document.map(str::to_owned);
        }

        fn calls(&self) -> u64 {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl JwksFetcher for FakeIssuer {
        fn url(&self) -> &str {
            &self.url
        }

        fn fetch(&self) -> Result<Vec<u8>, JwksError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            while self.hold.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            match &*self.document.lock().unwrap() {
                Ok(document) => Ok(document.clone().into_bytes()),
                Err(status) => Err(JwksError::Status {
                    url: self.url().to_owned(),
                    status: *status,
                }),
            }
        }
    }

    /// A clock the test moves by hand.
    #[derive(Clone)]
    struct TestClock {
        start: Instant,
        offset: Arc<Mutex<Duration>>,
    }

    impl TestClock {
        fn new() -> Self {
            Self {
                start: Instant::now(),
                offset: Arc::new(Mutex::new(Duration::ZERO)),
            }
        }

        fn advance(&self, by: Duration) {
            *self.offset.lock().unwrap() += by;
        }

        fn now(&self) -> Instant {
            self.start + *self.offset.lock().unwrap()
        }
    }

    /// The kids installed by the last successful fetch.
    type Installed = Arc<Mutex<Vec<String>>>;

    fn remote(issuer: &Arc<FakeIssuer>, clock: &TestClock) -> (RemoteJwks, Installed) {
        let installed: Installed = Arc::default();
        let sink = Arc::clone(&installed);
        let install: Arc<Install> = Arc::new(move |set: &JwkSet| {
            let kids: Vec<String> = set
                .keys
                .iter()
                .map(|k| k.common.key_id.clone().unwrap_or_default())
                .collect();
            let n = kids.len();
            *sink.lock().unwrap() = kids;
            Ok(n)
        });
        let clock = clock.clone();
        let remote = RemoteJwks::with_clock(
            Arc::clone(issuer) as Arc<dyn JwksFetcher>,
            install,
            Duration::from_secs(30),
            Duration::from_secs(5),
            Arc::new(move || clock.now()),
        );
        (remote, installed)
    }

    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn okp(kid: &str) -> String {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"{kid}","alg":"EdDSA","use":"sig"}}"#
        )
    }

    fn set(keys: &[String]) -> String {
        format!(r#"{{"keys":[{}]}}"#, keys.join(","))
    }

    fn kids(installed: &Installed) -> Vec<String> {
        installed.lock().unwrap().clone()
    }

    #[rocket::async_test]
    async fn fetch_now_installs_the_keys() {
        let issuer = FakeIssuer::new(&set(&[okp("a"), okp("b")]));
        let clock = TestClock::new();
        let (remote, installed) = remote(&issuer, &clock);
        let g = remote.generation();
        assert_eq!(remote.fetch_now().await, Ok(2));
        assert_eq!(kids(&installed), ["a", "b"]);
        assert_ne!(remote.generation(), g);
        assert_eq!(issuer.calls(), 1);
    }

    #[rocket::async_test]
    async fn unknown_kids_refetch_at_most_once_per_interval() {
        let issuer = FakeIssuer::new(&set(&[okp("a")]));
        let clock = TestClock::new();
        let (remote, installed) = remote(&issuer, &clock);
        remote.fetch_now().await.unwrap();
        issuer.serve(Ok(&set(&[okp("a"), okp("b")])));

        // Within the interval: no fetch, whatever the number of requests.
        for _ in 0..100 {
            let g = remote.generation();
            assert_eq!(
                remote.refresh_for_unknown_kid(g).await,
                Refreshed::Unchanged
            );
        }
        assert_eq!(issuer.calls(), 1);
        assert_eq!(kids(&installed), ["a"]);

        // Once the interval has passed: one fetch picks up the new key.
        clock.advance(Duration::from_secs(30));
        let g = remote.generation();
        assert_eq!(remote.refresh_for_unknown_kid(g).await, Refreshed::Changed);
        assert_eq!(issuer.calls(), 2);
        assert_eq!(kids(&installed), ["a", "b"]);
        // ... and the next unknown kid waits for the next interval.
        let g = remote.generation();
        assert_eq!(
            remote.refresh_for_unknown_kid(g).await,
            Refreshed::Unchanged
        );
        assert_eq!(issuer.calls(), 2);
    }

    #[rocket::async_test]
    async fn a_caller_that_saw_old_keys_is_told_to_retry() {
        let issuer = FakeIssuer::new(&set(&[okp("a")]));
        let clock = TestClock::new();
        let (remote, _) = remote(&issuer, &clock);
        let before = remote.generation();
        remote.fetch_now().await.unwrap();
        // The keys changed after this caller looked: retry, no fetch.
        assert_eq!(
            remote.refresh_for_unknown_kid(before).await,
            Refreshed::Changed
        );
        assert_eq!(issuer.calls(), 1);
    }

    #[test]
    fn a_burst_of_unknown_kids_shares_one_fetch() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let issuer = FakeIssuer::new(&set(&[okp("a")]));
            let clock = TestClock::new();
            let (remote, installed) = remote(&issuer, &clock);
            remote.fetch_now().await.unwrap();
            clock.advance(Duration::from_secs(60));
            issuer.serve(Ok(&set(&[okp("a"), okp("new")])));
            // The issuer is slow: every request arrives while the one fetch
            // is in progress.
            issuer.hold.store(true, Ordering::SeqCst);
            let g = remote.generation();
            let tasks: Vec<_> = (0..200)
                .map(|_| {
                    let remote = remote.clone();
                    tokio::spawn(async move { remote.refresh_for_unknown_kid(g).await })
                })
                .collect();
            while issuer.calls() < 2 {
                tokio::task::yield_now().await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            issuer.hold.store(false, Ordering::SeqCst);
            for task in tasks {
                assert_eq!(task.await.unwrap(), Refreshed::Changed);
            }
            assert_eq!(issuer.calls(), 2, "one launch fetch and one refresh");
            assert_eq!(kids(&installed), ["a", "new"]);
        });
    }

    #[rocket::async_test]
    async fn waiting_for_a_fetch_is_bounded() {
        let issuer = FakeIssuer::new(&set(&[okp("a")]));
        let clock = TestClock::new();
        let install: Arc<Install> = Arc::new(|_: &JwkSet| Ok(1));
        let remote = {
            let clock = clock.clone();
            RemoteJwks::with_clock(
                Arc::clone(&issuer) as Arc<dyn JwksFetcher>,
                install,
                Duration::from_secs(30),
                Duration::from_millis(50),
                Arc::new(move || clock.now()),
            )
        };
        issuer.hold.store(true, Ordering::SeqCst);
        let g = remote.generation();
        let slow = {
            let remote = remote.clone();
            tokio::spawn(async move { remote.refresh_for_unknown_kid(g).await })
        };
        while issuer.calls() < 1 {
            tokio::task::yield_now().await;
        }
        let started = Instant::now();
        assert_eq!(
            remote.refresh_for_unknown_kid(g).await,
            Refreshed::Unchanged
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        issuer.hold.store(false, Ordering::SeqCst);
        assert_eq!(slow.await.unwrap(), Refreshed::Changed);
    }

    #[rocket::async_test]
    async fn a_failed_fetch_keeps_the_last_good_keys_and_counts_against_the_limit() {
        let issuer = FakeIssuer::new(&set(&[okp("a")]));
        let clock = TestClock::new();
        let (remote, installed) = remote(&issuer, &clock);
        remote.fetch_now().await.unwrap();
        clock.advance(Duration::from_secs(31));
        for bad in [Err(503), Ok("not json"), Ok(r#"{"keys":[]}"#)] {
            issuer.serve(bad);
            let g = remote.generation();
            assert_eq!(
                remote.refresh_for_unknown_kid(g).await,
                Refreshed::Unchanged
            );
            assert_eq!(kids(&installed), ["a"], "{bad:?}");
            // The failure started the interval again.
            let calls = issuer.calls();
            assert_eq!(
                remote.refresh_for_unknown_kid(g).await,
                Refreshed::Unchanged
            );
            assert_eq!(issuer.calls(), calls);
            clock.advance(Duration::from_secs(31));
        }
        assert_eq!(issuer.calls(), 4);
    }

    #[rocket::async_test]
    async fn the_periodic_refresh_respects_the_interval() {
        let issuer = FakeIssuer::new(&set(&[okp("a")]));
        let clock = TestClock::new();
        let (remote, installed) = remote(&issuer, &clock);
        remote.fetch_now().await.unwrap();
        issuer.serve(Ok(&set(&[okp("b")])));
        remote.refresh_if_due().await;
        assert_eq!(issuer.calls(), 1);
        clock.advance(Duration::from_secs(30));
        remote.refresh_if_due().await;
        assert_eq!(issuer.calls(), 2);
        assert_eq!(kids(&installed), ["b"]);
    }

    #[rocket::async_test]
    async fn the_periodic_task_refreshes_and_stops_with_its_owner() {
        let issuer = FakeIssuer::new(&set(&[okp("a")]));
        let clock = TestClock::new();
        let (remote, installed) = remote(&issuer, &clock);
        remote.fetch_now().await.unwrap();
        issuer.serve(Ok(&set(&[okp("b")])));
        remote.spawn_periodic_refresh(Duration::from_millis(10));
        // Ticks within the minimum interval fetch nothing.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(issuer.calls(), 1);
        clock.advance(Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(5);
        while issuer.calls() < 2 {
            assert!(Instant::now() < deadline, "no periodic fetch");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(kids(&installed), ["b"]);
        // Once the owner is gone, the task ends.
        drop(remote);
        clock.advance(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(issuer.calls(), 2);
    }

    #[test]
    fn symmetric_private_and_unreadable_keys_are_refused() {
        let url = "https://issuer.test/jwks.json";
        let oct =
            r#"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0","kid":"hs","alg":"HS256"}"#;
        let private = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","kid":"priv"}}"#
        );
        let enc = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"enc","use":"enc"}}"#);
        let strange = r#"{"kty":"XYZ","kid":"strange"}"#.to_owned();
        let document = set(&[oct.to_owned(), private, enc, strange, okp("good")]);
        let keys = usable_keys(url, document.as_bytes()).unwrap();
        let kids: Vec<_> = keys
            .keys
            .iter()
            .map(|k| k.common.key_id.as_deref().unwrap())
            .collect();
        assert_eq!(kids, ["good"]);

        assert_eq!(
            usable_keys(url, set(&[oct.to_owned()]).as_bytes()),
            Err(JwksError::NoUsableKeys { url: url.into() })
        );
        for not_a_set in [&b"[]"[..], b"{}", b"<html>", b"{\"keys\": 1}"] {
            assert!(matches!(
                usable_keys(url, not_a_set),
                Err(JwksError::NotAKeySet { .. })
            ));
        }
    }

    /// A one-shot HTTP server on a free port that answers one request with
    /// `response` (after `delay`), on its own thread.
    fn one_shot_server(response: Vec<u8>, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                std::thread::sleep(delay);
                let _ = stream.write_all(&response);
            }
        });
        format!("http://127.0.0.1:{port}/jwks.json")
    }

    fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
        let mut response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        response
    }

    #[test]
    fn http_fetcher_reads_a_set_and_refuses_errors_and_huge_bodies() {
        let timeout = Duration::from_secs(5);
        let body = set(&[okp("a")]);
        let url = one_shot_server(http_response("200 OK", body.as_bytes()), Duration::ZERO);
        assert_eq!(
            HttpFetcher::new(&url, timeout).fetch().unwrap(),
            body.as_bytes()
        );

        let url = one_shot_server(http_response("404 Not Found", b"{}"), Duration::ZERO);
        assert!(matches!(
            HttpFetcher::new(&url, timeout).fetch(),
            Err(JwksError::Status { status: 404, .. })
        ));

        let url = one_shot_server(http_response("302 Found", b""), Duration::ZERO);
        assert!(matches!(
            HttpFetcher::new(&url, timeout).fetch(),
            Err(JwksError::Status { status: 302, .. })
        ));

        let huge = vec![b' '; usize::try_from(MAX_JWKS_BYTES).unwrap() + 10];
        let url = one_shot_server(http_response("200 OK", &huge), Duration::ZERO);
        assert!(matches!(
            HttpFetcher::new(&url, timeout).fetch(),
            Err(JwksError::TooLarge { .. })
        ));
    }

    #[test]
    fn http_fetcher_times_out() {
        let url = one_shot_server(
            http_response("200 OK", b"{\"keys\":[]}"),
            Duration::from_secs(3),
        );
        let started = Instant::now();
        let result = HttpFetcher::new(&url, Duration::from_millis(300)).fetch();
        assert!(matches!(result, Err(JwksError::Fetch { .. })), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
