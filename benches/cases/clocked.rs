//! Store and mailer wrappers that add up the time spent in each kind of
//! request (the benchmark's split of a creation's time).

use super::*;

/// Calls, time and calls over 1 ms of one kind of request.
#[derive(Default)]
pub(crate) struct Clock {
    pub(crate) calls: AtomicU64,
    pub(crate) nanos: AtomicU64,
    pub(crate) slow: AtomicU64,
}

/// What a [`Clock`] counted.
#[derive(Clone, Copy, Default)]
pub(crate) struct Tally {
    pub(crate) calls: u64,
    pub(crate) time: Duration,
    pub(crate) slow: u64,
}

impl Clock {
    pub(crate) fn add(&self, d: Duration) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        if d > Duration::from_millis(1) {
            self.slow.fetch_add(1, Ordering::Relaxed);
        }
    }
    pub(crate) fn take(&self) -> Tally {
        Tally {
            calls: self.calls.swap(0, Ordering::SeqCst),
            time: Duration::from_nanos(self.nanos.swap(0, Ordering::SeqCst)),
            slow: self.slow.swap(0, Ordering::SeqCst),
        }
    }
}

/// Time spent in the store, by request, and in the mailer.
#[derive(Default)]
pub(crate) struct Spent {
    pub(crate) increment: Clock,
    pub(crate) write: Clock,
    pub(crate) get: Clock,
    pub(crate) query: Clock,
    pub(crate) mail: Clock,
}

impl Spent {
    /// Increment, write, get, query, mail.
    pub(crate) fn take(&self) -> [Tally; 5] {
        [
            self.increment.take(),
            self.write.take(),
            self.get.take(),
            self.query.take(),
            self.mail.take(),
        ]
    }
}

/// The store port with the time of every request added up.
pub(crate) struct Clocked {
    pub(crate) inner: Arc<dyn Store>,
    pub(crate) spent: Arc<Spent>,
}

#[async_trait]
impl Store for Clocked {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        let t = start();
        let r = self.inner.get(key, now).await;
        self.spent.get.add(t.elapsed());
        r
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        let t = start();
        let r = self.inner.query(q, now).await;
        self.spent.query.add(t.elapsed());
        r
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        let t = start();
        let r = self.inner.write(writes, now).await;
        self.spent.write.add(t.elapsed());
        r
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        let t = start();
        let r = self.inner.increment(key, now).await;
        self.spent.increment.add(t.elapsed());
        r
    }
}

/// The mail port (the local outbox) with the time of every send added up.
pub(crate) struct ClockedMailer {
    pub(crate) inner: Arc<dyn Mailer>,
    pub(crate) spent: Arc<Spent>,
}

#[async_trait]
impl Mailer for ClockedMailer {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let t = start();
        let r = self.inner.send(mail).await;
        self.spent.mail.add(t.elapsed());
        r
    }
}
