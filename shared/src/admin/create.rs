//! Accounts created by a tenant admin (ADM-1, ADM-2): the user is created
//! pending, and RST-4's path sets the first password: a registration mail
//! with the login ID, a password link and its expiry, and, if that mail is
//! lost or the link expired, "forgot password" with login ID and e-mail
//! sends a new one.

use crate::app::{App, Ctx};
use crate::config::LoginIdPolicy;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::ids::{Email, LoginId, PersonName, TenantId};
use crate::mfa::Method;
use crate::model::{keys, LastChange, LoginRef, Profile, Role, User};
use crate::random::new_ulid;
use crate::reset::PURPOSE_REGISTRATION;
use crate::store::{Cond, Write};

use super::user_writes;

/// ADM-1's fields (* required): name*, e-mail*, title, phone*, mobile,
/// mail language*, time zone*, second-factor method*, role*, group,
/// comment; and the login ID when the admin names one (ADM-2).
#[derive(Clone, Debug, Default)]
pub struct NewUser<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub lang: Lang,
    /// The second-factor method the admin chose (SET-4 offers only it).
    pub method: Option<&'a str>,
    pub role: Role,
    pub profile: ProfileFields<'a>,
    /// ADM-2: none: the policy's (`TOBIRA_LOGIN_ID_POLICY`).
    pub login_id: Option<&'a str>,
    /// ADM-8: the admin's login ID, when an admin creates the user.
    pub created_by: Option<&'a str>,
}

/// ADM-1's optional fields as given: `None` leaves a field as it is, an
/// empty one clears it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProfileFields<'a> {
    pub title: Option<&'a str>,
    pub mobile: Option<&'a str>,
    /// An IANA zone; none: Japan's.
    pub time_zone: Option<&'a str>,
    pub group: Option<&'a str>,
    pub comment: Option<&'a str>,
}

impl ProfileFields<'_> {
    /// `p` with the fields given, each checked; an error changes nothing
    /// the caller keeps.
    pub fn apply_to(&self, p: &mut Profile) -> Result<()> {
        if self.title.is_some() {
            p.title = short(self.title, "title", SHORT_MAX, false)?;
        }
        if self.mobile.is_some() {
            p.mobile = digits(self.mobile, "mobile")?;
        }
        if self.time_zone.is_some() {
            p.time_zone = time_zone(self.time_zone)?;
        }
        if self.group.is_some() {
            p.group = short(self.group, "group", SHORT_MAX, false)?;
        }
        if self.comment.is_some() {
            p.comment = short(self.comment, "comment", COMMENT_MAX, true)?;
        }
        Ok(())
    }
}

/// Titles and groups have at most this many characters.
pub const SHORT_MAX: usize = 100;
/// A comment has at most this many characters.
pub const COMMENT_MAX: usize = 1000;

/// ADM-2: the login ID the policy gives an e-mail address: the address, or
/// the address with `.cs` added, cut first to 37 characters so that the
/// login ID has at most 40 (seed 002: "38 文字以降を削除して末尾に「.cs」").
pub fn login_id_for(email: &str, policy: LoginIdPolicy) -> String {
    match policy {
        LoginIdPolicy::Email => email.to_string(),
        LoginIdPolicy::EmailCs => {
            let kept: String = email.chars().take(37).collect();
            format!("{kept}.cs")
        }
    }
}

impl App {
    // home of ADM-1
    /// ADM-1: an admin creates a user of their own tenant (any other
    /// tenant named is refused as not found).
    pub async fn admin_create_user(
        &self,
        admin: &User,
        n: &NewUser<'_>,
        ctx: &Ctx,
    ) -> Result<(String, String)> {
        super::require_admin(admin)?;
        if TenantId::parse(n.tenant_id)? != admin.tenant_id {
            return Err(Error::NotFound);
        }
        let by_admin = NewUser {
            created_by: Some(admin.login_id.as_str()),
            ..n.clone()
        };
        self.create_user(&by_admin, ctx).await
    }

    // home of ADM-2
    /// ADM-1 / ADM-2: create a user pending setup, every field checked
    /// before anything is written, the login ID unique portal-wide (409
    /// `login_taken`, also when two admins race for one), and mail the
    /// registration link (RST-4). Answers the new user's ID and login ID.
    pub async fn create_user(&self, n: &NewUser<'_>, ctx: &Ctx) -> Result<(String, String)> {
        let tenant_id = TenantId::parse(n.tenant_id)?;
        let name = PersonName::parse(n.name)?;
        let email = Email::parse(n.email)?;
        let login_id = match n.login_id.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => LoginId::parse(l)?,
            None => LoginId::parse(&login_id_for(email.as_str(), self.config.login_id_policy))?,
        };
        let phone =
            digits(Some(n.phone), "phone")?.ok_or_else(|| Error::invalid("invalid_phone"))?;
        let method = match n.method {
            None => None,
            Some(m) => Some(
                Method::parse(m)
                    .filter(|m| matches!(m, Method::Totp | Method::Email))
                    .ok_or_else(|| Error::invalid("invalid_method"))?,
            ),
        };
        let mut profile = Profile::default();
        n.profile.apply_to(&mut profile)?;
        let now = self.now();
        let user = User {
            phone,
            role: n.role,
            lang: n.lang,
            profile,
            preset_method: method.map(|m| m.as_str().to_string()),
            last_change: n.created_by.map(|by| LastChange {
                at: now,
                what: "admin.user_created".into(),
                by: by.to_string(),
            }),
            ..User::pending(
                new_ulid(self.rng.as_ref(), now).to_string(),
                tenant_id.clone(),
                login_id.clone(),
                email,
                name,
                now,
            )
        };
        let mut writes = vec![
            Write::put(
                keys::login(&login_id),
                &LoginRef {
                    user_id: user.id.clone(),
                },
                None,
                Cond::Absent,
            ),
            self.audit(
                ctx,
                "admin.user_created",
                Some((&user.id, &tenant_id)),
                None,
            ),
        ];
        // The directory entry is new too: a user ID is never reused.
        writes.extend(user_writes(&user, Cond::Absent));
        self.store
            .write(writes, now)
            .await
            .map_err(|e| e.lost_race_is("login_taken"))?;
        self.send_password_link(&user.id, PURPOSE_REGISTRATION, ctx)
            .await?;
        Ok((user.id, login_id.as_str().to_string()))
    }
}

/// A phone number as typed, kept as its digits: 4 to 32 of them; none when
/// left empty.
pub(super) fn digits(v: Option<&str>, field: &'static str) -> Result<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let d = crate::phone::digits_of(v);
    if !crate::phone::is_plain_digits(&d) {
        return Err(Error::invalid("invalid_phone").with("field", field));
    }
    Ok(Some(d))
}

/// A short text (title, group) or a comment: trimmed, at most `max`
/// characters, no control characters (a comment keeps its line breaks);
/// none when left empty.
fn short(v: Option<&str>, field: &'static str, max: usize, lines: bool) -> Result<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(Error::invalid("too_long")
            .with("field", field)
            .with("max", max));
    }
    if v.chars()
        .any(|c| c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(Error::invalid("control_characters").with("field", field));
    }
    Ok(Some(v.replace("\r\n", "\n")))
}

/// An IANA time zone (`Asia/Tokyo`), as the zone database names it.
fn time_zone(v: Option<&str>) -> Result<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match v.parse::<chrono_tz::Tz>() {
        Ok(tz) => Ok(Some(tz.name().to_string())),
        Err(_) => Err(Error::invalid("invalid_time_zone")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ADM-2
    #[test]
    fn adm_2_login_id_policies() {
        assert_eq!(
            login_id_for("taro@ntt.com", LoginIdPolicy::Email),
            "taro@ntt.com"
        );
        assert_eq!(
            login_id_for("taro@ntt.com", LoginIdPolicy::EmailCs),
            "taro@ntt.com.cs"
        );
        let long = format!("{}@example.com", "a".repeat(30)); // 42 characters
        let id = login_id_for(&long, LoginIdPolicy::EmailCs);
        assert_eq!(id.chars().count(), 40);
        assert_eq!(id, format!("{}.cs", &long[..37]));
        let exactly_37 = format!("{}@example.com", "b".repeat(25));
        assert_eq!(exactly_37.len(), 37);
        assert_eq!(
            login_id_for(&exactly_37, LoginIdPolicy::EmailCs),
            format!("{exactly_37}.cs")
        );
    }

    #[test]
    fn time_zones_are_the_databases() {
        assert_eq!(
            time_zone(Some(" Asia/Tokyo ")).unwrap().as_deref(),
            Some("Asia/Tokyo")
        );
        assert_eq!(time_zone(Some("")).unwrap(), None);
        assert_eq!(
            time_zone(Some("Mars/Olympus")).unwrap_err().code(),
            "invalid_time_zone"
        );
    }
}
