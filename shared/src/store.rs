//! The store port: a small key/value store with conditional, atomic,
//! multi-item writes, which both DynamoDB (TransactWriteItems) and the
//! embedded SQLite store provide natively. Every domain rule about uniqueness,
//! single use and counting is expressed as a condition on a write here, so it
//! holds under concurrency in both.
//!
//! Expiry: an item may carry `expires_at`. DynamoDB deletes such items
//! lazily (TTL), so every read checks the time itself: an expired item is
//! invisible to `get` and `query`, counts as absent for [`Cond::Absent`] and
//! fails [`Cond::Exists`] and [`Cond::Version`].

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::clock::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub key: Key,
    /// The record, as JSON.
    pub data: String,
    /// 1 on creation, +1 on every put.
    pub version: u64,
    pub expires_at: Option<Timestamp>,
}

impl Item {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_str(&self.data).map_err(|e| {
            StoreError::Unavailable(format!("corrupt item {}/{}: {e}", self.key.pk, self.key.sk))
        })
    }
}

/// The condition a write needs to go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Always.
    Any,
    /// No live item at the key.
    Absent,
    /// A live item exists.
    Exists,
    /// A live item exists with exactly this version.
    Version(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    Put {
        key: Key,
        data: String,
        expires_at: Option<Timestamp>,
        cond: Cond,
    },
    Delete {
        key: Key,
        cond: Cond,
    },
    /// Check a condition without writing (e.g. "the user is still at version n").
    Check {
        key: Key,
        cond: Cond,
    },
}

impl Write {
    pub fn put<T: Serialize>(
        key: Key,
        value: &T,
        expires_at: Option<Timestamp>,
        cond: Cond,
    ) -> Self {
        Self::Put {
            key,
            data: serde_json::to_string(value).expect("records serialise"),
            expires_at,
            cond,
        }
    }
    pub fn key(&self) -> &Key {
        match self {
            Self::Put { key, .. } | Self::Delete { key, .. } | Self::Check { key, .. } => key,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub sk_prefix: String,
    /// Start after this sort key (the previous page's last).
    pub after: Option<String>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// A condition did not hold; nothing was written.
    Conflict,
    /// The store could not be reached or answered with a fault; nothing can be
    /// assumed written or not, so callers fail closed.
    Unavailable(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Conflict => f.write_str("condition failed"),
            Self::Unavailable(m) => write!(f, "store unavailable: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// At most this many writes in one atomic call (DynamoDB's limit).
pub const MAX_WRITES: usize = 100;

/// At most this many keys in one [`Store::get_many`] (DynamoDB's limit).
pub const MAX_READS: usize = 100;

/// Checks shared by the adapters of [`Store::get_many`]: at most
/// [`MAX_READS`] keys, none twice (a caller's mistake, refused everywhere
/// as DynamoDB refuses it).
pub fn check_reads(keys: &[Key]) -> Result<(), StoreError> {
    if keys.len() > MAX_READS {
        return Err(StoreError::Unavailable(format!(
            "{} keys in one read (at most {MAX_READS})",
            keys.len()
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    if let Some(k) = keys.iter().find(|k| !seen.insert(*k)) {
        return Err(StoreError::Unavailable(format!(
            "{}/{} asked twice in one read",
            k.pk, k.sk
        )));
    }
    Ok(())
}

#[async_trait]
pub trait Store: Send + Sync {
    /// The live item at `key`.
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError>;
    /// The live items at `keys` (at most [`MAX_READS`], each key once), in
    /// the order asked, `None` where there is none. Independent reads in one
    /// request where the store has one (DynamoDB's `BatchGetItem`); the
    /// default reads them one by one.
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        check_reads(keys)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key, now).await?);
        }
        Ok(out)
    }
    /// Live items of one partition whose sort key starts with the prefix, in
    /// sort-key order, at most `limit`.
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError>;
    /// All or nothing: every condition holds and every write happens, or
    /// [`StoreError::Conflict`] and nothing happens. At most [`MAX_WRITES`]
    /// writes, each key at most once.
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError>;
    /// An atomic counter: add one to the counter at `key` (0 when absent)
    /// and return the new value, in one step of the store itself (DynamoDB's
    /// `ADD`, an SQLite upsert) — no two calls ever see the same value, and
    /// none waits for another. A counter's key holds nothing else.
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError>;
}

/// Typed reading helpers over any [`Store`].
pub async fn get_as<T: DeserializeOwned>(
    store: &dyn Store,
    key: &Key,
    now: Timestamp,
) -> Result<Option<(T, u64)>, StoreError> {
    match store.get(key, now).await? {
        Some(item) => Ok(Some((item.parse()?, item.version))),
        None => Ok(None),
    }
}

/// Checks shared by the adapters: fits the limits, no key twice.
pub fn validate_batch(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_WRITES {
        return Err(StoreError::Unavailable(format!(
            "a write batch holds 1..={MAX_WRITES} writes, not {}",
            writes.len()
        )));
    }
    let mut keys: Vec<&Key> = writes.iter().map(Write::key).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::Unavailable(
            "a write batch names one key twice".into(),
        ));
    }
    Ok(())
}

/// Whether `cond` holds for the live item (if any) `current`.
pub fn holds(cond: Cond, current: Option<&Item>) -> bool {
    match cond {
        Cond::Any => true,
        Cond::Absent => current.is_none(),
        Cond::Exists => current.is_some(),
        Cond::Version(v) => current.is_some_and(|i| i.version == v),
    }
}
