//! The migration window (MIG-11, MIG-12): while it is open the legacy
//! portal may show and correct a migrated user's identity and send the setup
//! link; closing it mails every user still pending setup what they will need
//! for the identity entry of RST-4, and voids their setup links.

use serde::{Deserialize, Serialize};

use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::LoginId;
use crate::model::{keys, User, UserState};
use crate::store::{get_as, Cond, StoreError, Write};

use super::run::{Job, MailReport};
use crate::setup::IdentityFix;

/// `MIGSTATE` / `WINDOW`: when `close-window` closed it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Closed {
    closed_at: Timestamp,
}

/// MIG-11: what the legacy portal may correct. `None` keeps the value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityUpdate {
    pub login_id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// MIG-11: what the legacy portal is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdentityView {
    pub login_id: String,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub tenant_id: String,
    pub state: UserState,
    pub setup_link_sent: bool,
}

fn window_closed() -> Error {
    Error::conflict("window_closed")
}

impl App {
    // home of MIG-11
    /// Whether the window is open now: configured, today (JST) within its
    /// dates, and not closed by `close-window`.
    pub async fn window_open(&self) -> Result<bool> {
        let Some((start, end)) = &self.config.migration_window else {
            return Ok(false);
        };
        let today = self.now().jst_date();
        if today < *start || today > *end {
            return Ok(false);
        }
        Ok(self.closed_at().await?.is_none())
    }

    async fn closed_at(&self) -> Result<Option<Timestamp>> {
        Ok(get_as::<Closed>(
            self.store.as_ref(),
            &keys::migration_state("WINDOW"),
            self.now(),
        )
        .await?
        .map(|(c, _)| c.closed_at))
    }

    pub async fn window_state(&self) -> Result<serde_json::Value> {
        let closed = self.closed_at().await?;
        Ok(serde_json::json!({
            "start": self.config.migration_window.as_ref().map(|w| w.0.clone()),
            "end": self.config.migration_window.as_ref().map(|w| w.1.clone()),
            "open": self.window_open().await?,
            "closed_at": closed.map(|t| t.rfc3339()),
        }))
    }

    /// A migrated user still pending setup, by login ID (MIG-11).
    async fn migrated_pending(&self, login_id: &str) -> Result<(User, u64)> {
        let login = LoginId::parse(login_id)?;
        let owner = self.login_owner(&login).await?.ok_or(Error::NotFound)?;
        let (user, v) = self.user(&owner.id).await?.ok_or(Error::NotFound)?;
        if user.ecid.is_none() {
            return Err(Error::NotFound);
        }
        Ok((user, v))
    }

    /// MIG-11: show a migrated user's identity to the legacy portal.
    pub async fn legacy_identity(&self, login_id: &str) -> Result<IdentityView> {
        if !self.window_open().await? {
            return Err(window_closed());
        }
        let (u, _) = self.migrated_pending(login_id).await?;
        Ok(IdentityView {
            login_id: u.login_id.as_str().into(),
            email: u.email.as_str().into(),
            name: u.name.as_str().into(),
            phone: u.phone.clone(),
            tenant_id: u.tenant_id.as_str().into(),
            state: u.state,
            setup_link_sent: u.setup_sent_at.is_some(),
        })
    }

    /// MIG-11: confirm or correct a pending user's e-mail, name and phone,
    /// then mail the setup link to the (corrected) registered address. Every
    /// field is checked before anything is written.
    pub async fn correct_identity(&self, upd: &IdentityUpdate, ctx: &Ctx) -> Result<()> {
        if !self.window_open().await? {
            return Err(window_closed());
        }
        let fix = IdentityFix::parse(
            upd.email.as_deref(),
            upd.name.as_deref(),
            upd.phone.as_deref(),
        )?;
        let (user, _) = self.migrated_pending(&upd.login_id).await?;
        self.fix_pending_identity(&user.id, &fix, None, ctx).await
    }

    /// MIG-12: close the window and mail every user still pending setup. A
    /// dry run lists who would be mailed and changes nothing. The job runs
    /// within the time budget; the schedule continues it.
    pub async fn close_window(&self, dry_run: bool, ctx: &Ctx) -> Result<MailReport> {
        if !dry_run {
            let now = self.now();
            let w = Write::put(
                keys::migration_state("WINDOW"),
                &Closed { closed_at: now },
                None,
                Cond::Absent,
            );
            let audit = self.audit(ctx, "migration.window_closed", None, None);
            match self.store.write(vec![w, audit], now).await {
                Ok(()) | Err(StoreError::Conflict) => {} // closed before: keep that time
                Err(e) => return Err(e.into()),
            }
        }
        self.start_job(Job::CloseWindow {}, dry_run, ctx).await
    }

    // home of MIG-12
    /// MIG-12 for one user: the notice, then the user marked as noticed with
    /// the setup link voided (a fault after the mail means a second notice
    /// on the re-run, never a lost one).
    pub(crate) async fn send_closure_notice(&self, user_id: &str, ctx: &Ctx) -> Result<()> {
        let (user, _) = self.user(user_id).await?.ok_or(Error::NotFound)?;
        if user.state != UserState::PendingSetup || user.closure_notice_at.is_some() {
            return Err(Error::conflict("not_pending"));
        }
        let mail = self
            .change_notice(&user, &Change::WindowClosed)
            .ok_or(Error::NotFound)?;
        self.mailer.send(&mail).await?;
        for round in 0..5 {
            let now = self.now();
            let Some((mut u, v)) = self.user(user_id).await? else {
                return Ok(());
            };
            if u.closure_notice_at.is_some() {
                return Ok(());
            }
            u.closure_notice_at = Some(now);
            let writes = self
                .apply_change(&mut u, v, Change::WindowClosed, Made::by(ctx))
                .writes;
            match self.store.write(writes, now).await {
                Ok(()) => return Ok(()),
                Err(e) => self.lost_race(round, e).await?,
            }
        }
        Err(Error::Unavailable { what: "store" })
    }
}
