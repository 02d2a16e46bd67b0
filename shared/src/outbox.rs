//! Notices that are never lost (issue 17, item 5): a mail to be sent is an
//! outbox item written in the same atomic write as the change that causes
//! it, and a sender delivers it afterwards, with retries and, when every
//! try failed, a dead-letter record and an audit event. A fault of the mail
//! service then delays a notice and loses none, and no request waits for
//! the mail service ("forgot password" answers at once).
//!
//! The sender is [`App::deliver_due`] (a sweep of what is due) and
//! [`App::deliver_keys`] (the items a DynamoDB stream names). In Lambda the
//! table's stream calls `migrate-batch` with the new items' keys and a
//! schedule sweeps for retries; locally a background task of the portal
//! sweeps. Two senders never send one item twice at once: an item is
//! claimed by moving it (a conditional write) to the time of its next try
//! before it is sent, and deleted after. A sender that dies after the mail
//! went out but before the delete sends it once more at the next try: a
//! duplicate, never a loss.
//!
//! Links: the outbox never holds a usable secret. A password or setup link
//! mail holds [`LINK_SLOT`] where its token goes; the token is derived from
//! the item's ID with a key kept for this alone (`TOBIRA_LINK_KEY`,
//! HMAC-SHA256) when the link is issued (its hash is what the store keeps,
//! as ever) and again by the sender when it fills the slot. A link whose
//! mail is given up is voided with it; a link voided meanwhile (a newer
//! one, a correction, a disabled account) is not mailed.
//!
//! One-time codes (MFA-3, MFA-6) do not go through the outbox: the user is
//! waiting for them on the page, a code is worth five minutes, and a code
//! the mail service refused is answered at once (503) so the user can ask
//! again or choose another method — see the README.

use serde::{Deserialize, Serialize};

use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::error::Result;
use crate::ids::TenantId;
use crate::random::{hmac_sha256, new_ulid};
use crate::store::{Cond, Item, Key, Query, StoreError, Write};

/// The outbox is spread over this many partitions (`OUTBOX#0`…), so that
/// a migration's setup mails are not bound by one partition's write rate.
pub const SHARDS: u8 = 8;
/// Tries before a notice is given up (dead letter): about two hours.
pub const MAX_ATTEMPTS: u32 = 8;
/// Where a link mail's token goes; filled by the sender.
pub const LINK_SLOT: &str = "TOBIRA-LINK-TOKEN-SLOT";
const DEAD: &str = "OUTBOX-DEAD";
/// How many items one sweep takes from each partition.
const SWEEP: usize = 25;

/// One mail to be sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    /// What it tells (e.g. `password.changed`, `password.link`): for the
    /// log, the dead letter and the audit record.
    pub kind: String,
    pub mail: Mail,
    /// The mail holds [`LINK_SLOT`].
    #[serde(default)]
    pub link: bool,
    pub user_id: Option<String>,
    pub tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    /// Not sent after this (a link that has expired).
    pub valid_until: Option<Timestamp>,
    /// Tries so far.
    pub attempts: u32,
}

/// A notice given up: what an operator needs to act, no mail body (a
/// link's slot aside, a body may hold personal details).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeadNotice {
    pub id: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub user_id: Option<String>,
    pub tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    pub dead_at: Timestamp,
    pub attempts: u32,
    pub reason: String,
}

/// What a sender did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub sent: u32,
    /// Failed this time; tried again later.
    pub retrying: u32,
    pub dead: u32,
    /// Link mails not sent because their link was voided meanwhile.
    pub voided: u32,
}

/// How long one try may wait for the mail service: well within the first
/// retry's 30 s, so that no other sender takes the item while it is sent.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

fn key(shard: u8, due: Timestamp, id: &str) -> Key {
    Key::new(
        format!("OUTBOX#{shard}"),
        format!("{:013}#{id}", due.millis().max(0)),
    )
}

/// Whether `key` names an outbox item (a stream record's key).
pub fn is_outbox_key(key: &Key) -> bool {
    key.pk.starts_with("OUTBOX#")
}

fn due_of(key: &Key) -> Option<i64> {
    key.sk.split_once('#')?.0.parse().ok()
}

/// How long after try `n` (1-based) the next one comes: 30 s, doubling,
/// at most an hour.
pub fn backoff(n: u32) -> std::time::Duration {
    let secs = 30u64 << n.saturating_sub(1).min(7);
    std::time::Duration::from_secs(secs.min(3600))
}

/// The key of a dead letter.
pub fn dead_key(id: &str) -> Key {
    Key::new(DEAD, id)
}

impl App {
    /// The outbox item of `mail`: to go into the same atomic write as the
    /// change it tells of.
    pub fn notice(&self, kind: &str, mail: Mail, who: Option<(&str, &TenantId)>) -> Write {
        self.notice_item(kind, mail, who, None).1
    }

    /// The outbox item of a link mail (composed with [`LINK_SLOT`] for the
    /// token) and the link's token, to store hashed. The link dies at
    /// `valid_until`; so does the notice.
    pub fn link_notice(
        &self,
        kind: &str,
        mail: Mail,
        who: Option<(&str, &TenantId)>,
        valid_until: Timestamp,
    ) -> (String, Write) {
        let (id, write) = self.notice_item(kind, mail, who, Some(valid_until));
        (self.link_token(&id), write)
    }

    fn notice_item(
        &self,
        kind: &str,
        mail: Mail,
        who: Option<(&str, &TenantId)>,
        valid_until: Option<Timestamp>,
    ) -> (String, Write) {
        let now = self.now();
        let id = new_ulid(self.rng.as_ref(), now).to_string();
        let notice = Notice {
            id: id.clone(),
            kind: kind.to_string(),
            link: valid_until.is_some(),
            mail,
            user_id: who.map(|(u, _)| u.to_string()),
            tenant_id: who.map(|(_, t)| t.clone()),
            created_at: now,
            valid_until,
            attempts: 0,
        };
        let shard = self.shard() % SHARDS;
        let write = Write::put(key(shard, now, &id), &notice, None, Cond::Absent);
        (id, write)
    }

    /// Where a transaction has no notice to write: a condition that always
    /// holds, on an outbox key nobody holds, so that the store gets the
    /// same requests as with a notice (LOG-3: the same requests whoever is
    /// asked about; an item's size may differ).
    pub fn no_notice(&self) -> Write {
        let now = self.now();
        let id = new_ulid(self.rng.as_ref(), now).to_string();
        Write::Check {
            key: key(self.shard() % SHARDS, now, &id),
            cond: Cond::Any,
        }
    }

    /// A link's token, from its notice's ID and the server key.
    fn link_token(&self, id: &str) -> String {
        use base64::Engine as _;
        let msg = format!("tobira/outbox-link/{id}");
        let mac = hmac_sha256(self.config.link_key.expose(), msg.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
    }

    /// The sender's sweep: every notice that is due, from every partition.
    pub async fn deliver_due(&self, ctx: &Ctx) -> Result<Delivered> {
        let now = self.now();
        let mut done = Delivered::default();
        for shard in 0..SHARDS {
            let q = Query {
                pk: format!("OUTBOX#{shard}"),
                sk_prefix: String::new(),
                after: None,
                limit: SWEEP,
            };
            for item in self.store.query(&q, now).await? {
                if due_of(&item.key).is_some_and(|d| d <= now.millis()) {
                    self.deliver_item(item, ctx, &mut done).await;
                }
            }
        }
        Ok(done)
    }

    /// The sender, for the items a stream names: those still there and due
    /// (a claimed item reappears under its next try's time: not yet).
    pub async fn deliver_keys(&self, keys: &[Key], ctx: &Ctx) -> Result<Delivered> {
        let now = self.now();
        let mut done = Delivered::default();
        let keys: Vec<Key> = keys
            .iter()
            .filter(|k| is_outbox_key(k) && due_of(k).is_some_and(|d| d <= now.millis()))
            .cloned()
            .collect();
        for chunk in keys.chunks(crate::store::MAX_READS) {
            for item in self.store.get_many(chunk, now).await?.into_iter().flatten() {
                self.deliver_item(item, ctx, &mut done).await;
            }
        }
        Ok(done)
    }

    /// The key of a link mail's token item (`RESET#…`, `SETUP#…`): the link
    /// works while it is there.
    fn link_item(&self, n: &Notice) -> Option<Key> {
        if !n.link {
            return None;
        }
        let hash = crate::random::token_hash(&self.link_token(&n.id));
        match n.kind.as_str() {
            "setup.link" => Some(crate::model::keys::setup_token(&hash)),
            "password.link" => Some(crate::model::keys::reset_token(&hash)),
            _ => None,
        }
    }

    /// One item: claim it, send it, delete it — or give it up.
    async fn deliver_item(&self, item: Item, ctx: &Ctx, done: &mut Delivered) {
        let Ok(mut n) = item.parse::<Notice>() else {
            // Set aside among the dead letters (its key, never its body), so
            // that it does not hold up its partition.
            let now = self.now();
            let dead = DeadNotice {
                id: item.key.sk.clone(),
                kind: "unreadable".into(),
                to: String::new(),
                subject: String::new(),
                user_id: None,
                tenant_id: None,
                created_at: now,
                dead_at: now,
                attempts: 0,
                reason: format!("unreadable item {}/{}", item.key.pk, item.key.sk),
            };
            let writes = vec![
                Write::Delete {
                    key: item.key.clone(),
                    cond: Cond::Version(item.version),
                },
                Write::put(dead_key(&item.key.sk), &dead, None, Cond::Any),
                self.audit(ctx, "notice.undelivered", None, Some("unreadable".into())),
            ];
            if self.store.write(writes, self.now()).await.is_ok() {
                tracing::error!(key = %item.key.sk, "outbox: unreadable item set aside");
                done.dead += 1;
            }
            return;
        };
        let now = self.now();
        let expired = n.valid_until.is_some_and(|t| now >= t);
        if expired || n.attempts >= MAX_ATTEMPTS {
            let reason = if expired { "expired" } else { "attempts" };
            let read = Cond::Version(item.version);
            if self.give_up(&n, &item.key, read, reason, ctx).await {
                done.dead += 1;
            }
            return;
        }
        if let Some(link) = self.link_item(&n) {
            // A newer link, a correction, a disabled account: this one no
            // longer works, so its mail is not sent (nor retried).
            match self.store.get(&link, now).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let drop = vec![Write::Delete {
                        key: item.key.clone(),
                        cond: Cond::Version(item.version),
                    }];
                    if self.store.write(drop, now).await.is_ok() {
                        tracing::info!(id = %n.id, kind = %n.kind, "outbox: link voided; not mailed");
                        done.voided += 1;
                    }
                    return;
                }
                Err(_) => return, // tried at the next sweep
            }
        }
        n.attempts += 1;
        let shard = item
            .key
            .pk
            .trim_start_matches("OUTBOX#")
            .parse()
            .unwrap_or(0);
        let next = key(shard, now.plus(backoff(n.attempts)), &n.id);
        let claim = vec![
            Write::Delete {
                key: item.key.clone(),
                cond: Cond::Version(item.version),
            },
            Write::put(next.clone(), &n, None, Cond::Absent),
        ];
        match self.store.write(claim, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return, // another sender has it
            Err(e) => {
                tracing::warn!(error = %e, id = %n.id, "outbox: claim failed; tried later");
                return;
            }
        }
        let mut mail = n.mail.clone();
        if n.link {
            let token = self.link_token(&n.id);
            mail.text = mail.text.replace(LINK_SLOT, &token);
            mail.html = mail.html.replace(LINK_SLOT, &token);
        }
        let sent = match tokio::time::timeout(SEND_TIMEOUT, self.mailer.send(&mail)).await {
            Ok(r) => r,
            Err(_) => Err(crate::delivery::DeliveryError::Unavailable(
                "no answer in time".into(),
            )),
        };
        match sent {
            Ok(()) => {
                done.sent += 1;
                // Still at `next`: nobody took it over meanwhile (a take-over
                // moves it on).
                let sent = vec![Write::Delete {
                    key: next,
                    cond: Cond::Exists,
                }];
                if let Err(e) = self.store.write(sent, self.now()).await {
                    // Sent again at its next try: a duplicate, not a loss.
                    tracing::warn!(error = %e, id = %n.id, "outbox: sent but not deleted");
                }
            }
            Err(e) if n.attempts >= MAX_ATTEMPTS => {
                tracing::error!(error = %e, id = %n.id, kind = %n.kind, "outbox: last try failed");
                if self
                    .give_up(&n, &next, Cond::Exists, &e.to_string(), ctx)
                    .await
                {
                    done.dead += 1;
                }
            }
            Err(e) => {
                done.retrying += 1;
                tracing::warn!(
                    error = %e, id = %n.id, kind = %n.kind, attempt = n.attempts,
                    "outbox: not sent; tried again later"
                );
            }
        }
    }

    /// The dead letter of `n` (at `at`, on `cond`) and its audit record,
    /// in one write with the item's removal. False if another sender got
    /// there first or the store failed (then the item stays, and the next
    /// sweep tries again).
    async fn give_up(&self, n: &Notice, at: &Key, cond: Cond, reason: &str, ctx: &Ctx) -> bool {
        let now = self.now();
        let dead = DeadNotice {
            id: n.id.clone(),
            kind: n.kind.clone(),
            to: n.mail.to.clone(),
            subject: n.mail.subject.clone(),
            user_id: n.user_id.clone(),
            tenant_id: n.tenant_id.clone(),
            created_at: n.created_at,
            dead_at: now,
            attempts: n.attempts,
            reason: reason.chars().take(300).collect(),
        };
        let who = n.user_id.as_deref().zip(n.tenant_id.as_ref());
        let detail = format!("{} ({}; {} tries)", n.kind, dead.reason, n.attempts);
        let mut writes = vec![
            Write::Delete {
                key: at.clone(),
                cond,
            },
            Write::put(dead_key(&n.id), &dead, None, Cond::Absent),
            self.audit(ctx, "notice.undelivered", who, Some(detail)),
        ];
        // A link nobody received dies with its mail; a pending user whose
        // setup mail is given up counts as not sent again, so that the
        // migration's mail job sends a new one (SET-1).
        writes.extend(self.link_item(n).map(|key| Write::Delete {
            key,
            cond: Cond::Any,
        }));
        if let (true, Some(id)) = (n.kind == "setup.link", &n.user_id) {
            match self.user(id).await {
                // Still pending, and no newer link was sent since this one.
                Ok(Some((mut u, v)))
                    if u.state == crate::model::UserState::PendingSetup
                        && u.setup_sent_at.is_some_and(|t| t <= n.created_at) =>
                {
                    u.setup_sent_at = None;
                    u.updated_at = now;
                    writes.extend(crate::directory::user_writes(&u, Cond::Version(v)));
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        match self.store.write(writes, now).await {
            Ok(()) => {
                tracing::error!(id = %n.id, kind = %n.kind, reason, "outbox: notice given up");
                true
            }
            Err(_) => false,
        }
    }

    /// The dead letters (an operator's list), oldest first.
    pub async fn dead_notices(&self, limit: usize) -> Result<Vec<DeadNotice>> {
        let q = Query {
            pk: DEAD.into(),
            sk_prefix: String::new(),
            after: None,
            limit,
        };
        let items = self.store.query(&q, self.now()).await?;
        Ok(items
            .iter()
            .filter_map(|i| i.parse::<DeadNotice>().ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        let s: Vec<u64> = (1..=MAX_ATTEMPTS).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(s, [30, 60, 120, 240, 480, 960, 1920, 3600]);
    }

    #[test]
    fn keys_sort_by_due_time() {
        let a = key(3, Timestamp::from_secs(100), "01B");
        let b = key(3, Timestamp::from_secs(1000), "01A");
        assert!(a.sk < b.sk);
        assert_eq!(due_of(&a), Some(100_000));
        assert!(is_outbox_key(&a));
        assert!(!is_outbox_key(&dead_key("01A")));
    }
}
