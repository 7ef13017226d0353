//! The web app's files (`config.web_dir`), for every path outside `/api/`.
//!
//! Only GET and HEAD; only plain files inside the directory (no `..`, no hidden files, no
//! symbolic link out of it: the resolved path must still be inside); a strict Content Security
//! Policy on everything, since the app handles a token that controls someone's mailboxes.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiState};

/// Served for `/`.
const INDEX: &str = "relay.html";

/// The service worker: never cached (a stale worker would keep an old app alive), and allowed
/// to control the whole origin although it could live in a subfolder.
const SERVICE_WORKER: &str = "relay-sw.js";

/// Everything the app needs comes from the relay itself; it cannot be framed, and injected
/// markup can neither run script nor send data elsewhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Longest path served: the app's names are short.
const PATH_MAX: usize = 512;

/// The fallback handler: a file of the web app, or 404.
pub async fn serve(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such API endpoint",
        )
        .into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed\n");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let Some(dir) = &st.config.web_dir else {
        return plain(
            StatusCode::NOT_FOUND,
            "This relay serves no web app (web_dir is not set)\n",
        );
    };
    let Some(rel) = safe_relative(path) else {
        return plain(StatusCode::NOT_FOUND, "Not found\n");
    };
    match read_inside(dir, &rel).await {
        Some(bytes) => file_response(&rel, bytes),
        None => plain(StatusCode::NOT_FOUND, "Not found\n"),
    }
}

/// The file a URL path names, relative to the web directory; `None` for anything that could
/// step outside it or at a hidden file. Percent-escapes are decoded first, so `%2e%2e` is
/// `..` and refused like it.
fn safe_relative(path: &str) -> Option<PathBuf> {
    if path.len() > PATH_MAX {
        return None;
    }
    let decoded = percent_decode(path)?;
    let trimmed = decoded.trim_start_matches('/');
    if trimmed.is_empty() {
        return Some(PathBuf::from(INDEX));
    }
    let mut rel = PathBuf::new();
    for seg in trimmed.split('/') {
        if seg.is_empty()
            || seg.starts_with('.')
            || seg.contains('\\')
            || seg.contains('\0')
            || seg.contains(':')
        {
            return None;
        }
        rel.push(seg);
    }
    // After the checks above every component is a plain name; make sure.
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(rel)
}

/// `%XX` decoding; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads `dir/rel` if it is a regular file whose real path (links resolved) is inside the
/// real `dir`.
async fn read_inside(dir: &Path, rel: &Path) -> Option<Vec<u8>> {
    let root = tokio::fs::canonicalize(dir).await.ok()?;
    let full = tokio::fs::canonicalize(root.join(rel)).await.ok()?;
    if !full.starts_with(&root) {
        return None;
    }
    if !tokio::fs::metadata(&full).await.ok()?.is_file() {
        return None;
    }
    tokio::fs::read(&full).await.ok()
}

/// The content type of a file name, by extension.
fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file_response(rel: &Path, bytes: Vec<u8>) -> Response {
    let name = rel.to_string_lossy();
    let ctype = content_type(&name);
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    security_headers(&mut resp);
    let is_worker = name == SERVICE_WORKER;
    let h = resp.headers_mut();
    if is_worker || ctype.starts_with("text/html") {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else {
        // Revalidate rather than trust: there are no hashed file names to make long caching
        // safe across upgrades.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if is_worker {
        h.insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    resp
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut resp = (status, text).into_response();
    security_headers(&mut resp);
    resp
}

fn security_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_web_directory() {
        assert_eq!(safe_relative("/"), Some(PathBuf::from("relay.html")));
        assert_eq!(safe_relative("/app.js"), Some(PathBuf::from("app.js")));
        assert_eq!(
            safe_relative("/icons/a%20b.png"),
            Some(PathBuf::from("icons/a b.png"))
        );
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc",
            "/a//b",
            "/.git/config",
            "/a\\..\\b",
            "/%00",
            "/%zz",
            "/c:/x",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("relay.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("relay-sw.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("app.webmanifest"), "application/manifest+json");
        assert_eq!(content_type("x.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
