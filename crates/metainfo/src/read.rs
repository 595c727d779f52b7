//! Typed access to decoded dictionaries, with key paths in every error.

use bencode::{Dict, Value};

use crate::error::{MetainfoError, missing};

/// A dictionary together with its key path, for error messages.
pub(crate) struct DictReader<'v, 'a> {
    pub dict: &'v Dict<'a>,
    pub path: String,
}

pub(crate) fn wrong(key: String, expected: &'static str, v: &Value<'_>) -> MetainfoError {
    MetainfoError::WrongType {
        key,
        expected,
        found: v.type_name(),
    }
}

impl<'v, 'a> DictReader<'v, 'a> {
    pub fn new(value: &'v Value<'a>, path: impl Into<String>) -> Result<Self, MetainfoError> {
        let path = path.into();
        match value.as_dict() {
            Some(dict) => Ok(Self { dict, path }),
            None => Err(wrong(
                if path.is_empty() { "the file".into() } else { path },
                "a dictionary",
                value,
            )),
        }
    }

    pub fn key(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn get(&self, key: &str) -> Option<&'v Value<'a>> {
        self.dict.get(key.as_bytes())
    }

    pub fn req(&self, key: &str) -> Result<&'v Value<'a>, MetainfoError> {
        self.get(key).ok_or_else(|| missing(self.key(key)))
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, MetainfoError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_int()
                .map(Some)
                .ok_or_else(|| wrong(self.key(key), "an integer", v)),
        }
    }

    pub fn req_int(&self, key: &str) -> Result<i64, MetainfoError> {
        self.opt_int(key)?.ok_or_else(|| missing(self.key(key)))
    }

    pub fn opt_bytes(&self, key: &str) -> Result<Option<&'a [u8]>, MetainfoError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bytes()
                .map(Some)
                .ok_or_else(|| wrong(self.key(key), "a string", v)),
        }
    }

    pub fn req_bytes(&self, key: &str) -> Result<&'a [u8], MetainfoError> {
        self.opt_bytes(key)?.ok_or_else(|| missing(self.key(key)))
    }

    /// Free text (comments and the like): invalid UTF-8 is replaced rather than refused.
    pub fn opt_text(&self, key: &str) -> Result<Option<String>, MetainfoError> {
        Ok(self
            .opt_bytes(key)?
            .map(|b| String::from_utf8_lossy(b).into_owned()))
    }

    pub fn opt_list(&self, key: &str) -> Result<Option<&'v [Value<'a>]>, MetainfoError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_list()
                .map(Some)
                .ok_or_else(|| wrong(self.key(key), "a list", v)),
        }
    }

    pub fn opt_dict(&self, key: &str) -> Result<Option<DictReader<'v, 'a>>, MetainfoError> {
        self.get(key)
            .map(|v| DictReader::new(v, self.key(key)))
            .transpose()
    }
}
