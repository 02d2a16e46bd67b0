//! Attachments (CASE-6): files on a case's thread, up to the configured
//! size, of the configured types. The browser posts a file straight to the
//! file store (`crate::files`) with a form that pins where it may go:
//! `att/<tenant>/<case>/<user>/<upload>/` and the file's name. The file is
//! on the case only once confirmed: the key must be the user's own upload
//! on this case of their tenant; the size and checksum are the store's;
//! the type is the configured one for the name's extension. A refused
//! upload is removed; one never confirmed keeps the store's `pending` tag
//! and is removed by the bucket's lifecycle rule. The support desk attaches files it put under
//! `att/<tenant>/<case>/desk/` (`DeskUpdate::attach`).

use super::update::Update;
use super::*;
use crate::files::{Download, Stored, UploadForm, UploadPolicy};

/// A file on the thread, as the customer sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    /// Bytes (the store's figure); unknown for the desk's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub content_type: String,
}

/// `F#<case>#<attachment>` in the tenant's partition: where the file is.
/// Written once (a second confirmation of the same upload is refused).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Registered {
    pub attachment: Attachment,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// What the desk attaches: a key it put in the store, and the name the
/// customer sees (the key's last part if none).
#[derive(Clone, Copy, Debug)]
pub struct DeskFile<'a> {
    pub key: &'a str,
    pub name: Option<&'a str>,
}

/// An upload form for one file, and its terms for the page.
#[derive(Clone, Debug, Serialize)]
pub struct UploadTicket {
    #[serde(flatten)]
    pub form: UploadForm,
    pub max_bytes: u64,
    pub types: Vec<String>,
    pub expires_at: Timestamp,
}

/// What the store sent the browser back with (or the API client sends).
#[derive(Clone, Copy, Debug, Default)]
pub struct Confirmation<'a> {
    pub key: &'a str,
    /// The client's idea of the file: when given, it must be the store's.
    pub size: Option<u64>,
    pub etag: Option<&'a str>,
}

const ROOT: &str = "att/";
const DESK: &str = "desk";

fn key_invalid() -> Error {
    Error::invalid("attachment_key_invalid")
}

/// A file name as the store keeps it: not empty, at most 255 characters,
/// no path and no control characters.
fn file_name(name: &str) -> Result<&str> {
    let bad = name.trim().is_empty()
        || name.chars().count() > 255
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    match bad {
        true => Err(Error::invalid("attachment_name_invalid")),
        false => Ok(name),
    }
}

impl App {
    fn unavailable(e: crate::files::FileError) -> Error {
        tracing::error!(error = %e, "file store");
        Error::Unavailable { what: "files" }
    }

    /// `redirect`: the page's form, which the store sends back to the
    /// confirmation page; otherwise the store answers 201 (a script or an
    /// API client confirms).
    // home of CASE-6
    /// CASE-6: a form that uploads one file to this case of the user's
    /// tenant (404 for any other case; a closed case takes no more files).
    pub async fn attachment_form(
        &self,
        user: &User,
        case_id: &str,
        redirect: bool,
    ) -> Result<UploadTicket> {
        if user.state != UserState::Active {
            return Err(Error::Forbidden);
        }
        let (case, _) = self.tenant_case(&user.tenant_id, case_id).await?;
        if case.status == Status::Closed {
            return Err(Error::conflict("case_closed"));
        }
        let p = &self.config.cases.attachments;
        let now = self.now();
        let upload = new_ulid(self.rng.as_ref(), now);
        let policy = UploadPolicy {
            prefix: format!(
                "{ROOT}{}/{}/{}/{upload}/",
                user.tenant_id.as_str(),
                case.id,
                user.id
            ),
            max_bytes: p.max_bytes,
            redirect: redirect.then(|| {
                format!(
                    "{}/cases/{}/attachments/confirm",
                    self.config.base_url, case.id
                )
            }),
            now,
            expires: now.plus(p.upload_window),
        };
        let form = self
            .files
            .upload_form(&policy)
            .await
            .map_err(Self::unavailable)?;
        Ok(UploadTicket {
            form,
            max_bytes: p.max_bytes,
            types: p.types.iter().map(|(e, _)| e.clone()).collect(),
            expires_at: policy.expires,
        })
    }

    /// CASE-6: put the user's upload on the case, as their entry in the
    /// thread (with `note`, if any). Nothing is registered unless every
    /// check passes; an upload that fails one is removed. A key that is not
    /// this user's upload on this case is refused and left alone.
    pub async fn confirm_attachment(
        &self,
        user: &User,
        case_id: &str,
        c: &Confirmation<'_>,
        note: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Comment> {
        if user.state != UserState::Active {
            return Err(Error::Forbidden);
        }
        let parts: Vec<&str> = match c.key.strip_prefix(ROOT) {
            Some(rest) => rest.splitn(5, '/').collect(),
            None => return Err(key_invalid()),
        };
        let [tenant, case, uploader, upload, name] = parts[..] else {
            return Err(key_invalid());
        };
        let ours = tenant == user.tenant_id.as_str() && case == case_id && uploader == user.id;
        if !ours || !is_id(upload) {
            return Err(key_invalid());
        }
        let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => Some(text(n, self.config.cases.body_max, true, "comment")?),
            None => None,
        };
        self.tenant_case(&user.tenant_id, case_id).await?;
        let stored = self.files.head(c.key).await.map_err(Self::unavailable)?;
        let Some(stored) = stored else {
            return Err(Error::invalid("attachment_not_found"));
        };
        let content_type = match self.checked(name, &stored, c) {
            Ok(t) => t,
            Err(e) => {
                self.files.delete(c.key).await.map_err(Self::unavailable)?;
                return Err(e);
            }
        };
        // Kept before it is registered: a fault between the two leaves a
        // file on no case (found by its key), never a case whose file the
        // lifecycle rule removes.
        self.files.keep(c.key).await.map_err(Self::unavailable)?;
        let registered = Registered {
            attachment: Attachment {
                id: upload.to_string(),
                name: name.to_string(),
                size: Some(stored.size),
                content_type,
            },
            key: c.key.to_string(),
            etag: Some(stored.etag),
        };
        let author = (Author::Customer, user.name.as_str().to_string());
        let update = Update {
            attach: Some(&registered),
            ..Move::Comment.into()
        };
        let body = note.as_deref().unwrap_or("");
        let (_, comment) = self
            .update_case(
                &user.tenant_id,
                case_id,
                update,
                Some((author, body)),
                Some(user),
                ctx,
            )
            .await?;
        Ok(comment.expect("an entry was written"))
    }

    /// The checks of an upload the store holds; its content type.
    fn checked(&self, name: &str, stored: &Stored, c: &Confirmation<'_>) -> Result<String> {
        let p = &self.config.cases.attachments;
        let name = file_name(name)?;
        let Some(content_type) = p.type_of(name) else {
            return Err(Error::invalid("attachment_type_not_allowed").with("types", p.extensions()));
        };
        if stored.size == 0 {
            return Err(Error::invalid("attachment_empty"));
        }
        if stored.size > p.max_bytes {
            return Err(Error::invalid("attachment_too_large").with("max", p.max_bytes));
        }
        let etag = |e: &str| e.trim_matches('"').to_string();
        let size_differs = c.size.is_some_and(|s| s != stored.size);
        if size_differs || c.etag.is_some_and(|e| etag(e) != etag(&stored.etag)) {
            return Err(Error::invalid("attachment_mismatch"));
        }
        Ok(content_type.to_string())
    }

    /// CASE-6: the desk's file for the case `(tenant, case_id)`, checked
    /// before anything is written: under the case's desk prefix, with a
    /// name of an allowed type.
    pub(super) fn desk_file(
        &self,
        tenant: &TenantId,
        case_id: &str,
        f: &DeskFile<'_>,
    ) -> Result<Registered> {
        let prefix = format!("{ROOT}{}/{case_id}/{DESK}/", tenant.as_str());
        let rest = f.key.strip_prefix(&prefix).ok_or_else(key_invalid)?;
        let bad_key = rest.is_empty() || rest.split('/').any(|s| s.is_empty() || s == "..");
        if bad_key || f.key.chars().any(char::is_control) {
            return Err(key_invalid());
        }
        let last = rest.rsplit('/').next().unwrap_or(rest);
        let name = file_name(f.name.unwrap_or(last))?;
        let p = &self.config.cases.attachments;
        let content_type = p.type_of(name).ok_or_else(|| {
            Error::invalid("attachment_type_not_allowed").with("types", p.extensions())
        })?;
        let now = self.now();
        Ok(Registered {
            attachment: Attachment {
                id: new_ulid(self.rng.as_ref(), now).to_string(),
                name: name.to_string(),
                size: None,
                content_type: content_type.to_string(),
            },
            key: f.key.to_string(),
            etag: None,
        })
    }

    /// CASE-6: a short-lived download link for a file on a case of the
    /// user's tenant (404 for anything else), and when it stops working.
    /// Every link handed out is audited.
    pub async fn attachment_link(
        &self,
        user: &User,
        case_id: &str,
        attachment_id: &str,
        ctx: &Ctx,
    ) -> Result<(String, Timestamp)> {
        if user.state != UserState::Active {
            return Err(Error::Forbidden);
        }
        if !is_id(case_id) || !is_id(attachment_id) {
            return Err(Error::NotFound);
        }
        let key = keys::case_attachment(&user.tenant_id, case_id, attachment_id);
        let now = self.now();
        let (r, _) = get_as::<Registered>(self.store.as_ref(), &key, now)
            .await?
            .ok_or(Error::NotFound)?;
        let expires = now.plus(self.config.cases.attachments.link_ttl);
        let link = self
            .files
            .download_link(&Download {
                key: &r.key,
                name: &r.attachment.name,
                content_type: &r.attachment.content_type,
                now,
                expires,
            })
            .await
            .map_err(Self::unavailable)?;
        let who = Some((user.id.as_str(), &user.tenant_id));
        let detail = format!("{case_id} {attachment_id}");
        let audit = self.audit(ctx, "case.attachment.link", who, Some(detail));
        self.store.write(vec![audit], now).await?;
        Ok((link, expires))
    }
}
