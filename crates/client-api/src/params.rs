//! Query parameters, read by name with an error that names the parameter and says why.

use std::collections::HashMap;

use crate::error::{ApiError, ApiResult};

/// A request's query string, decoded.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

/// Most query parameters read from one request.
const MAX_PARAMS: usize = 32;

impl Params {
    /// Decodes a query string (`None`: no query).
    pub fn parse(query: Option<&str>) -> ApiResult<Self> {
        let Some(query) = query else {
            return Ok(Self::default());
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::param("query", format!("not a URL-encoded query: {e}")))?;
        if pairs.len() > MAX_PARAMS {
            return Err(ApiError::param(
                "query",
                format!("more than {MAX_PARAMS} parameters"),
            ));
        }
        Ok(Self(pairs.into_iter().collect()))
    }

    /// A parameter's text, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// A required parameter's text.
    pub fn required(&self, name: &'static str) -> ApiResult<&str> {
        self.get(name).ok_or_else(|| ApiError::param(name, "missing"))
    }

    /// The `infohash` parameter: 40 hex digits.
    pub fn info_hash(&self) -> ApiResult<ids::InfoHash> {
        parse_info_hash(self.required("infohash")?)
    }

    /// A rate in KiB/s (0 = unlimited).
    pub fn rate(&self, name: &'static str) -> ApiResult<Option<u64>> {
        self.get(name).map(|s| parse_rate(name, s)).transpose()
    }

    /// `true` or `false` (also `1`/`0`), or `default` when absent.
    pub fn flag(&self, name: &'static str, default: bool) -> ApiResult<bool> {
        match self.get(name) {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(_) => Err(ApiError::param(name, "expected true or false")),
        }
    }
}

/// An info-hash as 40 hex digits.
pub fn parse_info_hash(s: &str) -> ApiResult<ids::InfoHash> {
    ids::InfoHash::from_hex(s).ok_or_else(|| ApiError::param("infohash", "expected 40 hex digits"))
}

/// Largest rate accepted, KiB/s (about 4 TiB/s: anything above is a typo).
const MAX_RATE: u64 = 1 << 32;

/// A rate in KiB/s.
pub fn parse_rate(name: &'static str, s: &str) -> ApiResult<u64> {
    let rate: u64 = s
        .parse()
        .map_err(|_| ApiError::param(name, "expected a whole number of KiB/s (0 = unlimited)"))?;
    if rate > MAX_RATE {
        return Err(ApiError::param(name, format!("over {MAX_RATE} KiB/s")));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_parameter() {
        let p = Params::parse(Some("infohash=zz&rate=-1&delete=maybe")).unwrap();
        assert_eq!(
            p.info_hash().unwrap_err().to_string(),
            "infohash: expected 40 hex digits"
        );
        assert!(p.rate("rate").unwrap_err().to_string().starts_with("rate: "));
        assert!(p.flag("delete", false).is_err());
        let p = Params::parse(Some("rate=500&delete=true")).unwrap();
        assert_eq!(p.rate("rate").unwrap(), Some(500));
        assert!(p.flag("delete", false).unwrap());
        assert_eq!(p.info_hash().unwrap_err().to_string(), "infohash: missing");
        assert!(Params::parse(None).unwrap().get("x").is_none());
    }
}
