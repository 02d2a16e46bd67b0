//! The admin's list of a tenant's users (ADM-5) over the directory
//! (`crate::directory`): a page is one query of the tenant's entries,
//! however large the tenant, plus one batched read of the page's lock
//! counters ("locked now" is a matter of time, not of the entry).

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::directory::{search_term, Entry, Shown};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::model::{keys, User, UserState};
use crate::softlock::LockState;
use crate::store::{Item, Query, MAX_READS};

/// Users on one page.
pub const PAGE_SIZE: usize = 50;
/// Directory entries one request reads at most while filtering: a search
/// or a status filter over a large tenant answers a shorter page and a
/// cursor rather than reading the whole tenant.
pub const READ_BUDGET: usize = 200;
/// A search has at most this many characters.
pub const QUERY_MAX: usize = 100;

/// A user's status on the list (ADM-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Pending,
    Disabled,
    /// Active, but locked out now (LOG-2); an admin may unlock (ADM-3).
    Locked,
}

impl Status {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "pending" => Self::Pending,
            "disabled" => Self::Disabled,
            "locked" => Self::Locked,
            _ => return None,
        })
    }
}

/// One user on the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub user: Shown,
    pub status: Status,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserPage {
    pub items: Vec<Listed>,
    /// Where the next page starts; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What the admin asks for.
#[derive(Clone, Debug, Default)]
pub struct UserQuery<'a> {
    /// The admin's own tenant when absent.
    pub tenant_id: Option<&'a str>,
    pub q: Option<&'a str>,
    pub status: Option<&'a str>,
    pub cursor: Option<&'a str>,
}

impl App {
    // home of ADM-5
    /// ADM-5: one page of a tenant's users (name, e-mail, login ID, role,
    /// phone, status), in the order they were created, optionally only
    /// those of one status or whose name, e-mail or login ID holds the
    /// search. At most [`READ_BUDGET`] entries are read per page, and the
    /// lock counters of the candidates in one batched read per 100.
    pub async fn list_users(&self, admin: &User, q: &UserQuery<'_>) -> Result<UserPage> {
        super::require_admin(admin)?;
        let tenant = match q.tenant_id.map(str::trim).filter(|t| !t.is_empty()) {
            None => admin.tenant_id.clone(),
            Some(t) => {
                // Own or a child tenant (ADM-4); any other is as if it did
                // not exist.
                let t = TenantId::parse(t)?;
                if !self.administers(admin, &t).await? {
                    return Err(Error::NotFound);
                }
                t
            }
        };
        let status = match q.status.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(Status::parse(s).ok_or_else(|| Error::invalid("invalid_status"))?),
        };
        let search = search_term(q.q, QUERY_MAX)?;
        let after = match q.cursor.filter(|c| !c.is_empty()) {
            Some(c) if c.len() == 26 && c.parse::<ulid::Ulid>().is_ok() => {
                Some(format!("USER#{c}"))
            }
            Some(_) => return Err(Error::invalid("invalid_cursor")),
            None => None,
        };
        let filtering = status.is_some() || search.is_some();
        let now = self.now();
        let batch = self
            .store
            .query(
                &Query {
                    pk: keys::tenant_members(&tenant),
                    sk_prefix: "USER#".into(),
                    after,
                    limit: if filtering {
                        READ_BUDGET
                    } else {
                        PAGE_SIZE + 1
                    },
                },
                now,
            )
            .await?;
        let read_all = batch.len()
            < if filtering {
                READ_BUDGET
            } else {
                PAGE_SIZE + 1
            };
        let mut entries = Vec::with_capacity(batch.len());
        for item in &batch {
            entries.extend(self.entry_of(item).await?);
        }
        // Only the entries that could still be shown need their lock read.
        let candidates: Vec<&Entry> = entries
            .iter()
            .filter(|e| search.as_ref().is_none_or(|k| e.text.contains(k.as_str())))
            .filter(|e| match status {
                None => true,
                Some(Status::Active | Status::Locked) => e.state == UserState::Active,
                Some(Status::Pending) => e.state == UserState::PendingSetup,
                Some(Status::Disabled) => e.state == UserState::Disabled,
            })
            .collect();
        let locked = self.locked_now(&candidates).await?;
        let mut items = Vec::new();
        let mut last_seen = None;
        for (e, locked) in candidates.into_iter().zip(locked) {
            let shown = match e.state {
                UserState::Active if locked => Status::Locked,
                UserState::Active => Status::Active,
                UserState::PendingSetup => Status::Pending,
                UserState::Disabled => Status::Disabled,
            };
            if status.is_some_and(|s| s != shown) {
                continue;
            }
            if items.len() == PAGE_SIZE {
                // One more than a page: the page ends at the one before.
                return Ok(UserPage {
                    next_cursor: last_seen,
                    items,
                });
            }
            last_seen = Some(e.shown.id.clone());
            items.push(Listed {
                user: e.shown.clone(),
                status: shown,
            });
        }
        // The budget ran out before the tenant did: go on from the last
        // entry read, even if this page is short.
        let next_cursor = (!read_all).then(|| {
            batch
                .last()
                .map(|i| i.key.sk.trim_start_matches("USER#").to_string())
        });
        Ok(UserPage {
            items,
            next_cursor: next_cursor.flatten(),
        })
    }

    /// The entry of a directory item; an entry written before entries held
    /// the list's fields (`{}`) is read from the user record instead.
    pub(super) async fn entry_of(&self, item: &Item) -> Result<Option<Entry>> {
        if let Ok(e) = item.parse::<Entry>() {
            return Ok(Some(e));
        }
        let id = item.key.sk.trim_start_matches("USER#");
        Ok(self.user(id).await?.map(|(u, _)| Entry::of(&u)))
    }

    /// Whether each active entry's sign-in is locked now (LOG-2): one
    /// batched read per [`MAX_READS`] entries.
    async fn locked_now(&self, entries: &[&Entry]) -> Result<Vec<bool>> {
        let now = self.now();
        let mut out = vec![false; entries.len()];
        let active: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].state == UserState::Active)
            .collect();
        for chunk in active.chunks(MAX_READS) {
            let keys: Vec<_> = chunk
                .iter()
                .map(|&i| keys::lock("login", &entries[i].shown.id))
                .collect();
            let locks = self.store.get_many(&keys, now).await?;
            for (&i, item) in chunk.iter().zip(locks) {
                out[i] = item
                    .and_then(|it| it.parse::<LockState>().ok())
                    .is_some_and(|s| s.is_locked(now));
            }
        }
        Ok(out)
    }
}
