//! The multipart body of a browser's upload, read as it arrives (CASE-6).

use http_body_util::BodyExt;
use hyper::body::Bytes;

use super::{refused, Refused};

/// `name` and `filename` of a part's `Content-Disposition: form-data`.
pub(super) fn disposition(headers: &str) -> Option<(String, Option<String>)> {
    let line = headers
        .split("\r\n")
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    let param = |p: &str| {
        let start = line.find(&format!("; {p}=\""))? + p.len() + 4;
        let end = line[start..].find('"')? + start;
        // Browsers send `"` as %22 and line breaks as %0D%0A.
        Some(line[start..end].replace("%22", "\""))
    };
    Some((param("name")?, param("filename")))
}

/// A multipart body read as it arrives, holding back no more than a
/// delimiter's length of the file.
pub(super) struct Reader<B> {
    pub body: B,
    pub buf: Vec<u8>,
    pub delim: Vec<u8>,
}

impl<B: hyper::body::Body<Data = Bytes> + Unpin> Reader<B> {
    /// More of the body; false at its end. A sender silent for a minute
    /// is cut off.
    async fn more(&mut self) -> Result<bool, Refused> {
        let idle = std::time::Duration::from_secs(60);
        loop {
            let frame = tokio::time::timeout(idle, self.body.frame()).await;
            let frame = frame.map_err(|_| refused(400, "RequestTimeout", "the upload stalled"))?;
            match frame {
                None => return Ok(false),
                Some(Err(_)) => return Err(refused(400, "IncompleteBody", "the upload broke off")),
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.buf.extend_from_slice(&data);
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// The bytes before `end` (at most `max`), consuming `end`.
    pub async fn until(&mut self, end: &[u8], max: usize) -> Result<Vec<u8>, Refused> {
        // Where `end` may start that was not looked for yet.
        let mut from = 0;
        loop {
            if let Some(pos) = memchr::memmem::find(&self.buf[from..], end) {
                let pos = from + pos;
                let out = self.buf[..pos].to_vec();
                self.buf.drain(..pos + end.len());
                return Ok(out);
            }
            from = self.buf.len().saturating_sub(end.len() - 1);
            if self.buf.len() > max + end.len() || !self.more().await? {
                return Err(refused(
                    400,
                    "MalformedPOSTRequest",
                    "the form is malformed",
                ));
            }
        }
    }

    pub async fn until_delim(&mut self, max: usize) -> Result<Vec<u8>, Refused> {
        let delim = self.delim.clone();
        self.until(&delim, max).await
    }

    pub async fn take(&mut self, n: usize) -> Result<Vec<u8>, Refused> {
        while self.buf.len() < n {
            if !self.more().await? {
                return Err(refused(
                    400,
                    "MalformedPOSTRequest",
                    "the form is malformed",
                ));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// The file's next bytes, and whether they are its last.
    pub async fn next_file_chunk(&mut self) -> Result<(Vec<u8>, bool), Refused> {
        // Where the delimiter may start that was not looked for yet.
        let mut from = 0;
        loop {
            if let Some(pos) = memchr::memmem::find(&self.buf[from..], &self.delim) {
                let pos = from + pos;
                let out = self.buf[..pos].to_vec();
                self.buf.clear();
                return Ok((out, true));
            }
            from = self.buf.len().saturating_sub(self.delim.len() - 1);
            let safe = self.buf.len().saturating_sub(self.delim.len() - 1);
            if safe >= 64 * 1024 {
                return Ok((self.buf.drain(..safe).collect(), false));
            }
            if !self.more().await? {
                return Err(refused(400, "IncompleteBody", "the upload broke off"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::collections::VecDeque;
    use tobira::files::UploadPolicy;

    /// A body that arrives in the given pieces.
    struct Pieces(VecDeque<Bytes>);

    impl hyper::body::Body for Pieces {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(hyper::body::Frame::data(b))))
        }
    }

    struct Fixed(Timestamp);
    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    fn store(dir: &str) -> LocalFiles {
        let root = std::env::temp_dir().join(format!("tobira-unit-{dir}-{}", std::process::id()));
        let key = SecretKey::new(&[7u8; 32]).unwrap();
        LocalFiles::new(root, key, Arc::new(Fixed(Timestamp::from_secs(1000))))
    }

    fn body(form: &UploadForm, name: &str, file: &[u8], boundary: &str) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, v) in &form.fields {
            let part = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            );
            b.extend_from_slice(part.as_bytes());
        }
        let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        b.extend_from_slice(head.as_bytes());
        b.extend_from_slice(file);
        b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        b
    }

    /// CASE-6: a file that holds what looks like the delimiter, its line
    /// breaks and dashes, arriving in pieces of every size from 1 byte
    /// (split anywhere, the delimiter too), is stored byte for byte.
    #[tokio::test]
    async fn case_6_local_uploads_survive_any_split_of_the_stream() {
        let files = store("split");
        let policy = UploadPolicy {
            prefix: "att/t/c/u/x/".into(),
            max_bytes: 1_000_000,
            redirect: None,
            now: Timestamp::from_secs(1000),
            expires: Timestamp::from_secs(2000),
        };
        let form = files.upload_form(&policy).await.unwrap();
        let boundary = "----b0undary";
        let mut file = Vec::new();
        for i in 0..20_000u32 {
            file.extend_from_slice(&i.to_le_bytes());
            if i % 97 == 0 {
                file.extend_from_slice(b"\r\n------b0undar\r\n--\r");
            }
        }
        let whole = body(&form, "data.bin", &file, boundary);
        let ct = format!("multipart/form-data; boundary={boundary}");
        for size in [1usize, 2, 3, 7, 13, 64, 1000, 65_536, whole.len()] {
            // A key is written once: a file of its own for each split.
            let _ = std::fs::remove_file(files.path("att/t/c/u/x/data.bin"));
            let pieces = whole.chunks(size).map(Bytes::copy_from_slice).collect();
            let up = files.upload(Some(&ct), Pieces(pieces)).await.unwrap();
            let Uploaded::Created { key, .. } = up else {
                panic!("201")
            };
            assert_eq!(key, "att/t/c/u/x/data.bin");
            let stored = std::fs::read(files.path(&key)).unwrap();
            assert!(stored == file, "pieces of {size} bytes");
        }
        // Cut off before the closing delimiter: refused, nothing stored.
        let cut = whole[..whole.len() - 20].to_vec();
        let r = files
            .upload(Some(&ct), Pieces(VecDeque::from([Bytes::from(cut)])))
            .await;
        assert_eq!(r.unwrap_err().1, "IncompleteBody");
        let _ = std::fs::remove_dir_all(&files.root);
    }
}
