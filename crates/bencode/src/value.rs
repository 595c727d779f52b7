//! The borrowed value tree produced by the decoder.

/// A decoded value that borrows from the input and remembers its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
    offset: usize,
    kind: Kind<'a>,
}

/// The four bencode types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `i42e`.
    Int(i64),
    /// `4:spam` (any bytes, not necessarily UTF-8).
    Bytes(&'a [u8]),
    /// `l…e`.
    List(Vec<Value<'a>>),
    /// `d…e`.
    Dict(Dict<'a>),
}

impl<'a> Value<'a> {
    pub(crate) fn new(raw: &'a [u8], offset: usize, kind: Kind<'a>) -> Self {
        Self { raw, offset, kind }
    }

    /// The exact bytes of this value as they appear in the input (hash these, never a re-encoding).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Byte offset of this value in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The value's type and contents.
    pub fn kind(&self) -> &Kind<'a> {
        &self.kind
    }

    /// Name of the type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Int(_) => "integer",
            Kind::Bytes(_) => "string",
            Kind::List(_) => "list",
            Kind::Dict(_) => "dictionary",
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self.kind {
            Kind::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The byte string, if this is one.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.kind {
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The byte string as UTF-8, if this is a string and valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The list elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match &self.kind {
            Kind::List(l) => Some(l),
            _ => None,
        }
    }

    /// The dictionary, if this is one.
    pub fn as_dict(&self) -> Option<&Dict<'a>> {
        match &self.kind {
            Kind::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Shorthand for `as_dict()?.get(key)`.
    pub fn get(&self, key: &[u8]) -> Option<&Value<'a>> {
        self.as_dict()?.get(key)
    }

    /// Canonical encoding of this value (sorted keys), appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Int(i) => crate::encode::write_int(out, *i),
            Kind::Bytes(b) => crate::encode::write_bytes(out, b),
            Kind::List(l) => {
                out.push(b'l');
                for v in l {
                    v.encode_into(out);
                }
                out.push(b'e');
            }
            Kind::Dict(d) => {
                out.push(b'd');
                for (k, v) in d.iter() {
                    crate::encode::write_bytes(out, k);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// Canonical encoding of this value (sorted keys).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.raw.len());
        self.encode_into(&mut out);
        out
    }
}

/// A dictionary whose entries are kept sorted by key, so lookups are binary searches.
///
/// In lenient mode the input order may differ; the entries are sorted after decoding, and
/// [`Value::raw`] still holds the original bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dict<'a> {
    entries: Vec<(&'a [u8], Value<'a>)>,
}

impl<'a> Dict<'a> {
    pub(crate) fn from_sorted(entries: Vec<(&'a [u8], Value<'a>)>) -> Self {
        Self { entries }
    }

    /// The value under `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Value<'a>> {
        // Most dictionaries (file entries, peers) have a handful of keys: a linear scan that
        // compares lengths first beats a binary search there.
        if self.entries.len() <= 8 {
            return self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        }
        self.entries
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a [u8], &Value<'a>)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl serde::Serialize for Value<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match &self.kind {
            Kind::Int(i) => s.serialize_i64(*i),
            Kind::Bytes(b) => s.serialize_bytes(b),
            Kind::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Kind::Dict(d) => {
                let mut map = s.serialize_map(Some(d.len()))?;
                for (k, v) in d.iter() {
                    map.serialize_entry(&crate::ByteStr(k), v)?;
                }
                map.end()
            }
        }
    }
}
