//! The login ID a record gets (MIG-3), decided by the staged set alone.

use super::*;

impl App {
    // home of MIG-3
    /// MIG-3: the login ID a valid record gets, or why it gets none. The
    /// answer is a function of the staged set (the claimant index) and of
    /// users that came from elsewhere, never of the order records are applied:
    /// - the claimant that sorts first (ecid, then tenant) keeps the plain ID,
    ///   unless a user from elsewhere already has it;
    /// - every other claimant gets `<loginId>_<ecid>`; several records with
    ///   one ecid under one login ID (one legacy user under several contracts)
    ///   would rename alike, so only the first of them (by tenant) gets it;
    /// - a renamed ID that some staged record wants as its plain ID, or that a
    ///   user from elsewhere has, is never given: that record is rejected.
    pub(crate) async fn plan(&self, v: &ValidRecord) -> Result<std::result::Result<Plan, String>> {
        let claimants = self
            .query_all(&keys::claimants(&v.login_id.key()), "")
            .await?;
        let mine = keys::claimant_sk(&v.tenant_id, &v.ecid);
        let phone_after = phone::normalise_legacy(&v.phone, &self.config.default_phone);
        let first = claimants.first().map(|i| i.key.sk.clone());
        // Does the first claimant keep (or already hold) the plain ID?
        let plain_to_first = match self.login_owner(&v.login_id).await? {
            None => true,
            Some(owner) => owner
                .ecid
                .as_ref()
                .is_some_and(|e| Some(keys::claimant_sk(&owner.tenant_id, e)) == first),
        };
        let is_first = first.as_deref().is_none_or(|f| f == mine);
        if is_first && plain_to_first {
            return Ok(Ok(Plan {
                login: v.login_id.clone(),
                renamed: false,
                phone_after,
            }));
        }
        let renamed = match LoginId::parse(&format!("{}_{}", v.login_id.as_str(), v.ecid.as_str()))
        {
            Ok(l) => l,
            Err(e) => return Ok(Err(format!("renamed login ID is invalid: {e}"))),
        };
        let same_ecid = format!("{}#", v.ecid.as_str());
        let rival = claimants
            .iter()
            .enumerate()
            .filter(|(i, _)| !(*i == 0 && plain_to_first))
            .map(|(_, c)| &c.key.sk)
            .find(|sk| sk.starts_with(&same_ecid));
        if let Some(sk) = rival.filter(|sk| **sk != mine) {
            let tenant = sk.split_once('#').map_or("", |(_, t)| t);
            return Ok(Err(format!(
                "renamed login ID {renamed} goes to the same legacy user under contract {tenant}"
            )));
        }
        let wanted = self
            .store
            .query(
                &Query {
                    pk: keys::claimants(&renamed.key()),
                    sk_prefix: String::new(),
                    after: None,
                    limit: 1,
                },
                self.now(),
            )
            .await?;
        if !wanted.is_empty() {
            return Ok(Err(format!(
                "login ID {} is taken and its renamed form {} is another record's login ID",
                v.login_id, renamed
            )));
        }
        if self.login_owner(&renamed).await?.is_some() {
            return Ok(Err(format!(
                "login ID {} and its renamed form {} are both taken",
                v.login_id, renamed
            )));
        }
        Ok(Ok(Plan {
            login: renamed,
            renamed: true,
            phone_after,
        }))
    }

    /// The user who holds a login ID, if any.
    pub async fn login_owner(&self, login: &LoginId) -> Result<Option<User>> {
        let now = self.now();
        let Some((r, _)) =
            get_as::<LoginRef>(self.store.as_ref(), &keys::login(login), now).await?
        else {
            return Ok(None);
        };
        Ok(self.user(&r.user_id).await?.map(|(u, _)| u))
    }

    pub(super) fn report_for(s: &Staged, plan: &std::result::Result<Plan, String>) -> RecordReport {
        let phone_before = s.record.phone.clone().unwrap_or_default();
        let mut r = RecordReport {
            ecid: s.record.ecid.clone(),
            tenant_id: s.record.tenant_id.clone(),
            login_id: s.record.login_id.clone(),
            outcome: Outcome::Migrated,
            final_login_id: None,
            phone_before: None,
            phone_after: None,
            reason: None,
            error: None,
        };
        match plan {
            Err(reason) => {
                r.outcome = Outcome::Rejected;
                r.reason = Some(reason.clone());
            }
            Ok(p) => {
                r.final_login_id = Some(p.login.as_str().to_string());
                let phone_changed = p.phone_after != phone_before;
                r.phone_before = Some(phone_before);
                r.phone_after = Some(p.phone_after.clone());
                r.outcome = if p.renamed {
                    Outcome::Renamed
                } else if phone_changed {
                    Outcome::PhoneNormalised
                } else {
                    Outcome::Migrated
                };
            }
        }
        r
    }

    pub(crate) async fn plan_one(&self, staged: &Staged) -> Result<RecordReport> {
        let plan = match staged.record.validate() {
            Ok(v) => self.plan(&v).await?,
            Err(e) => Err(e.to_string()),
        };
        Ok(Self::report_for(staged, &plan))
    }
}
