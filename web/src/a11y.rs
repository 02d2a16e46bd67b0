//! WCAG 3.3.1 / 4.1.2 on every refused form, without a script: the fields
//! in error say so (`aria-invalid`) and point at the message
//! (`aria-describedby="form-error"`), and the first of them takes the focus
//! (`autofocus`), so a screen reader hears the error where the user is.
//! When no field is to blame (a conflict, a lock), the message itself takes
//! the focus.
//!
//! Pages render the message as `<p class="error" id="form-error">`; this
//! pass marks the page once, when it is answered (`web::html`). A refusal
//! that names its field (`field` in the error's facts) marks just that one
//! ([`Marks::Fields`]); otherwise every field of the form after the message
//! is in error (the identity check, the sign-in, a code: the answer does not
//! tell which part was wrong, and must not).

/// Which fields a refusal blames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marks<'a> {
    /// These fields (by `name` or `id`); none: only the message.
    Fields(&'a [&'a str]),
    /// Every field of the form that follows the message.
    FormAfterMessage,
}

/// The fields a refusal blames, when its code or its `field` fact names
/// them: `Fields` (possibly none: a conflict, a lock); `FormAfterMessage`
/// for a refusal that must not say which part was wrong.
pub fn marks_for(e: &tobira::Error) -> Marks<'static> {
    use tobira::Error;
    let field = |f: &str| -> &'static [&'static str] {
        match f {
            "subject" => &["subject"],
            "body" => &["body"],
            "comment" => &["comment"],
            "reason" => &["reason"],
            "q" => &["q"],
            _ => &[],
        }
    };
    match e {
        Error::Invalid { code, .. } => match (*code, e.fact("field")) {
            (_, Some(f)) => Marks::Fields(field(f)),
            ("invalid_email", _) => Marks::Fields(&["email"]),
            ("invalid_name", _) => Marks::Fields(&["name"]),
            ("invalid_login_id", _) => Marks::Fields(&["login_id"]),
            ("invalid_phone" | "phone_leading_zero" | "phone_required", _) => {
                Marks::Fields(&["phone"])
            }
            ("invalid_country_code", _) => Marks::Fields(&["country"]),
            ("invalid_time_zone", _) => Marks::Fields(&["time_zone"]),
            ("invalid_kind", _) => Marks::Fields(&["kind"]),
            ("unknown_category", _) => Marks::Fields(&["category"]),
            ("invalid_password", _) => Marks::Fields(&["password"]),
            ("invalid_service_id", _) => Marks::Fields(&["service_id"]),
            ("invalid_tenant_id", _) => Marks::Fields(&["tenant_id"]),
            ("invalid_date" | "invalid_date_range", _) => Marks::Fields(&["from", "to"]),
            _ => Marks::FormAfterMessage,
        },
        _ => Marks::Fields(&[]),
    }
}

/// A page rendered with `refusal`'s message, its fields marked.
pub fn mark_refusal(html: String, refusal: Option<&tobira::Error>) -> String {
    match refusal {
        Some(e) => mark_errors(&html, marks_for(e)),
        None => html,
    }
}

const ERROR: &str = "id=\"form-error\"";
const TAGS: [&str; 3] = ["<input", "<select", "<textarea"];

/// The page with its fields in error marked (unchanged without a message,
/// or when already marked).
pub fn mark_errors(html: &str, marks: Marks<'_>) -> String {
    let Some(at) = html.find(ERROR) else {
        return html.to_string();
    };
    let p_start = html[..at].rfind('<').unwrap_or(at);
    let p_end = at + html[at..].find('>').unwrap_or(0);
    if html[p_start..p_end].contains("autofocus") || html.contains("aria-describedby=\"form-error")
    {
        return html.to_string();
    }
    let targets: Vec<usize> = match marks {
        Marks::Fields(names) => names.iter().filter_map(|n| field_tag(html, n)).collect(),
        Marks::FormAfterMessage => form_fields(html, p_end),
    };
    let mut targets = targets;
    targets.sort_unstable();
    targets.dedup();
    // Insert from the end so earlier offsets stay right.
    let mut out = html.to_string();
    if targets.is_empty() {
        out.insert_str(p_end, " tabindex=\"-1\" autofocus");
        return out;
    }
    for (i, &tag) in targets.iter().enumerate().rev() {
        let end = tag + out[tag..].find('>').unwrap_or(0);
        let attrs = &out[tag..end];
        let mut add = String::from(" aria-invalid=\"true\"");
        if let Some(d) = attrs.find("aria-describedby=\"") {
            out.insert_str(tag + d + "aria-describedby=\"".len(), "form-error ");
        } else {
            add.push_str(" aria-describedby=\"form-error\"");
        }
        if i == 0 {
            add.push_str(" autofocus");
        }
        let name_end = TAGS
            .iter()
            .find(|t| out[tag..].starts_with(**t))
            .map_or(0, |t| t.len());
        out.insert_str(tag + name_end, &add);
    }
    out
}

/// Where the field named (or with the `id`) `name` starts.
fn field_tag(html: &str, name: &str) -> Option<usize> {
    tags(html, 0, html.len()).into_iter().find(|&t| {
        let end = t + html[t..].find('>').unwrap_or(0);
        let attrs = &html[t..end];
        attrs.contains(&format!(" name=\"{name}\"")) || attrs.contains(&format!(" id=\"{name}\""))
    })
}

/// The fields a person fills in, of the first form after `from`.
fn form_fields(html: &str, from: usize) -> Vec<usize> {
    let Some(start) = html[from..].find("<form").map(|i| from + i) else {
        return Vec::new();
    };
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |i| start + i);
    tags(html, start, end)
        .into_iter()
        .filter(|&t| {
            let close = t + html[t..].find('>').unwrap_or(0);
            let attrs = &html[t..close];
            !["hidden", "submit", "button"]
                .iter()
                .any(|k| attrs.contains(&format!("type=\"{k}\"")))
                && attrs.contains(" name=\"")
        })
        .collect()
}

/// Starts of the form controls between `from` and `to`.
fn tags(html: &str, from: usize, to: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for tag in TAGS {
        let mut i = from;
        while let Some(k) = html[i..to].find(tag) {
            let at = i + k;
            // `<input` but not `<inputs`: the next character ends the name.
            let next = html[at + tag.len()..].chars().next();
            if matches!(next, Some(' ' | '>' | '/' | '\n')) {
                out.push(at);
            }
            i = at + tag.len();
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<h1>t</h1><p class=\"error\" id=\"form-error\" role=\"alert\">wrong</p>\
        <form method=\"post\"><input type=\"hidden\" name=\"csrf\" value=\"x\">\
        <input type=\"text\" id=\"login_id\" name=\"login_id\">\
        <input type=\"tel\" id=\"phone\" name=\"phone\" aria-describedby=\"phone-hint\">\
        <button type=\"submit\">go</button></form>\
        <form><textarea id=\"comment\" name=\"body\"></textarea></form>";

    #[test]
    fn every_field_of_the_refused_form_is_marked_and_the_first_focused() {
        let out = mark_errors(PAGE, Marks::FormAfterMessage);
        assert!(out.contains(
            "<input aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus type=\"text\" id=\"login_id\""
        ), "{out}");
        assert!(out.contains(
            "<input aria-invalid=\"true\" type=\"tel\" id=\"phone\" name=\"phone\" aria-describedby=\"form-error phone-hint\">"
        ), "{out}");
        assert!(
            out.contains("<input type=\"hidden\" name=\"csrf\""),
            "hidden fields stay"
        );
        assert!(
            out.contains("<textarea id=\"comment\" name=\"body\">"),
            "another form stays"
        );
        assert_eq!(out.matches("autofocus").count(), 1);
        assert_eq!(
            mark_errors(&out, Marks::FormAfterMessage),
            out,
            "marked once"
        );
    }

    #[test]
    fn a_named_field_is_marked_alone_by_name_or_id() {
        let out = mark_errors(PAGE, Marks::Fields(&["comment"]));
        assert!(out.contains("<textarea aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus id=\"comment\""), "{out}");
        assert_eq!(out.matches("aria-invalid").count(), 1);
        // Marked by the precise pass, the page is not marked again.
        assert_eq!(mark_errors(&out, Marks::FormAfterMessage), out);
    }

    #[test]
    fn without_a_field_the_message_takes_the_focus() {
        let out = mark_errors(PAGE, Marks::Fields(&[]));
        assert!(
            out.contains("id=\"form-error\" role=\"alert\" tabindex=\"-1\" autofocus>wrong"),
            "{out}"
        );
        assert!(!out.contains("aria-invalid"));
        assert_eq!(mark_errors(&out, Marks::FormAfterMessage), out);
        // No message: nothing to do.
        assert_eq!(
            mark_errors("<form><input name=\"a\"></form>", Marks::FormAfterMessage),
            "<form><input name=\"a\"></form>"
        );
    }
}
