//! tobira's test kit: in-memory fakes — a store, a mailer and an SMS
//! sender — each of which can be told to fail, to prove that faults fail
//! closed; a clock that moves only when told to and seeded randomness. A
//! dev-dependency only: nothing in production links it.

pub mod authenticator;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use async_trait::async_trait;

use tobira::clock::{Clock, Timestamp};
use tobira::delivery::{DeliveryError, Mail, Mailer, Sms, SmsSender, VoiceCall, VoiceCaller};
use tobira::random::Random;
use tobira::store::{holds, validate_batch, Item, Key, Query, Store, StoreError, Write};

/// A store in a `BTreeMap`, with the same semantics as the real ones (it
/// passes the same contract suite).
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<Key, Item>>,
}

impl MemoryStore {
    /// Every item, expired or not: to prove that a refused request changed nothing.
    pub fn snapshot(&self) -> Vec<Item> {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        Ok(items.get(key).filter(|i| i.is_live(now)).cloned())
    }

    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        tobira::store::check_reads(keys)?;
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        Ok(keys
            .iter()
            .map(|k| items.get(k).filter(|i| i.is_live(now)).cloned())
            .collect())
    }

    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let from = Key::new(q.pk.clone(), q.sk_prefix.clone());
        Ok(items
            .range(from..)
            .take_while(|(k, _)| k.pk == q.pk && k.sk.starts_with(&q.sk_prefix))
            .filter(|(k, i)| q.after.as_ref().is_none_or(|a| k.sk > *a) && i.is_live(now))
            .take(q.limit)
            .map(|(_, i)| i.clone())
            .collect())
    }

    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        validate_batch(&writes)?;
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        for w in &writes {
            let live = items.get(w.key()).filter(|i| i.is_live(now));
            let cond = match w {
                Write::Put { cond, .. }
                | Write::Delete { cond, .. }
                | Write::Check { cond, .. } => *cond,
            };
            if !holds(cond, live) {
                return Err(StoreError::Conflict);
            }
        }
        for w in writes {
            match w {
                Write::Put {
                    key,
                    data,
                    expires_at,
                    ..
                } => {
                    let version = items
                        .get(&key)
                        .map_or(now.millis() as u64 + 1, |i| i.version + 1);
                    items.insert(
                        key.clone(),
                        Item {
                            key,
                            data,
                            version,
                            expires_at,
                        },
                    );
                }
                Write::Delete { key, .. } => {
                    items.remove(&key);
                }
                Write::Check { .. } => {}
            }
        }
        Ok(())
    }

    async fn increment(&self, key: &Key, _now: Timestamp) -> Result<u64, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let next = items.get(key).map_or(1, |i| i.version + 1);
        items.insert(
            key.clone(),
            Item {
                key: key.clone(),
                data: next.to_string(),
                version: next,
                expires_at: None,
            },
        );
        Ok(next)
    }
}

/// Wraps a store and fails on command: every call while `down`, or one call
/// in `every_nth` (fault injection).
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    down: AtomicBool,
    writes_down: AtomicBool,
    every_nth: AtomicU64,
    calls: AtomicU64,
    /// Random faults: a seed-driven sequence, `per_mille` of calls fail.
    random: std::sync::Mutex<Option<(u64, u64)>>,
    /// Random faults strike after a write went through (the caller cannot
    /// tell a lost answer from a lost write).
    after_commit: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            down: AtomicBool::new(false),
            writes_down: AtomicBool::new(false),
            every_nth: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            random: std::sync::Mutex::new(None),
            after_commit: AtomicBool::new(false),
        }
    }
    /// Fail `per_mille` of calls at seed-determined points (0 = never).
    /// With `after_commit`, a failing write happens first and then reports
    /// the fault.
    pub fn fail_randomly(&self, seed: u64, per_mille: u64, after_commit: bool) {
        *self.random.lock().unwrap() = (per_mille > 0).then_some((seed | 1, per_mille));
        self.after_commit.store(after_commit, Ordering::SeqCst);
    }
    fn random_fault(&self) -> bool {
        let mut r = self.random.lock().unwrap();
        let Some((state, per_mille)) = r.as_mut() else {
            return false;
        };
        // xorshift64*
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) % 1000 < *per_mille
    }
    /// Every read and write fails.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
    /// Reads work, writes fail.
    pub fn set_writes_down(&self, down: bool) {
        self.writes_down.store(down, Ordering::SeqCst);
    }
    /// Fail every n-th call (0 = never).
    pub fn fail_every(&self, n: u64) {
        self.every_nth.store(n, Ordering::SeqCst);
    }
    fn check(&self, write: bool) -> Result<(), StoreError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let nth = self.every_nth.load(Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst)
            || (write && self.writes_down.load(Ordering::SeqCst))
            || (nth > 0 && n.is_multiple_of(nth))
        {
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        self.check(false)?;
        if self.random_fault() {
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        self.inner.get(key, now).await
    }
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        self.check(false)?;
        if self.random_fault() {
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        self.inner.get_many(keys, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        self.check(false)?;
        if self.random_fault() {
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        self.inner.query(q, now).await
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        self.check(true)?;
        if self.random_fault() {
            if self.after_commit.load(Ordering::SeqCst) {
                self.inner.write(writes, now).await?;
            }
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        self.inner.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        self.check(true)?;
        if self.random_fault() {
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        self.inner.increment(key, now).await
    }
}

/// Captures mail, SMS and voice calls; can be told to fail.
#[derive(Default)]
pub struct MemoryOutbox {
    pub mails: Mutex<Vec<Mail>>,
    pub sms: Mutex<Vec<Sms>>,
    pub calls: Mutex<Vec<VoiceCall>>,
    failing: AtomicBool,
}

impl MemoryOutbox {
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn sms(&self) -> Vec<Sms> {
        self.sms.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn calls(&self) -> Vec<VoiceCall> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Keep `message` in `sent`, unless the outbox is set failing.
    fn keep<T: Clone>(&self, sent: &Mutex<Vec<T>>, message: &T) -> Result<(), DeliveryError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(DeliveryError::Throttled);
        }
        sent.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.clone());
        Ok(())
    }
}

#[async_trait]
impl Mailer for MemoryOutbox {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        self.keep(&self.mails, mail)
    }
}

#[async_trait]
impl SmsSender for MemoryOutbox {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        self.keep(&self.sms, sms)
    }
}

#[async_trait]
impl VoiceCaller for MemoryOutbox {
    async fn call(&self, call: &VoiceCall) -> Result<(), DeliveryError> {
        self.keep(&self.calls, call)
    }
}

/// A clock that moves only when told to: tests of lock windows, expiry, TOTP steps.
/// Optionally it also ticks forward on every reading (time budgets).
#[derive(Debug)]
pub struct ManualClock(AtomicI64, AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.millis()), AtomicI64::new(0))
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
    /// Move forward by `d` every time the clock is read (zero: stand still).
    pub fn set_tick(&self, d: Duration) {
        self.1.store(d.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let tick = self.1.load(Ordering::SeqCst);
        Timestamp::from_millis(self.0.fetch_add(tick, Ordering::SeqCst))
    }
}

/// Deterministic randomness for tests and benchmarks (SplitMix64). Never for production.
#[derive(Debug)]
pub struct SeededRandom(Mutex<u64>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(seed))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in buf.chunks_mut(8) {
            *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tobira::random::{ct_eq, secret_token};

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_secs(10));
        assert_eq!(c.now(), Timestamp::from_secs(10));
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now(), Timestamp::from_secs(15));
    }

    #[test]
    fn seeded_is_deterministic() {
        let (a, b) = (SeededRandom::new(7), SeededRandom::new(7));
        assert_eq!(secret_token(&a), secret_token(&b));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}

// ---------------------------------------------------------------- counting

/// Store requests, counted by [`Counting`]: the domain makes the same calls
/// whatever store is behind the port, so these are the DynamoDB requests
/// (benches and the tests that hold a flow to its round trips).
#[derive(Default)]
pub struct Counts {
    gets: AtomicU64,
    queries: AtomicU64,
    writes: AtomicU64,
    items: AtomicU64,
    read: AtomicU64,
    /// Sequential rounds (the critical path): a request that starts while
    /// another is in flight shares its round; one that starts after a
    /// request of round r ended is in round r + 1 at least.
    ended: AtomicU64,
    depth: AtomicU64,
    /// DynamoDB's capacity units, as on-demand bills them: read request
    /// units (a strongly consistent read of up to 4 KB is one; a query,
    /// every 4 KB it returns) and write request units (a write of up to
    /// 1 KB is one; in a transaction each item costs two).
    rru: AtomicU64,
    wru: AtomicU64,
}

/// An item's size as DynamoDB counts it, near enough: its key, its data and
/// the few attributes the adapter adds.
fn item_size(key: &Key, data: &str) -> usize {
    key.pk.len() + key.sk.len() + data.len() + 40
}

fn units(bytes: usize, per: usize) -> u64 {
    bytes.div_ceil(per).max(1) as u64
}

/// Gives way once, so that requests issued together (`join!`) are all in
/// flight before any of them ends, whatever store is behind.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl Counts {
    /// The sequential rounds of store requests so far (what a flow waits
    /// for: at 5 ms a request, 5 ms each), and start again from 0.
    pub fn take_depth(&self) -> u64 {
        self.ended.swap(0, Ordering::SeqCst);
        self.depth.swap(0, Ordering::SeqCst)
    }

    async fn round<T>(&self, request: impl std::future::Future<Output = T>) -> T {
        let r = self.ended.load(Ordering::SeqCst) + 1;
        self.depth.fetch_max(r, Ordering::SeqCst);
        YieldOnce(false).await;
        let out = request.await;
        self.ended.fetch_max(r, Ordering::SeqCst);
        out
    }

    /// The counts so far (get, query, atomic write, items written), and
    /// start again from 0.
    pub fn take(&self) -> [u64; 4] {
        self.read.swap(0, Ordering::SeqCst);
        self.take_keeping_reads()
    }

    /// The read requests so far (a get, a batched get or a query is one)
    /// and the items they asked for or answered, and start again from 0.
    pub fn take_reads(&self) -> (u64, u64) {
        let [gets, queries, _, _] = self.take_keeping_reads();
        (gets + queries, self.read.swap(0, Ordering::SeqCst))
    }

    fn take_keeping_reads(&self) -> [u64; 4] {
        [
            self.gets.swap(0, Ordering::SeqCst),
            self.queries.swap(0, Ordering::SeqCst),
            self.writes.swap(0, Ordering::SeqCst),
            self.items.swap(0, Ordering::SeqCst),
        ]
    }

    /// The capacity units so far (read request units, write request
    /// units), and start again from 0.
    pub fn take_units(&self) -> (u64, u64) {
        (
            self.rru.swap(0, Ordering::SeqCst),
            self.wru.swap(0, Ordering::SeqCst),
        )
    }

    fn write_units(&self, writes: &[Write]) {
        let size = |w: &Write| match w {
            Write::Put { key, data, .. } => item_size(key, data),
            _ => 0,
        };
        let single = writes.len() == 1 && !matches!(writes[0], Write::Check { .. });
        let u: u64 = if single {
            units(size(&writes[0]), 1024)
        } else {
            writes.iter().map(|w| 2 * units(size(w), 1024)).sum()
        };
        self.wru.fetch_add(u, Ordering::Relaxed);
    }

    fn read_units(&self, items: &[&Item]) {
        let bytes = items.iter().map(|i| item_size(&i.key, &i.data)).sum();
        self.rru.fetch_add(units(bytes, 4096), Ordering::Relaxed);
    }

    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The store port with every request counted.
pub struct Counting {
    pub inner: Arc<dyn Store>,
    pub counts: Arc<Counts>,
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        Counts::add(&self.counts.gets, 1);
        Counts::add(&self.counts.read, 1);
        let out = self.counts.round(self.inner.get(key, now)).await?;
        self.counts.read_units(&out.iter().collect::<Vec<_>>());
        Ok(out)
    }
    /// One request, however many keys (DynamoDB's `BatchGetItem`).
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        Counts::add(&self.counts.gets, 1);
        Counts::add(&self.counts.read, keys.len());
        let out = self.counts.round(self.inner.get_many(keys, now)).await?;
        // Each key of a batch is a read of its own.
        for item in &out {
            self.counts.read_units(&item.iter().collect::<Vec<_>>());
        }
        Ok(out)
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        Counts::add(&self.counts.queries, 1);
        let out = self.counts.round(self.inner.query(q, now)).await?;
        Counts::add(&self.counts.read, out.len());
        self.counts.read_units(&out.iter().collect::<Vec<_>>());
        Ok(out)
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        Counts::add(&self.counts.writes, 1);
        Counts::add(&self.counts.items, writes.len());
        self.counts.write_units(&writes);
        self.counts.round(self.inner.write(writes, now)).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        Counts::add(&self.counts.writes, 1);
        Counts::add(&self.counts.items, 1);
        self.counts.wru.fetch_add(1, Ordering::Relaxed);
        self.counts.round(self.inner.increment(key, now)).await
    }
}

/// Every audit record of `tenant` (`None`: of no tenant) over the last
/// `days` days before the app's now, oldest first: its audit months, its
/// sign-in months (ADM-6) and, for no tenant, the day shards of both.
pub async fn audit_trail(
    app: &tobira::App,
    tenant: Option<&str>,
    days: i64,
) -> Vec<tobira::app::AuditEvent> {
    use tobira::model::keys;
    use tobira::trail::{month, SHARDS};
    let now = app.now().millis();
    let at = |d: i64| Timestamp::from_millis(now - d * 24 * 3600 * 1000);
    let mut partitions = std::collections::BTreeSet::new();
    for d in 0..=days {
        match tenant {
            Some(t) => {
                let t = tobira::ids::TenantId::parse(t).expect("tenant id");
                partitions.insert(keys::audit_partition(Some(&t), at(d), 0));
                partitions.insert(keys::sign_ins_of_tenant(&t, &month(at(d))));
            }
            None => {
                for s in 0..SHARDS {
                    partitions.insert(keys::audit_partition(None, at(d), s));
                }
            }
        }
    }
    let mut events = Vec::new();
    for pk in partitions {
        for item in app.query_all(&pk, "").await.expect("audit") {
            events.push(
                item.parse::<tobira::app::AuditEvent>()
                    .expect("audit event"),
            );
        }
    }
    events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    events
}
