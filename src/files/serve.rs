//! The local file store's routes on the portal's port (CASE-6).

use http_body_util::combinators::BoxBody;
use hyper::body::{Bytes, Incoming};
use tobira_web::web;

use crate::files;
use crate::{to_hyper, Answer, Local};

/// A file as a response body, read as it is sent.
pub struct FileBody(pub tokio::fs::File);

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        use std::task::Poll;
        use tokio::io::AsyncRead;
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = tokio::io::ReadBuf::new(&mut buf);
        match std::pin::Pin::new(&mut self.0).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) if read.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => {
                let data = Bytes::copy_from_slice(read.filled());
                Poll::Ready(Some(Ok(hyper::body::Frame::data(data))))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The origin (scheme, host, port) of an absolute http(s) URL.
fn origin_of(url: &str) -> &str {
    let host = url.find("://").map_or(0, |i| i + 3);
    let end = url[host..].find('/').map_or(url.len(), |i| host + i);
    &url[..end]
}

/// CASE-6: the local file store's routes, which S3 answers in AWS: the
/// upload is streamed to disk (never held in memory, never through the
/// 1 MiB limit of the portal's requests) and so is the download.
pub async fn file_route(local: &Local, req: hyper::Request<Incoming>) -> Answer {
    // The bucket's CORS rule: the portal's origin may read the answer to
    // its upload script's POST (and nothing else is allowed).
    let portal = origin_of(&local.app.config.base_url);
    let cors = req
        .headers()
        .get(http::header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == portal.as_bytes());
    // A script's upload with a progress listener is preflighted.
    let preflight = req.method() == http::Method::OPTIONS;
    let mut answer = match preflight {
        true => to_hyper(web::no_content()),
        false => file_answer(local, req).await,
    };
    if cors && preflight {
        let h = answer.headers_mut();
        h.insert(
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            http::HeaderValue::from_static("POST"),
        );
        h.insert(
            http::header::ACCESS_CONTROL_ALLOW_HEADERS,
            http::HeaderValue::from_static("*"),
        );
        h.insert(
            http::header::ACCESS_CONTROL_MAX_AGE,
            http::HeaderValue::from_static("3600"),
        );
    }
    if cors {
        let h = answer.headers_mut();
        if let Ok(v) = http::HeaderValue::from_str(portal) {
            h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(
            http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            http::HeaderValue::from_static("ETag"),
        );
        h.insert(http::header::VARY, http::HeaderValue::from_static("Origin"));
    }
    answer
}

async fn file_answer(local: &Local, req: hyper::Request<Incoming>) -> Answer {
    let refused = |files::Refused(status, code, why)| {
        let mut r = web::html(status, format!("{code}: {why}"));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        to_hyper(r)
    };
    if req.method() == http::Method::POST {
        let ct = req.headers().get(http::header::CONTENT_TYPE);
        let ct = ct.and_then(|v| v.to_str().ok()).map(str::to_string);
        return match local.files.upload(ct.as_deref(), req.into_body()).await {
            Ok(files::Uploaded::Redirect(location)) => to_hyper(web::redirect(&location)),
            Ok(files::Uploaded::Created { key, etag }) => {
                let mut r = web::html(201, files::Uploaded::xml(&key, &etag));
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/xml"),
                );
                if let Ok(v) = http::HeaderValue::from_str(&etag) {
                    r.headers_mut().insert(http::header::ETAG, v);
                }
                to_hyper(r)
            }
            Err(e) => refused(e),
        };
    }
    let (path, headers) = match local.files.download(req.uri().query().unwrap_or("")) {
        Ok(found) => found,
        Err(e) => return refused(e),
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return refused(files::Refused(404, "NoSuchKey", "no such file".into())),
    };
    let mut answer = hyper::Response::new(BoxBody::new(files::FileBody(file)));
    for (name, value) in headers {
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            answer.headers_mut().insert(name, v);
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_portal_origin_is_scheme_host_and_port() {
        assert_eq!(
            super::origin_of("http://127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            super::origin_of("https://portal.example.com/base/"),
            "https://portal.example.com"
        );
    }
}
