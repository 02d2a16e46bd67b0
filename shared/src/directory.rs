//! The user directory: one entry per user in its tenant's partition, with
//! what a list of users shows (ADM-5), written in the same atomic write as
//! the user record ([`user_writes`]). A leaf module: the account-state home
//! and the use cases that create users write through it.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::{keys, Role, User, UserState};
use crate::store::{Cond, Write};

/// Text as search compares it: full-width ASCII and the ideographic space
/// folded to their ASCII forms, lower case (so `ＡＢＣ` finds `abc`).
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// A search as typed: trimmed, at most `max` characters, folded; `None`
/// when there is nothing to search for.
pub fn search_term(q: Option<&str>, max: usize) -> Result<Option<String>, Error> {
    match q.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) if k.chars().count() > max => Err(Error::invalid("too_long")
            .with("field", "q")
            .with("max", max)),
        Some(k) => Ok(Some(fold(k))),
        None => Ok(None),
    }
}

/// What a list of users shows of one (ADM-5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    pub id: String,
    pub name: String,
    pub email: String,
    pub login_id: String,
    pub role: Role,
    pub phone: String,
}

/// The directory entry: what the list shows, the state and the search
/// text, kept beside the user record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub shown: Shown,
    pub state: UserState,
    /// Name, e-mail and login ID, width- and case-folded, for search.
    pub text: String,
}

impl Entry {
    pub fn of(u: &User) -> Self {
        Self {
            shown: Shown {
                id: u.id.clone(),
                name: u.name.as_str().to_string(),
                email: u.email.as_str().to_string(),
                login_id: u.login_id.as_str().to_string(),
                role: u.role,
                phone: u.phone.clone(),
            },
            state: u.state,
            text: fold(&format!(
                "{}\n{}\n{}",
                u.name.as_str(),
                u.email.as_str(),
                u.login_id.as_str()
            )),
        }
    }
}

/// The user record and its directory entry, in one atomic write: the only
/// way a user is written, so the list never disagrees with the account.
pub fn user_writes(user: &User, cond: Cond) -> [Write; 2] {
    [
        Write::put(keys::user(&user.id), user, None, cond),
        Write::put(
            keys::tenant_member(&user.tenant_id, &user.id),
            &Entry::of(user),
            None,
            Cond::Any,
        ),
    ]
}
