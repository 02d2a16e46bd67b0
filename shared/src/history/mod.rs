//! ADM-6: the sign-in history — its events written (here) and read
//! (`read`); where they are stored is `crate::trail`.

mod read;

pub use read::{zone_of, HistoryPage, HistoryQuery, SignInRow, PAGE_SIZE};

use crate::app::{App, Ctx};
use crate::error::Result;
use crate::model::{keys, User};
use crate::store::{Cond, Key, Write};
use crate::trail::{event_of, month, sort_key};

impl App {
    // home of ADM-6
    /// The two items of a sign-in event (see the module): to go into the
    /// transaction of the attempt.
    pub fn sign_in_event(
        &self,
        ctx: &Ctx,
        kind: &str,
        user: Option<&User>,
        detail: Option<String>,
    ) -> [Write; 2] {
        debug_assert!(event_of(kind).is_some(), "{kind} is not a sign-in event");
        let mut event = self.audit_event(
            ctx,
            kind,
            user.map(|u| (u.id.as_str(), &u.tenant_id)),
            detail,
        );
        event.login_id = user.map(|u| u.login_id.as_str().to_string());
        let (record, copy) = match user {
            Some(u) => {
                let m = month(event.at);
                (
                    keys::sign_ins_of_tenant(&u.tenant_id, &m),
                    keys::sign_ins_of_user(&u.id, &m),
                )
            }
            None => {
                let shard = self.shard();
                (
                    keys::audit_partition(None, event.at, shard),
                    keys::sign_ins_anonymous(event.at, shard),
                )
            }
        };
        let sk = sort_key(event.at, &event.id);
        [record, copy].map(|pk| Write::put(Key::new(pk, sk.clone()), &event, None, Cond::Absent))
    }

    /// A sign-in event on its own.
    pub async fn record_sign_in(
        &self,
        ctx: &Ctx,
        kind: &str,
        user: Option<&User>,
        detail: Option<String>,
    ) -> Result<()> {
        let writes = self.sign_in_event(ctx, kind, user, detail).to_vec();
        self.store.write(writes, self.now()).await?;
        Ok(())
    }
}
