//! serde `Deserializer` over a decoded [`Value`]: decoding is strict first, then typed.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Visitor};

use crate::decode::DecodeOptions;
use crate::error::{DecodeError, DecodeErrorKind, PathSegment};
use crate::value::{Kind, Value};

/// Decodes `input` strictly and deserializes it into `T`, borrowing strings where `T` allows.
pub fn from_bytes<'de, T: Deserialize<'de>>(input: &'de [u8]) -> Result<T, DecodeError> {
    let value = DecodeOptions::strict().decode(input)?;
    from_value(&value)
}

/// Deserializes an already decoded value.
pub fn from_value<'de, T: Deserialize<'de>>(value: &Value<'de>) -> Result<T, DecodeError> {
    T::deserialize(ValueDeserializer { value }).map_err(|mut e| {
        e.set_offset_if_unknown(value.offset());
        e.finish_path()
    })
}

struct ValueDeserializer<'v, 'de> {
    value: &'v Value<'de>,
}

impl<'v, 'de> ValueDeserializer<'v, 'de> {
    fn wrong(&self, expected: &'static str) -> DecodeError {
        let kind = DecodeErrorKind::WrongType {
            expected,
            found: self.value.type_name(),
        };
        DecodeError::new(kind, self.value.offset())
    }

    fn int(&self) -> Result<i64, DecodeError> {
        self.value.as_int().ok_or_else(|| self.wrong("integer"))
    }
}

/// Runs `f` and, on failure, records where: the value's offset and the key or index.
fn located<T>(
    value: &Value<'_>,
    seg: impl FnOnce() -> PathSegment,
    f: impl FnOnce() -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    f().map_err(|mut e| {
        e.set_offset_if_unknown(value.offset());
        e.push_segment(seg())
    })
}

macro_rules! int_method {
    ($($method:ident => $visit:ident($ty:ty)),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            let i = self.int()?;
            let n = <$ty>::try_from(i).map_err(|_| {
                DecodeError::new(DecodeErrorKind::Custom(format!("integer {i} out of range")), self.value.offset())
            })?;
            visitor.$visit(n)
        })*
    };
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_, 'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value.kind() {
            Kind::Int(i) => visitor.visit_i64(*i),
            Kind::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(b),
            },
            Kind::List(items) => visitor.visit_seq(ListAccess {
                items: items.iter().enumerate(),
            }),
            Kind::Dict(d) => visitor.visit_map(DictAccess {
                entries: d.iter(),
                current: None,
            }),
        }
    }

    int_method!(
        deserialize_i8 => visit_i8(i8), deserialize_i16 => visit_i16(i16),
        deserialize_i32 => visit_i32(i32), deserialize_i64 => visit_i64(i64),
        deserialize_u8 => visit_u8(u8), deserialize_u16 => visit_u16(u16),
        deserialize_u32 => visit_u32(u32), deserialize_u64 => visit_u64(u64),
    );

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.int()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => Err(self.wrong("boolean (0 or 1)")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let b = self.value.as_bytes().ok_or_else(|| self.wrong("string"))?;
        let s = std::str::from_utf8(b).map_err(|_| self.wrong("UTF-8 string"))?;
        visitor.visit_borrowed_str(s)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let b = self.value.as_bytes().ok_or_else(|| self.wrong("string"))?;
        visitor.visit_borrowed_bytes(b)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A byte string also reads as a sequence of bytes, so `Vec<u8>` and `[u8; 20]` work.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value.kind() {
            Kind::List(items) => visitor.visit_seq(ListAccess {
                items: items.iter().enumerate(),
            }),
            Kind::Bytes(b) => visitor.visit_seq(de::value::SeqDeserializer::new(b.iter().copied())),
            _ => Err(self.wrong("list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let d = self.value.as_dict().ok_or_else(|| self.wrong("dictionary"))?;
        visitor.visit_map(DictAccess {
            entries: d.iter(),
            current: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value.kind() {
            Kind::Bytes(_) => visitor.visit_enum(EnumAccess {
                tag: self.value,
                content: None,
            }),
            Kind::Dict(d) if d.len() == 1 => {
                let (tag, content) = d.iter().next().ok_or_else(|| self.wrong("enum"))?;
                let tag_value = Value::new(tag, self.value.offset(), Kind::Bytes(tag));
                visitor.visit_enum(EnumAccess {
                    tag: &tag_value,
                    content: Some(content),
                })
            }
            _ => Err(self.wrong("enum (a string or a one-key dictionary)")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value.kind() {
            Kind::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(b),
            },
            _ => Err(self.wrong("string")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, DecodeError> {
        Err(self.wrong("float (bencode has none)"))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, DecodeError> {
        Err(self.wrong("float (bencode has none)"))
    }
}

struct ListAccess<'v, 'de> {
    items: std::iter::Enumerate<std::slice::Iter<'v, Value<'de>>>,
}

impl<'de> de::SeqAccess<'de> for ListAccess<'_, 'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some((i, value)) = self.items.next() else {
            return Ok(None);
        };
        located(
            value,
            || PathSegment::Index(i),
            || seed.deserialize(ValueDeserializer { value }),
        )
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct DictAccess<'v, 'de, I> {
    entries: I,
    current: Option<(&'de [u8], &'v Value<'de>)>,
}

impl<'v, 'de, I> de::MapAccess<'de> for DictAccess<'v, 'de, I>
where
    I: Iterator<Item = (&'de [u8], &'v Value<'de>)>,
{
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some((key, value));
        let key_value = Value::new(key, value.offset(), Kind::Bytes(key));
        seed.deserialize(ValueDeserializer { value: &key_value })
            .map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DecodeError> {
        let (key, value) = self
            .current
            .take()
            .ok_or_else(|| DecodeError::without_offset(DecodeErrorKind::Custom("value before key".into())))?;
        located(
            value,
            || PathSegment::Key(key.into()),
            || seed.deserialize(ValueDeserializer { value }),
        )
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.size_hint().1
    }
}

struct EnumAccess<'v, 'de> {
    tag: &'v Value<'de>,
    content: Option<&'v Value<'de>>,
}

impl<'v, 'de> de::EnumAccess<'de> for EnumAccess<'v, 'de> {
    type Error = DecodeError;
    type Variant = VariantAccess<'v, 'de>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), DecodeError> {
        let v = seed.deserialize(ValueDeserializer { value: self.tag })?;
        Ok((
            v,
            VariantAccess {
                content: self.content,
                offset: self.tag.offset(),
            },
        ))
    }
}

struct VariantAccess<'v, 'de> {
    content: Option<&'v Value<'de>>,
    offset: usize,
}

impl<'de> VariantAccess<'_, 'de> {
    fn content(&self) -> Result<&Value<'de>, DecodeError> {
        self.content.ok_or_else(|| {
            let kind = DecodeErrorKind::WrongType {
                expected: "enum variant with content",
                found: "string",
            };
            DecodeError::new(kind, self.offset)
        })
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_, 'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DecodeError> {
        seed.deserialize(ValueDeserializer {
            value: self.content()?,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_seq(
            ValueDeserializer {
                value: self.content()?,
            },
            visitor,
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_map(
            ValueDeserializer {
                value: self.content()?,
            },
            visitor,
        )
    }
}
