//! MFA-5: recovery codes. Ten per set, shown once, stored by hash; each
//! works once in place of the factor; a new set voids the old one.

use serde::{Deserialize, Serialize};

use super::codes;
use super::otp::Proved;
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::model::keys;
use crate::store::{get_as, Cond, Write};

/// Codes per set.
pub const RECOVERY_CODES: usize = 10;

/// The current set (`USER#<id>` / `RECOVERY`): hashes of the unused codes.
#[derive(Clone, Serialize, Deserialize)]
struct RecoverySet {
    issued_at: Timestamp,
    unused: Vec<String>,
}

impl App {
    /// MFA-5 / SET-4: the user says they have recorded the codes (the box
    /// is ticked, `recorded: true`); only then the enrolment session ends.
    pub async fn acknowledge_recorded(
        &self,
        token: Option<&str>,
        recorded: bool,
        ctx: &Ctx,
    ) -> Result<()> {
        if !recorded {
            return Err(Error::invalid("not_recorded"));
        }
        self.acknowledge_recovery_codes(token, ctx).await
    }

    /// A new set: the codes to show once, and the write that replaces the old set.
    pub(crate) fn new_recovery_set(&self, user_id: &str) -> (Vec<String>, Write) {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| codes::recovery_code(self.rng.as_ref()))
            .collect();
        let set = RecoverySet {
            issued_at: self.now(),
            unused: codes
                .iter()
                .filter_map(|c| codes::recovery_hash(c))
                .collect(),
        };
        (
            codes,
            Write::put(keys::recovery(user_id), &set, None, Cond::Any),
        )
    }

    /// How many unused recovery codes the user has left.
    pub async fn recovery_codes_left(&self, user_id: &str) -> Result<usize> {
        let now = self.now();
        Ok(
            get_as::<RecoverySet>(self.store.as_ref(), &keys::recovery(user_id), now)
                .await?
                .map_or(0, |(s, _)| s.unused.len()),
        )
    }

    // home of MFA-5
    /// A code of the current set gives the write that strikes it off
    /// (conditional on the set's version: each code once).
    pub(super) async fn recovery_proof(
        &self,
        user_id: &str,
        code: &str,
        now: Timestamp,
    ) -> Result<Option<Proved>> {
        let Some(hash) = codes::recovery_hash(code) else {
            return Ok(None);
        };
        let key = keys::recovery(user_id);
        let Some((mut set, v)) = get_as::<RecoverySet>(self.store.as_ref(), &key, now).await?
        else {
            return Ok(None);
        };
        let Some(i) = set
            .unused
            .iter()
            .position(|h| crate::random::ct_eq(h.as_bytes(), hash.as_bytes()))
        else {
            return Ok(None);
        };
        set.unused.remove(i);
        Ok(Some(Proved {
            write: Write::put(key, &set, None, Cond::Version(v)),
            what: "recovery",
        }))
    }
}
