//! The strict, zero-copy decoder.

use crate::error::{DecodeError, DecodeErrorKind as K, PathSegment};
use crate::value::{Dict, Kind, Value};

/// Decoding rules and limits. [`DecodeOptions::default`] is strict with generous limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    allow_unsorted_keys: bool,
    max_depth: usize,
    max_input_len: usize,
    max_string_len: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self::strict()
    }
}

impl DecodeOptions {
    /// Strict rules of BEP 3: canonical integers and lengths, sorted unique string keys,
    /// nothing after the value. Limits: depth 256, input 128 MiB, strings 64 MiB.
    pub const fn strict() -> Self {
        Self {
            allow_unsorted_keys: false,
            max_depth: 256,
            max_input_len: 128 << 20,
            max_string_len: 64 << 20,
        }
    }

    /// Like [`strict`](Self::strict) but accepts dictionary keys out of order, as some
    /// torrents in the wild have them. Duplicate keys are still refused (they are ambiguous).
    pub const fn lenient() -> Self {
        Self {
            allow_unsorted_keys: true,
            ..Self::strict()
        }
    }

    /// Maximum nesting of lists and dictionaries.
    pub const fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Maximum size of the whole input in bytes.
    pub const fn max_input_len(mut self, len: usize) -> Self {
        self.max_input_len = len;
        self
    }

    /// Maximum length of one byte string.
    pub const fn max_string_len(mut self, len: usize) -> Self {
        self.max_string_len = len;
        self
    }

    /// Whether unsorted keys are accepted.
    pub const fn allows_unsorted_keys(&self) -> bool {
        self.allow_unsorted_keys
    }

    /// Decodes exactly one value that spans the whole input.
    pub fn decode<'a>(&self, input: &'a [u8]) -> Result<Value<'a>, DecodeError> {
        let (value, rest) = self.decode_prefix(input)?;
        if !rest.is_empty() {
            let offset = input.len() - rest.len();
            return Err(DecodeError::new(K::TrailingBytes { count: rest.len() }, offset));
        }
        Ok(value)
    }

    /// Decodes one value at the start of `input` and returns it with the bytes after it
    /// (for messages where raw data follows a bencoded header, as in BEP 9).
    pub fn decode_prefix<'a>(&self, input: &'a [u8]) -> Result<(Value<'a>, &'a [u8]), DecodeError> {
        if input.len() > self.max_input_len {
            let kind = K::InputTooLarge {
                len: input.len(),
                limit: self.max_input_len,
            };
            return Err(DecodeError::new(kind, 0));
        }
        let mut parser = Parser {
            input,
            pos: 0,
            opts: self,
        };
        let value = parser.value(0).map_err(DecodeError::finish_path)?;
        Ok((value, &input[parser.pos..]))
    }
}

/// Decodes one strict value spanning all of `input` with the default limits.
pub fn decode(input: &[u8]) -> Result<Value<'_>, DecodeError> {
    DecodeOptions::strict().decode(input)
}

struct Parser<'a, 'o> {
    input: &'a [u8],
    pos: usize,
    opts: &'o DecodeOptions,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self, expected: &'static str) -> Result<u8, DecodeError> {
        match self.input.get(self.pos) {
            Some(&b) => Ok(b),
            None => Err(DecodeError::new(K::UnexpectedEof { expected }, self.pos)),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        let start = self.pos;
        let kind = match self.peek("a value")? {
            b'i' => Kind::Int(self.int()?),
            b'0'..=b'9' => Kind::Bytes(self.bytes()?),
            b'l' => Kind::List(self.list(depth + 1)?),
            b'd' => Kind::Dict(self.dict(depth + 1)?),
            other => return Err(unexpected(other, "a value (i, l, d or a digit)", start)),
        };
        Ok(Value::new(&self.input[start..self.pos], start, kind))
    }

    fn int(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        self.pos += 1; // 'i'
        let negative = self.peek("an integer")? == b'-';
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        // Accumulate as a negative number so that i64::MIN is representable.
        let mut acc: i64 = 0;
        loop {
            let b = self.peek("'e' closing an integer")?;
            match b {
                b'0'..=b'9' => {
                    let d = i64::from(b - b'0');
                    acc = acc
                        .checked_mul(10)
                        .and_then(|a| a.checked_sub(d))
                        .ok_or_else(|| DecodeError::new(K::IntegerOverflow, start))?;
                    self.pos += 1;
                }
                b'e' => break,
                other => return Err(unexpected(other, "a digit or 'e' in an integer", self.pos)),
            }
        }
        let digits = &self.input[digits_start..self.pos];
        match digits {
            [] => return Err(DecodeError::new(K::EmptyInteger, start)),
            [b'0'] if negative => return Err(DecodeError::new(K::NegativeZero, start)),
            [b'0', _, ..] => return Err(DecodeError::new(K::IntegerLeadingZero, start)),
            _ => {}
        }
        self.pos += 1; // 'e'
        if negative {
            Ok(acc)
        } else {
            acc.checked_neg()
                .ok_or_else(|| DecodeError::new(K::IntegerOverflow, start))
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let mut len: usize = 0;
        loop {
            let b = self.peek("':' after a string length")?;
            match b {
                b'0'..=b'9' => {
                    if self.pos > start && self.input[start] == b'0' {
                        return Err(DecodeError::new(K::LengthLeadingZero, start));
                    }
                    len = len
                        .checked_mul(10)
                        .and_then(|l| l.checked_add(usize::from(b - b'0')))
                        .ok_or_else(|| DecodeError::new(K::LengthOverflow, start))?;
                    self.pos += 1;
                }
                b':' => break,
                other => return Err(unexpected(other, "a digit or ':' in a string length", self.pos)),
            }
        }
        self.pos += 1; // ':'
        if len > self.opts.max_string_len {
            let kind = K::StringTooLong {
                len,
                limit: self.opts.max_string_len,
            };
            return Err(DecodeError::new(kind, start));
        }
        let end = self.pos.checked_add(len).filter(|&e| e <= self.input.len());
        let Some(end) = end else {
            let kind = K::UnexpectedEof {
                expected: "the rest of a string",
            };
            return Err(DecodeError::new(kind, self.input.len()));
        };
        let s = &self.input[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn enter(&self, depth: usize) -> Result<(), DecodeError> {
        if depth > self.opts.max_depth {
            return Err(DecodeError::new(
                K::DepthLimit {
                    limit: self.opts.max_depth,
                },
                self.pos,
            ));
        }
        Ok(())
    }

    fn list(&mut self, depth: usize) -> Result<Vec<Value<'a>>, DecodeError> {
        self.enter(depth)?;
        self.pos += 1; // 'l'
        let mut items = Vec::new();
        while self.peek("a list element or 'e'")? != b'e' {
            let index = items.len();
            let v = self
                .value(depth)
                .map_err(|e| e.push_segment(PathSegment::Index(index)))?;
            items.push(v);
        }
        self.pos += 1;
        Ok(items)
    }

    fn dict(&mut self, depth: usize) -> Result<Dict<'a>, DecodeError> {
        self.enter(depth)?;
        self.pos += 1; // 'd'
        let mut entries: Vec<(&'a [u8], Value<'a>)> = Vec::new();
        let mut sorted = true;
        loop {
            let b = self.peek("a dictionary key or 'e'")?;
            if b == b'e' {
                break;
            }
            let key_start = self.pos;
            if !b.is_ascii_digit() {
                return Err(DecodeError::new(K::NonStringKey, key_start));
            }
            let key = self.bytes()?;
            if let Some((prev, _)) = entries.last() {
                match (*prev).cmp(key) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => return Err(duplicate(key, key_start)),
                    std::cmp::Ordering::Greater if self.opts.allow_unsorted_keys => sorted = false,
                    std::cmp::Ordering::Greater => {
                        let kind = K::UnsortedKey {
                            key: lossy(key),
                            previous: lossy(prev),
                        };
                        return Err(DecodeError::new(kind, key_start));
                    }
                }
            }
            let seg = || PathSegment::Key(key.into());
            let v = self.value(depth).map_err(|e| e.push_segment(seg()))?;
            entries.push((key, v));
        }
        self.pos += 1;
        if !sorted {
            entries.sort_by(|a, b| a.0.cmp(b.0));
            if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(duplicate(w[0].0, w[1].1.offset()));
            }
        }
        Ok(Dict::from_sorted(entries))
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn duplicate(key: &[u8], offset: usize) -> DecodeError {
    DecodeError::new(K::DuplicateKey { key: lossy(key) }, offset)
}

fn unexpected(found: u8, expected: &'static str, offset: usize) -> DecodeError {
    DecodeError::new(K::UnexpectedByte { found, expected }, offset)
}
