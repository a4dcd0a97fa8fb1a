//! Following redirects by hand, so every hop goes through the whole policy
//! again (scheme, host lists, port, resolution, addresses) and credentials
//! never follow the request to another origin.

use url::Url;

use crate::error::EgressError;
use crate::request::{BODY_HEADERS, CREDENTIALS};

/// The request as it stands at one hop.
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) url: Url,
    pub(crate) method: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
    /// A redirect has crossed origins: no injected credential is sent from
    /// here on, even if a later hop comes back.
    pub(crate) crossed_origin: bool,
}

/// Redirect statuses the Fetch standard follows.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

impl Hop {
    /// Turns this hop into the next one, for a `status` redirect to
    /// `location` (resolved against the current URL).
    pub(crate) fn follow(&mut self, status: u16, location: &str) -> Result<(), EgressError> {
        let next = self
            .url
            .join(location)
            .map_err(|_| EgressError::BadRedirect(host_of(&self.url)))?;
        // Fetch standard, HTTP-redirect fetch: 301/302 turn POST into GET,
        // 303 turns everything but GET/HEAD into GET; 307/308 keep both.
        let to_get = ((status == 301 || status == 302) && self.method == "POST")
            || (status == 303 && self.method != "GET" && self.method != "HEAD");
        if to_get {
            self.method = "GET".to_owned();
            self.body = None;
            self.headers
                .retain(|(name, _)| !BODY_HEADERS.contains(&name.as_str()));
        }
        if next.origin() != self.url.origin() {
            self.crossed_origin = true;
            self.headers
                .retain(|(name, _)| !CREDENTIALS.contains(&name.as_str()));
        }
        self.url = next;
        Ok(())
    }
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(url: &str, method: &str) -> Hop {
        Hop {
            url: Url::parse(url).expect("url"),
            method: method.into(),
            headers: vec![
                ("authorization".into(), "Bearer x".into()),
                ("cookie".into(), "a=b".into()),
                ("content-type".into(), "text/plain".into()),
                ("x-trace".into(), "t".into()),
            ],
            body: Some(b"body".to_vec()),
            crossed_origin: false,
        }
    }

    fn names(h: &Hop) -> Vec<&str> {
        h.headers.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn methods_and_bodies_follow_the_fetch_standard() {
        for (status, method, expect_method, keeps_body) in [
            (301, "POST", "GET", false),
            (302, "POST", "GET", false),
            (303, "POST", "GET", false),
            (303, "PUT", "GET", false),
            (303, "HEAD", "HEAD", true),
            (307, "POST", "POST", true),
            (308, "PUT", "PUT", true),
            (301, "PUT", "PUT", true),
        ] {
            let mut h = hop("https://a.test/x", method);
            h.follow(status, "/y").expect("follows");
            assert_eq!(h.method, expect_method, "{status} {method}");
            assert_eq!(h.body.is_some(), keeps_body, "{status} {method}");
            assert_eq!(names(&h).contains(&"content-type"), keeps_body);
            assert_eq!(h.url.as_str(), "https://a.test/y");
            assert!(!h.crossed_origin);
            assert!(names(&h).contains(&"authorization"));
        }
    }

    #[test]
    fn cross_origin_drops_credentials_for_good() {
        for to in [
            "https://b.test/",
            "http://a.test/",
            "https://a.test:8443/",
            "//evil.test/",
        ] {
            let mut h = hop("https://a.test/x", "GET");
            h.follow(302, to).expect("follows");
            assert!(h.crossed_origin, "{to}");
            assert_eq!(names(&h), ["content-type", "x-trace"], "{to}");
            h.follow(302, "https://a.test/back").expect("follows");
            assert!(h.crossed_origin, "{to}");
        }
    }

    #[test]
    fn bad_locations_are_errors() {
        let mut h = hop("https://a.test/x", "GET");
        assert!(h.follow(302, "http://[::1").is_err());
    }
}
