//! Attachments (CASE-6): files on a case's thread, up to the configured
//! size, of the configured types. The browser posts a file straight to the
//! file store (`crate::files`) with a form that pins where it may go:
//! `att/<tenant>/<case>/<user>/<upload>/` and the file's name. The file is
//! on the case only once confirmed: the key must be the user's own upload
//! on this case of their tenant; the size and checksum are the store's;
//! the type is the configured one for the name's extension; the version
//! registered is the one checked (a later upload to the key never replaces
//! it). A page's confirmation carries the state its form's redirect had, a
//! MAC of user, case and upload: a link from anyone else confirms nothing.
//! An upload that fails a check of the file is removed; one never confirmed
//! (or refused by the case) keeps the store's `pending` tag and is removed
//! by the bucket's lifecycle rule; a registered file is never removed. The
//! support desk attaches files it put under `att/<tenant>/<case>/desk/`
//! (`DeskUpdate::attach`).

use super::update::Update;
use super::*;
use crate::files::{Download, Object, Stored, UploadForm, UploadPolicy};
use crate::random::{ct_eq, hmac_sha256};

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
    /// The version registered (a versioned store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Registered {
    fn object(&self) -> Object<'_> {
        Object {
            key: &self.key,
            version: self.version.as_deref(),
        }
    }
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
    /// Where to go after the store's 201, with `&key=…&etag=…` added (the
    /// page of the confirmation, with this upload's state).
    pub confirm: String,
}

/// What the store sent the browser back with (or the API client sends).
#[derive(Clone, Copy, Debug, Default)]
pub struct Confirmation<'a> {
    pub key: &'a str,
    /// The client's idea of the file: when given, it must be the store's.
    pub size: Option<u64>,
    pub etag: Option<&'a str>,
    /// The page's confirmation: the state its form's redirect carried,
    /// required (a link from elsewhere has none that verifies). `None`
    /// for the JSON API, which no other site can post to (SES-3).
    pub state: Option<&'a str>,
}

const ROOT: &str = "att/";
const DESK: &str = "desk";

fn key_invalid() -> Error {
    Error::invalid("attachment_key_invalid")
}

/// Characters that change how a name reads without being seen: bidi
/// controls (`invoice\u{202E}fdp.exe`), zero-width characters, line and
/// paragraph separators, the BOM, the soft hyphen.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

/// A file name as the store keeps it: not empty, at most 255 characters,
/// no path, no control or invisible characters.
fn file_name(name: &str) -> Result<&str> {
    let bad = name.trim().is_empty()
        || name.chars().count() > 255
        || name.contains(['/', '\\'])
        || name.chars().any(|c| c.is_control() || invisible(c));
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

    /// The state of one upload's confirmation page: a MAC of who uploads
    /// what to which case, under the server's key.
    fn upload_state(&self, user_id: &str, case_id: &str, upload: &str) -> String {
        use base64::Engine;
        let msg = format!("tobira upload\0{user_id}\0{case_id}\0{upload}");
        let mac = hmac_sha256(self.config.csrf_key.expose(), msg.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
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
        let upload = new_ulid(self.rng.as_ref(), now).to_string();
        let state = self.upload_state(&user.id, &case.id, &upload);
        let confirm = format!("/cases/{}/uploads/confirm?state={state}", case.id);
        let policy = UploadPolicy {
            prefix: format!(
                "{ROOT}{}/{}/{}/{upload}/",
                user.tenant_id.as_str(),
                case.id,
                user.id
            ),
            max_bytes: p.max_bytes,
            redirect: redirect.then(|| format!("{}{confirm}", self.config.base_url)),
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
            confirm,
        })
    }

    /// CASE-6: put the user's upload on the case, as their entry in the
    /// thread (with `note`, if any). Nothing is registered unless every
    /// check passes. A key that is not this user's upload on this case, a
    /// page's confirmation without its state, a case that takes no more
    /// entries, an upload already registered (or whose form was used for
    /// another file) are refused and the object left as it is; an upload
    /// whose file fails a check is removed.
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
        if let Some(state) = c.state {
            let expected = self.upload_state(&user.id, case_id, upload);
            if !ct_eq(state.as_bytes(), expected.as_bytes()) {
                return Err(Error::invalid("attachment_state_invalid"));
            }
        }
        let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => Some(text(n, self.config.cases.body_max, true, "comment")?),
            None => None,
        };
        let (case, _) = self.tenant_case(&user.tenant_id, case_id).await?;
        transition(case.status, Move::Comment).map_err(Error::conflict)?;
        if case.comment_count >= self.config.cases.comments_max {
            return Err(Error::conflict("case_comments_full"));
        }
        let known = keys::case_attachment(&user.tenant_id, case_id, upload);
        if let Some((r, _)) = get_as::<Registered>(self.store.as_ref(), &known, self.now()).await? {
            let code = match r.key == c.key {
                true => "attachment_already_added",
                false => "attachment_form_used",
            };
            return Err(Error::conflict(code));
        }
        let stored = self.files.head(c.key).await.map_err(Self::unavailable)?;
        let Some(stored) = stored else {
            return Err(Error::invalid("attachment_not_found"));
        };
        let object = Object {
            key: c.key,
            version: stored.version.as_deref(),
        };
        let content_type = match self.checked(name, &stored) {
            Ok(t) => t,
            Err(e) => {
                self.files.delete(object).await.map_err(Self::unavailable)?;
                return Err(e);
            }
        };
        // Only the client's claim is wrong: the upload may be another
        // confirmation's to register, so it stays.
        let etag = |e: &str| e.trim_matches('"').to_string();
        let size_differs = c.size.is_some_and(|s| s != stored.size);
        if size_differs || c.etag.is_some_and(|e| etag(e) != etag(&stored.etag)) {
            return Err(Error::invalid("attachment_mismatch"));
        }
        // Kept before it is registered: a fault between the two leaves a
        // file on no case, never a case whose file the lifecycle removes.
        self.files
            .keep(object, true)
            .await
            .map_err(Self::unavailable)?;
        let registered = Registered {
            attachment: Attachment {
                id: upload.to_string(),
                name: name.to_string(),
                size: Some(stored.size),
                content_type,
            },
            key: c.key.to_string(),
            etag: Some(stored.etag.clone()),
            version: stored.version.clone(),
        };
        let author = (Author::Customer, user.name.as_str().to_string());
        let update = Update {
            attach: Some(&registered),
            ..Move::Comment.into()
        };
        let body = note.as_deref().unwrap_or("");
        let (tenant, entry) = (&user.tenant_id, Some((author, body)));
        match self
            .update_case(tenant, case_id, update, entry, Some(user), ctx)
            .await
        {
            Ok((_, comment)) => Ok(comment.expect("an entry was written")),
            Err(e) => {
                // Not on the case after all (a race lost to a closing):
                // pending again, for the lifecycle rule — unless this very
                // version is registered (a parallel confirmation won, or the
                // write went through and its answer was lost).
                let now = self.now();
                let on_case = get_as::<Registered>(self.store.as_ref(), &known, now).await;
                let ours = |r: &Registered| r.key == c.key && r.version == stored.version;
                if let Ok(None) = &on_case {
                    if let Err(f) = self.files.keep(object, false).await {
                        tracing::warn!(error = %f, "file store: an unregistered upload stays kept");
                    }
                } else if !matches!(&on_case, Ok(Some((r, _))) if ours(r)) {
                    tracing::warn!("file store: an upload of unknown standing stays kept");
                }
                Err(e)
            }
        }
    }

    /// The checks of the file the store holds; its content type.
    fn checked(&self, name: &str, stored: &Stored) -> Result<String> {
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
        Ok(content_type.to_string())
    }

    /// CASE-6: the desk's file for the case `(tenant, case_id)`, checked
    /// before anything is written: under the case's desk prefix, with a
    /// name of an allowed type. Its ID comes from the key, so a re-run of
    /// the event adds it once (`attachment_already_added`).
    pub(super) fn desk_file(
        &self,
        tenant: &TenantId,
        case_id: &str,
        f: &DeskFile<'_>,
    ) -> Result<Registered> {
        use sha2::{Digest, Sha256};
        let prefix = format!("{ROOT}{}/{case_id}/{DESK}/", tenant.as_str());
        let rest = f.key.strip_prefix(&prefix).ok_or_else(key_invalid)?;
        let bad_key = rest.is_empty() || rest.split('/').any(|s| s.is_empty() || s == "..");
        if bad_key || f.key.chars().any(|c| c.is_control() || invisible(c)) {
            return Err(key_invalid());
        }
        let last = rest.rsplit('/').next().unwrap_or(rest);
        let name = file_name(f.name.unwrap_or(last))?;
        let p = &self.config.cases.attachments;
        let content_type = p.type_of(name).ok_or_else(|| {
            Error::invalid("attachment_type_not_allowed").with("types", p.extensions())
        })?;
        let digest = Sha256::digest(format!("{case_id}\0{}", f.key).as_bytes());
        let id: [u8; 16] = digest[..16].try_into().expect("16 of 32 bytes");
        Ok(Registered {
            attachment: Attachment {
                id: ulid::Ulid::from_bytes(id).to_string(),
                name: name.to_string(),
                size: None,
                content_type: content_type.to_string(),
            },
            key: f.key.to_string(),
            etag: None,
            version: None,
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
                object: r.object(),
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
