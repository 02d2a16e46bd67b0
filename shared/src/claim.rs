//! Claiming legacy accounts (CLM-1..4, seed 001): a user proves a legacy
//! account with a service ID and its legacy password; then registers an
//! e-mail as the new login ID (accepting the terms and the privacy policy)
//! and gets a password link; a signed-in user links further legacy accounts
//! the same way; operators link many at once.
//!
//! Migration indexes every legacy service ID (`SERVICE#<id>` / `USER#<user>`)
//! in the same write that creates the user.

use serde::{Deserialize, Serialize};

use crate::account::{Change, Made};
use crate::app::{App, Ctx};
use crate::error::{Error, Result};
use crate::ids::{Email, LoginId, Password};
use crate::legacy_hash;
use crate::model::{keys, LoginRef, User, UserState};
use crate::password;
use crate::random::{secret_token, token_hash};
use crate::session::{Session, Stage};
use crate::softlock::Attempt;
use crate::store::{get_as, Cond, StoreError, Write};

/// `CLAIM#<hash>`: a proven legacy account, for the registration step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClaimGrant {
    pub user_id: String,
}

/// What a successful claim leads to.
#[derive(Debug)]
pub enum Claimed {
    /// CLM-2 next: register an e-mail (the grant goes in a cookie).
    Register { grant: String },
    /// CLM-3: linked to the signed-in account.
    Linked { service_ids: Vec<String> },
}

pub use crate::model::Acceptance;

/// Results of the CLM-4 bulk event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkReport {
    pub action: String,
    pub login_id: String,
    pub linked: u64,
    pub already_linked: u64,
    pub not_found: u64,
    pub rejected: u64,
    pub records: Vec<LinkLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLine {
    pub service_id: String,
    /// `linked`, `already_linked`, `not_found` or `rejected`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A legacy service ID as entered: trimmed, 1-64 letters, digits, `-`, `_`.
pub fn parse_service_id(s: &str) -> Result<String> {
    Ok(crate::ids::plain_id(s, "invalid_service_id")?.to_ascii_lowercase())
}

fn union(into: &mut Vec<String>, more: &[String]) {
    for m in more {
        if !into.iter().any(|x| x.eq_ignore_ascii_case(m)) {
            into.push(m.clone());
        }
    }
}

/// CLM-1..3: whether a legacy password still proves this account. Only an
/// account that was never set up — pending setup, no portal password, no
/// factor, not merged into another, not yet registered to an e-mail by a
/// claim (CLM-2) — can be claimed or linked; from the moment it has a
/// password or a factor its legacy password is nothing. (A registered
/// account that lost its password link asks "forgot password" for another.)
pub fn claimable(u: &User) -> bool {
    u.state == UserState::PendingSetup
        && u.password_hash.is_none()
        && u.methods.is_empty()
        && u.merged_into.is_none()
        && u.privacy.is_none()
}

impl App {
    /// The legacy accounts (migrated users) that hold a service ID: one
    /// query, then one read per holder — and one read of a key nobody holds
    /// when there is none, so an unknown service ID costs the same (CLM-1).
    async fn service_holders(&self, sid: &str) -> Result<Vec<(User, u64)>> {
        let mut out = Vec::new();
        let items = self
            .query_all(&keys::service_partition(sid), "USER#")
            .await?;
        if items.is_empty() {
            self.user(&format!("~{sid}")).await?;
        }
        for item in items {
            let id = item.key.sk.trim_start_matches("USER#");
            if let Some(u) = self.user(id).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// CLM-1..3 as the edge receives a claim: the legacy password as typed
    /// (one that no password could be is a wrong one: same answer), and the
    /// session cookie. A full session links to the signed-in account (CLM-3);
    /// anything else (no cookie, expired, half signed in) claims as a new
    /// registration. A store fault is not taken for "signed out".
    pub async fn claim_with_cookie(
        &self,
        service_id: &str,
        password: &str,
        session: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Claimed> {
        let signed_in = match self.session_at(session, &[Stage::Full]).await {
            Ok(s) => Some(s),
            Err(e @ Error::Unavailable { .. }) => return Err(e),
            Err(_) => None,
        };
        let pw = Password::parse(password).map_err(|_| Error::InvalidCredentials)?;
        self.claim(service_id, &pw, signed_in.as_ref(), ctx).await
    }

    // home of CLM-1
    /// CLM-1: prove a legacy account with a service ID and its legacy
    /// password (bcrypt, SHA-512 crypt or argon2id), then upgrade the stored
    /// hash to argon2id. 3 failures per service ID block it for 10 minutes.
    /// An unknown service ID, a wrong password, a blocked service ID and an
    /// account that is already set up (whose legacy password is then no
    /// credential at all) do the same work — the same store requests, one
    /// legacy verification — and the first three kinds answer alike (the
    /// block is per service ID, known or not). With a full session the
    /// account is linked to the signed-in user (CLM-3).
    pub async fn claim(
        &self,
        service_id: &str,
        pw: &Password,
        signed_in: Option<&Session>,
        ctx: &Ctx,
    ) -> Result<Claimed> {
        let sid = parse_service_id(service_id)?;
        let lock_key = keys::lock("claim", &sid);
        let reserved = self.reserve(&lock_key, self.config.claim_lock).await?;
        let holders = self.service_holders(&sid).await?;
        let blocked = match reserved.attempt {
            Attempt::Locked { until } => Some(until),
            Attempt::Allowed { .. } => None,
        };
        let candidates: Vec<(User, u64)> = holders
            .into_iter()
            .filter(|(u, _)| blocked.is_none() && claimable(u) && u.legacy_password_hash.is_some())
            .collect();
        let hashes: Vec<&str> = candidates
            .iter()
            .filter_map(|(u, _)| u.legacy_password_hash.as_deref())
            .collect();
        // The same verifications whatever holds the service ID (CLM-1).
        let (refs, hashes, typed) = (
            self.config.claim_reference_hashes.clone(),
            hashes.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            pw.clone(),
        );
        let matched = password::off_thread(move || {
            let hashes: Vec<&str> = hashes.iter().map(String::as_str).collect();
            legacy_hash::verify_uniform(&refs, &hashes, typed.expose())
        })
        .await;
        let found = matched.and_then(|i| candidates.into_iter().nth(i));
        let Some((mut legacy, v)) = found else {
            // One transaction of two items, whether or not the block starts.
            let kind = if blocked.is_some() {
                "claim.blocked"
            } else {
                "claim.failed"
            };
            let writes = vec![
                self.audit(ctx, kind, None, Some(sid.clone())),
                if reserved.locks() {
                    self.audit(ctx, "claim.locked", None, Some(sid))
                } else {
                    reserved.touch()
                },
            ];
            self.store.write(writes, self.now()).await?;
            return Err(match blocked {
                Some(until) => Error::Throttled {
                    retry_after_s: Some(self.now().until(until).as_secs().max(1)),
                },
                None => Error::InvalidCredentials,
            });
        };
        let who = Some((legacy.id.as_str(), &legacy.tenant_id));
        let unlock = reserved.clear();
        let now = self.now();
        // CLM-1: the legacy hash becomes argon2id (the legacy password still
        // proves the account, now stored the way the portal stores passwords).
        if legacy_hash::format_of(legacy.legacy_password_hash.as_deref().unwrap_or(""))
            != Some(legacy_hash::LegacyFormat::Argon2id)
            || !password::is_current(legacy.legacy_password_hash.as_deref().unwrap_or(""))
        {
            legacy.legacy_password_hash =
                Some(password::hash_off_thread(pw, self.rng.as_ref()).await);
        }
        legacy.updated_at = now;
        if let Some(s) = signed_in {
            let linked = self
                .link_accounts(&s.user_id, legacy, v, vec![unlock], ctx)
                .await?;
            return Ok(Claimed::Linked {
                service_ids: linked,
            });
        }
        let grant = secret_token(self.rng.as_ref());
        let writes = vec![
            Write::put(keys::user(&legacy.id), &legacy, None, Cond::Version(v)),
            Write::put(
                keys::claim_grant(&token_hash(&grant)),
                &ClaimGrant {
                    user_id: legacy.id.clone(),
                },
                Some(now.plus(self.config.grant_ttl)),
                Cond::Absent,
            ),
            unlock,
            self.audit(ctx, "claim.verified", who, Some(sid)),
        ];
        match self.store.write(writes, now).await {
            Ok(()) => Ok(Claimed::Register { grant }),
            Err(StoreError::Conflict) => Err(Error::conflict("busy")),
            Err(e) => Err(e.into()),
        }
    }

    // home of CLM-2
    /// CLM-2: the proven legacy account takes `email` as its login ID and
    /// e-mail, records the accepted terms and privacy policy, and is mailed a
    /// link to set its password. If the address is already another
    /// account's login ID, that address is told so instead (the answer to
    /// the caller is the same).
    pub async fn claim_register(
        &self,
        grant: &str,
        email: &str,
        accept_terms: bool,
        accept_privacy: bool,
        ctx: &Ctx,
    ) -> Result<()> {
        if !(accept_terms && accept_privacy) {
            return Err(Error::invalid("terms_not_accepted"));
        }
        let email = Email::parse(email)?;
        let login = LoginId::parse(email.as_str())?;
        let grant_key = keys::claim_grant(&token_hash(grant));
        let now = self.now();
        let (g, _) = get_as::<ClaimGrant>(self.store.as_ref(), &grant_key, now)
            .await?
            .ok_or(Error::NotSignedIn)?;
        let (mut user, v) = self.user(&g.user_id).await?.ok_or(Error::NotSignedIn)?;
        if user.state != UserState::PendingSetup || user.merged_into.is_some() {
            return Err(Error::InvalidToken);
        }
        let who = (user.id.clone(), user.tenant_id.clone());
        if let Some(owner) = self.login_owner(&login).await? {
            if owner.id != user.id {
                let mail = crate::messages::already_registered_mail(
                    &self.config.brand,
                    ctx.lang,
                    email.as_str(),
                    &format!("{}/login", self.config.base_url),
                );
                let writes = vec![
                    Write::Delete {
                        key: grant_key,
                        cond: Cond::Any,
                    },
                    self.audit(ctx, "claim.register_taken", Some((&who.0, &who.1)), None),
                    self.notice("claim.register_taken", mail, Some((&who.0, &who.1))),
                ];
                self.store.write(writes, now).await?;
                return Ok(());
            }
        }
        let old_login = user.login_id.clone();
        user.login_id = login.clone();
        user.email = email;
        // CLM-2: the versions the user was shown and accepted.
        user.terms = Some(Acceptance {
            version: self.config.documents.terms_version.clone(),
            at: now,
        });
        user.privacy = Some(Acceptance {
            version: self.config.documents.privacy_version.clone(),
            at: now,
        });
        // SET-1: setup links mailed to the address before end here.
        let mut writes = self
            .apply_change(&mut user, v, Change::Claimed, Made::by(ctx))
            .writes;
        writes.push(Write::Delete {
            key: grant_key,
            cond: Cond::Exists,
        });
        if old_login.key() != login.key() {
            writes.push(Write::put(
                keys::login(&login),
                &LoginRef {
                    user_id: user.id.clone(),
                },
                None,
                Cond::Absent,
            ));
            writes.push(Write::Delete {
                key: keys::login(&old_login),
                cond: Cond::Exists,
            });
        }
        match self.store.write(writes, now).await {
            Ok(()) => {
                self.send_password_link(&user.id, crate::reset::PURPOSE_CLAIM, ctx)
                    .await
            }
            // The grant was used, the account changed, or the address was
            // taken meanwhile: start again.
            Err(StoreError::Conflict) => Err(Error::InvalidToken),
            Err(e) => Err(e.into()),
        }
    }

    // home of CLM-3
    /// CLM-3 / CLM-4: merge a legacy account into `target_id`: the target
    /// gets its service IDs and contract; the legacy account is disabled
    /// and remembers where it went. One atomic write, conditional on both
    /// accounts' versions; only an account never set up ([`claimable`]) is
    /// merged, and its address is told.
    async fn link_accounts(
        &self,
        target_id: &str,
        mut legacy: User,
        legacy_version: u64,
        extra: Vec<Write>,
        ctx: &Ctx,
    ) -> Result<Vec<String>> {
        let (mut target, tv) = self.user(target_id).await?.ok_or(Error::NotFound)?;
        if target.id == legacy.id || !claimable(&legacy) {
            return Err(Error::InvalidCredentials);
        }
        if target.state == UserState::Disabled {
            return Err(Error::conflict("target_disabled"));
        }
        let now = self.now();
        union(&mut target.service_ids, &legacy.service_ids);
        if legacy.tenant_id != target.tenant_id
            && !target.linked_tenants.contains(&legacy.tenant_id)
        {
            target.linked_tenants.push(legacy.tenant_id.clone());
        }
        target.updated_at = now;
        let linked = format!(
            "{} ({})",
            legacy.service_ids.join(","),
            legacy.tenant_id.as_str()
        );
        let merged = Change::Merged { into: &target };
        let applied = self.apply_change(
            &mut legacy,
            legacy_version,
            merged,
            Made::by(ctx).detail(linked),
        );
        let mut writes = extra;
        writes.push(Write::put(
            keys::user(&target.id),
            &target,
            None,
            Cond::Version(tv),
        ));
        writes.extend(applied.writes);
        self.store
            .write(writes, now)
            .await
            .map_err(|e| e.lost_race_is("busy"))?;
        Ok(target.service_ids)
    }

    // home of CLM-4
    /// CLM-4, the `link-services` event: link every legacy account holding
    /// one of `service_ids` to the account `login_id`. Idempotent: a re-run
    /// reports `already_linked`.
    pub async fn link_services_bulk(
        &self,
        login_id: &str,
        service_ids: &[String],
        ctx: &Ctx,
    ) -> Result<LinkReport> {
        let login = LoginId::parse(login_id)?;
        let (target, _) = self.user_by_login(&login).await?.ok_or(Error::NotFound)?;
        let mut report = LinkReport {
            action: "link-services".into(),
            login_id: target.login_id.as_str().into(),
            ..LinkReport::default()
        };
        for raw in service_ids {
            let line = |outcome: &str, reason: Option<String>| LinkLine {
                service_id: raw.clone(),
                outcome: outcome.into(),
                reason,
            };
            let sid = match parse_service_id(raw) {
                Ok(s) => s,
                Err(e) => {
                    report.rejected += 1;
                    report.records.push(line("rejected", Some(e.code().into())));
                    continue;
                }
            };
            let holders = self.service_holders(&sid).await?;
            if holders.is_empty() {
                report.not_found += 1;
                report.records.push(line("not_found", None));
                continue;
            }
            let mut linked = false;
            for (legacy, v) in holders {
                if legacy.id == target.id || legacy.merged_into.as_deref() == Some(&target.id) {
                    continue;
                }
                if legacy.merged_into.is_some() {
                    report.rejected += 1;
                    report
                        .records
                        .push(line("rejected", Some("linked to another account".into())));
                    linked = true; // reported
                    break;
                }
                if !claimable(&legacy) {
                    report.rejected += 1;
                    report.records.push(line(
                        "rejected",
                        Some("the account is set up (it has a password or a factor)".into()),
                    ));
                    linked = true; // reported
                    break;
                }
                self.link_accounts(&target.id, legacy, v, Vec::new(), ctx)
                    .await?;
                report.linked += 1;
                report.records.push(line("linked", None));
                linked = true;
            }
            if !linked {
                report.already_linked += 1;
                report.records.push(line("already_linked", None));
            }
        }
        Ok(report)
    }
}
