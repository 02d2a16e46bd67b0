//! The local portal's store: SQLite (bundled, so nothing to install), one file, WAL
//! journal. It survives restarts, gives real ACID transactions for the
//! all-or-nothing conditional writes of the store port, and can be inspected
//! with any SQLite tool. The same file holds the local outbox.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use tobira::clock::{Clock, Timestamp};
use tobira::delivery::{DeliveryError, Mail, Mailer, Sms, SmsSender, VoiceCall, VoiceCaller};
use tobira::store::{holds, validate_batch, Item, Key, Query, Store, StoreError, Write};

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn fault(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::init(Connection::open(path).map_err(fault)?)
    }

    pub fn in_memory() -> Self {
        Self::init(Connection::open_in_memory().expect("in-memory sqlite")).expect("schema")
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS items (
                 pk TEXT NOT NULL, sk TEXT NOT NULL, data TEXT NOT NULL,
                 v INTEGER NOT NULL, exp INTEGER,
                 PRIMARY KEY (pk, sk)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS outbox (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,
                 recipient TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL,
                 html TEXT NOT NULL, sent_at INTEGER NOT NULL);",
        )
        .map_err(fault)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// A consistent copy of the whole store (items and outbox) written to
    /// `path`, which must not exist yet, opened as a store of its own: what
    /// `tobira migrate --dry-run` runs on, so the real store stays as it was.
    pub fn copy_to(&self, path: &Path) -> Result<Self, StoreError> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Unavailable(format!("{} is not UTF-8", path.display())))?;
        self.conn()
            .execute("VACUUM INTO ?1", params![target])
            .map_err(fault)?;
        Self::open(path)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn row_item(key: Key, data: String, v: i64, exp: Option<i64>) -> Item {
    Item {
        key,
        data,
        version: v as u64,
        expires_at: exp.map(Timestamp::from_millis),
    }
}

fn read(conn: &Connection, key: &Key) -> rusqlite::Result<Option<Item>> {
    conn.prepare_cached("SELECT data, v, exp FROM items WHERE pk = ?1 AND sk = ?2")?
        .query_row(params![key.pk, key.sk], |r| {
            Ok(row_item(key.clone(), r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        let item = read(&self.conn(), key).map_err(fault)?;
        Ok(item.filter(|i| i.is_live(now)))
    }

    /// One connection, one statement per key: one request of the store.
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        tobira::store::check_reads(keys)?;
        let conn = self.conn();
        keys.iter()
            .map(|k| Ok(read(&conn, k).map_err(fault)?.filter(|i| i.is_live(now))))
            .collect()
    }

    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        let conn = self.conn();
        // One lower bound, so SQLite seeks straight to it (with two, it
        // seeks on one and scans past everything below the other: a walk
        // through a long partition would cost the square of its length).
        let (sql, from) = match q.after.as_deref() {
            Some(a) if a >= q.sk_prefix.as_str() => (
                "SELECT sk, data, v, exp FROM items WHERE pk = ?1 AND sk > ?2 ORDER BY sk",
                a,
            ),
            _ => (
                "SELECT sk, data, v, exp FROM items WHERE pk = ?1 AND sk >= ?2 ORDER BY sk",
                q.sk_prefix.as_str(),
            ),
        };
        let mut stmt = conn.prepare_cached(sql).map_err(fault)?;
        let rows = stmt
            .query_map(params![q.pk, from], |r| {
                Ok(row_item(
                    Key::new(q.pk.clone(), r.get::<_, String>(0)?),
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })
            .map_err(fault)?;
        let mut out = Vec::new();
        for row in rows {
            let item = row.map_err(fault)?;
            if !item.key.sk.starts_with(&q.sk_prefix) || out.len() >= q.limit {
                break;
            }
            if item.is_live(now) {
                out.push(item);
            }
        }
        Ok(out)
    }

    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        validate_batch(&writes)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fault)?;
        let mut current = Vec::with_capacity(writes.len());
        for w in &writes {
            let row = read(&tx, w.key()).map_err(fault)?;
            let live = row.as_ref().filter(|i| i.is_live(now));
            let cond = match w {
                Write::Put { cond, .. }
                | Write::Delete { cond, .. }
                | Write::Check { cond, .. } => *cond,
            };
            if !holds(cond, live) {
                return Err(StoreError::Conflict); // dropping tx rolls back
            }
            current.push(row.map(|i| i.version));
        }
        for (w, old) in writes.into_iter().zip(current) {
            match w {
                Write::Put {
                    key,
                    data,
                    expires_at,
                    ..
                } => {
                    // New items start from the clock, so a version never
                    // repeats even after an expired item is replaced (no ABA).
                    let v = old.map_or(now.millis() as u64 + 1, |v| v + 1);
                    tx.prepare_cached(
                        "INSERT INTO items (pk, sk, data, v, exp) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, v = excluded.v, exp = excluded.exp",
                    )
                    .and_then(|mut s| s.execute(params![key.pk, key.sk, data, v as i64, expires_at.map(Timestamp::millis)]))
                    .map_err(fault)?;
                }
                Write::Delete { key, .. } => {
                    tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
                        .and_then(|mut s| s.execute(params![key.pk, key.sk]))
                        .map_err(fault)?;
                }
                Write::Check { .. } => {}
            }
        }
        tx.commit().map_err(fault)
    }

    async fn increment(&self, key: &Key, _now: Timestamp) -> Result<u64, StoreError> {
        // One statement, so one atomic step; the count is the item's version.
        let v: i64 = self
            .conn()
            .prepare_cached(
                "INSERT INTO items (pk, sk, data, v, exp) VALUES (?1, ?2, '1', 1, NULL)
                 ON CONFLICT (pk, sk) DO UPDATE SET v = v + 1, data = CAST(v + 1 AS TEXT)
                 RETURNING v",
            )
            .and_then(|mut s| s.query_row(params![key.pk, key.sk], |r| r.get(0)))
            .map_err(fault)?;
        Ok(v as u64)
    }
}

/// One message in the local outbox (`/_dev/outbox.json`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OutboxEntry {
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: String,
}

/// Mail and SMS "sent" locally: kept in the store's file, shown at `/_dev/outbox`.
pub struct Outbox {
    store: std::sync::Arc<SqliteStore>,
    clock: std::sync::Arc<dyn Clock>,
}

impl Outbox {
    pub fn new(store: std::sync::Arc<SqliteStore>, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn push(
        &self,
        channel: &str,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), DeliveryError> {
        self.store
            .conn()
            .execute(
                "INSERT INTO outbox (channel, recipient, subject, text, html, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![channel, to, subject, text, html, self.clock.now().millis()],
            )
            .map(|_| ())
            .map_err(|e| DeliveryError::Unavailable(format!("outbox: {e}")))
    }

    /// Every message, oldest first.
    pub fn list(&self) -> Vec<OutboxEntry> {
        let conn = self.store.conn();
        let Ok(mut stmt) = conn.prepare(
            "SELECT channel, recipient, subject, text, html, sent_at FROM outbox ORDER BY id",
        ) else {
            return Vec::new();
        };
        stmt.query_map([], |r| {
            Ok(OutboxEntry {
                channel: r.get(0)?,
                to: r.get(1)?,
                subject: r.get(2)?,
                text: r.get(3)?,
                html: r.get(4)?,
                sent_at: Timestamp::from_millis(r.get(5)?).rfc3339(),
            })
        })
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        self.push("email", &mail.to, &mail.subject, &mail.text, &mail.html)
    }
}

#[async_trait]
impl SmsSender for Outbox {
    async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        self.push("sms", &sms.to, "", &sms.text, "")
    }
}

/// MFA-9: a call shows as what the voice says.
#[async_trait]
impl VoiceCaller for Outbox {
    async fn call(&self, call: &VoiceCall) -> Result<(), DeliveryError> {
        self.push("voice", &call.to, "", &call.text, "")
    }
}
