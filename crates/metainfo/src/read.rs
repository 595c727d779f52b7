//! Typed access to decoded dictionaries, with key paths in every error.

use std::borrow::Cow;

use bencode::{Dict, Value};

use crate::error::{MetainfoError, missing};

/// Where a dictionary sits, rendered into a key path only when an error needs it: building
/// the string for every file of a 10,000-file torrent would cost more than parsing it.
#[derive(Clone)]
pub(crate) enum KeyBase {
    /// A fixed or already built path (`""` for the top level).
    Path(Cow<'static, str>),
    /// An element of a list, e.g. `info.files[12]`.
    Indexed(&'static str, usize),
}

impl KeyBase {
    fn render(&self) -> String {
        match self {
            Self::Path(p) => p.to_string(),
            Self::Indexed(list, i) => format!("{list}[{i}]"),
        }
    }
}

impl From<&'static str> for KeyBase {
    fn from(s: &'static str) -> Self {
        Self::Path(Cow::Borrowed(s))
    }
}

impl From<String> for KeyBase {
    fn from(s: String) -> Self {
        Self::Path(Cow::Owned(s))
    }
}

/// A dictionary together with where it sits, for error messages.
pub(crate) struct DictReader<'v, 'a> {
    pub dict: &'v Dict<'a>,
    base: KeyBase,
}

pub(crate) fn wrong(key: String, expected: &'static str, v: &Value<'_>) -> MetainfoError {
    MetainfoError::WrongType {
        key,
        expected,
        found: v.type_name(),
    }
}

impl<'v, 'a> DictReader<'v, 'a> {
    pub fn new(value: &'v Value<'a>, base: impl Into<KeyBase>) -> Result<Self, MetainfoError> {
        let base = base.into();
        match value.as_dict() {
            Some(dict) => Ok(Self { dict, base }),
            None => {
                let path = base.render();
                let path = if path.is_empty() { "the file".into() } else { path };
                Err(wrong(path, "a dictionary", value))
            }
        }
    }

    /// The key path of this dictionary.
    pub fn path(&self) -> String {
        self.base.render()
    }

    /// The key path of `key` inside this dictionary.
    pub fn key(&self, key: &str) -> String {
        let path = self.path();
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
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
