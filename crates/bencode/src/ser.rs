//! serde `Serializer`: structs and maps become dictionaries with sorted keys, `None` fields
//! are left out, byte buffers become strings.

use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};

use crate::bytes::RAW_TOKEN;
use crate::encode::{write_bytes, write_int};
use crate::error::EncodeError;

/// Bencodes any `Serialize` value.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    value.serialize(ValueSerializer { out: &mut out })?;
    if out.is_empty() {
        return Err(EncodeError::Missing);
    }
    Ok(out)
}

/// Serializes one value into `out`; writes nothing for `None` and `()` so that the enclosing
/// dictionary can drop the entry.
struct ValueSerializer<'o> {
    out: &'o mut Vec<u8>,
}

/// Serializes `value` as a required element (list item): nothing written is an error.
fn required<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), EncodeError> {
    let before = out.len();
    value.serialize(ValueSerializer { out: &mut *out })?;
    if out.len() == before {
        return Err(EncodeError::Missing);
    }
    Ok(())
}

impl<'o> ser::Serializer for ValueSerializer<'o> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = ListSerializer<'o>;
    type SerializeTuple = ListSerializer<'o>;
    type SerializeTupleStruct = ListSerializer<'o>;
    type SerializeTupleVariant = ListSerializer<'o>;
    type SerializeMap = DictSerializer<'o>;
    type SerializeStruct = DictSerializer<'o>;
    type SerializeStructVariant = DictSerializer<'o>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        write_int(self.out, i64::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.serialize_i64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        let v = i64::try_from(v).map_err(|_| EncodeError::IntegerOverflow(v))?;
        self.serialize_i64(v)
    }
    fn serialize_f32(self, _: f32) -> Result<(), EncodeError> {
        Err(EncodeError::Float)
    }
    fn serialize_f64(self, _: f64) -> Result<(), EncodeError> {
        Err(EncodeError::Float)
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        write_bytes(self.out, v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        write_bytes(self.out, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        if name != RAW_TOKEN {
            return v.serialize(self);
        }
        // `Raw` wraps already-encoded bytes: serialize them as a string, then drop the length prefix.
        let mut tmp = Vec::new();
        v.serialize(ValueSerializer { out: &mut tmp })?;
        let colon = tmp.iter().position(|&b| b == b':').ok_or(EncodeError::Missing)?;
        self.out.extend_from_slice(&tmp[colon + 1..]);
        Ok(())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.out.push(b'd');
        write_bytes(self.out, variant.as_bytes());
        required(self.out, value)?;
        self.out.push(b'e');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<ListSerializer<'o>, EncodeError> {
        self.out.push(b'l');
        Ok(ListSerializer {
            out: self.out,
            close_variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<ListSerializer<'o>, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<ListSerializer<'o>, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<ListSerializer<'o>, EncodeError> {
        self.out.push(b'd');
        write_bytes(self.out, variant.as_bytes());
        self.out.push(b'l');
        Ok(ListSerializer {
            out: self.out,
            close_variant: true,
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<DictSerializer<'o>, EncodeError> {
        Ok(DictSerializer::new(self.out, None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<DictSerializer<'o>, EncodeError> {
        Ok(DictSerializer::new(self.out, None))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<DictSerializer<'o>, EncodeError> {
        Ok(DictSerializer::new(self.out, Some(variant)))
    }
}

/// Writes list elements straight into the output.
pub(crate) struct ListSerializer<'o> {
    out: &'o mut Vec<u8>,
    close_variant: bool,
}

impl ListSerializer<'_> {
    fn finish(self) {
        self.out.push(b'e');
        if self.close_variant {
            self.out.push(b'e');
        }
    }
}

macro_rules! list_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for ListSerializer<'_> {
            type Ok = ();
            type Error = EncodeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
                required(self.out, value)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.finish();
                Ok(())
            }
        }
    };
}
list_impl!(SerializeSeq, serialize_element);
list_impl!(SerializeTuple, serialize_element);
list_impl!(SerializeTupleStruct, serialize_field);
list_impl!(SerializeTupleVariant, serialize_field);

/// Buffers entries in a scratch vector, then writes them sorted by key.
pub(crate) struct DictSerializer<'o> {
    out: &'o mut Vec<u8>,
    variant: Option<&'static str>,
    scratch: Vec<u8>,
    entries: Vec<(Range<usize>, Range<usize>)>,
    pending_key: Option<Range<usize>>,
}

impl<'o> DictSerializer<'o> {
    fn new(out: &'o mut Vec<u8>, variant: Option<&'static str>) -> Self {
        Self {
            out,
            variant,
            scratch: Vec::new(),
            entries: Vec::new(),
            pending_key: None,
        }
    }

    fn push_key(&mut self, key: &[u8]) {
        let start = self.scratch.len();
        self.scratch.extend_from_slice(key);
        self.pending_key = Some(start..self.scratch.len());
    }

    fn push_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| EncodeError::Custom("value without key".into()))?;
        let start = self.scratch.len();
        value.serialize(ValueSerializer {
            out: &mut self.scratch,
        })?;
        if self.scratch.len() == start {
            // None or unit: leave the entry out, as bencode has no null.
            self.scratch.truncate(key.start);
        } else {
            self.entries.push((key, start..self.scratch.len()));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), EncodeError> {
        let scratch = &self.scratch;
        self.entries
            .sort_by(|a, b| scratch[a.0.clone()].cmp(&scratch[b.0.clone()]));
        if let Some(w) = self
            .entries
            .windows(2)
            .find(|w| scratch[w[0].0.clone()] == scratch[w[1].0.clone()])
        {
            let key = String::from_utf8_lossy(&scratch[w[0].0.clone()]).into_owned();
            return Err(EncodeError::DuplicateKey(key));
        }
        if let Some(variant) = self.variant {
            self.out.push(b'd');
            write_bytes(self.out, variant.as_bytes());
        }
        self.out.push(b'd');
        for (k, v) in &self.entries {
            write_bytes(self.out, &scratch[k.clone()]);
            self.out.extend_from_slice(&scratch[v.clone()]);
        }
        self.out.push(b'e');
        if self.variant.is_some() {
            self.out.push(b'e');
        }
        Ok(())
    }
}

impl ser::SerializeMap for DictSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        let mut buf = Vec::new();
        key.serialize(KeySerializer { out: &mut buf })?;
        self.push_key(&buf);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push_value(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

macro_rules! struct_impl {
    ($trait:ident) => {
        impl ser::$trait for DictSerializer<'_> {
            type Ok = ();
            type Error = EncodeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), EncodeError> {
                self.push_key(key.as_bytes());
                self.push_value(value)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.finish()
            }
        }
    };
}
struct_impl!(SerializeStruct);
struct_impl!(SerializeStructVariant);

/// Accepts only strings and bytes, the two things a dictionary key may be.
struct KeySerializer<'o> {
    out: &'o mut Vec<u8>,
}

macro_rules! reject_key {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), EncodeError> {
            Err(EncodeError::NonStringKey)
        })*
    };
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Impossible<(), EncodeError>;
    type SerializeTuple = Impossible<(), EncodeError>;
    type SerializeTupleStruct = Impossible<(), EncodeError>;
    type SerializeTupleVariant = Impossible<(), EncodeError>;
    type SerializeMap = Impossible<(), EncodeError>;
    type SerializeStruct = Impossible<(), EncodeError>;
    type SerializeStructVariant = Impossible<(), EncodeError>;

    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.out.extend_from_slice(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        v.serialize(self)
    }
    reject_key!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
    );
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(EncodeError::NonStringKey)
    }
}
