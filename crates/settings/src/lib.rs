//! Configuration sections defined once. Each key of a server's configuration is written in
//! one place — its type, its doc comment and its default — and [`section!`] turns that into
//! the serde struct (`#[serde(default, deny_unknown_fields)]`), its `Default` impl and the
//! list of its [`Key`]s; [`sections!`] groups sections into a whole configuration. The
//! documented TOML that `--print-default-config` prints is generated from them by
//! [`document`], so there is no hand-kept copy of the defaults to drift apart.
//!
//! The crates using the macros depend on `serde` themselves (the derives name it).
//!
//! ```
//! settings::section! {
//!     /// The HTTP server.
//!     pub struct Http {
//!         /// Where it listens.
//!         pub address: String = "127.0.0.1:80".into();
//!         /// A second address, for IPv6.
//!         pub address_v6: Option<String> = None, example "[::1]:80";
//!     }
//! }
//! settings::sections! {
//!     /// A demo server's configuration.
//!     pub struct Demo {
//!         /// How it serves HTTP.
//!         pub http: Http;
//!     }
//! }
//! let text = settings::document(&Demo::default());
//! assert!(text.contains("[http]\n# Where it listens.\naddress = \"127.0.0.1:80\"\n"));
//! assert!(text.contains("# address_v6 = \"[::1]:80\"\n"));
//! ```

mod write;

pub use write::{document, toml_value};

/// One key of a section: its name, its doc comment and, for keys unset by default, an
/// example value shown commented out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key as written in the file.
    pub name: &'static str,
    /// Its doc comment, one line per `///` line (each with its leading space).
    pub doc: &'static str,
    /// For a key unset by default: an example string value.
    pub example: Option<&'static str>,
}

/// A configuration table whose keys, docs and defaults are known: a section made by
/// [`section!`] or a configuration of sections made by [`sections!`].
pub trait Documented: serde::Serialize {
    /// The table's doc comment.
    const DOC: &'static str;
    /// Writes `self` as documented TOML, as the table named `path` (dotted; empty at the top).
    fn write_toml(&self, path: &str, out: &mut String);
    /// Calls `f(table, key)` for every key at any depth, `table` being the dotted path of the
    /// section that holds it.
    fn visit_keys(path: &str, f: &mut dyn FnMut(&str, &Key));
}

/// Every key of `T` with the dotted path of its section, in the order they are documented.
pub fn keys<T: Documented>() -> Vec<(String, Key)> {
    let mut all = Vec::new();
    T::visit_keys("", &mut |table, key| all.push((table.to_owned(), *key)));
    all
}

/// Key names that appear in more than one section of `T` (environment variables name a key
/// without its section, so a configuration keeps them unique).
pub fn duplicate_keys<T: Documented>() -> Vec<&'static str> {
    let all = keys::<T>();
    let mut seen = std::collections::HashSet::new();
    all.iter()
        .filter(|(_, k)| !seen.insert(k.name))
        .map(|(_, k)| k.name)
        .collect()
}

/// `table.key`, or `key` at the top.
pub fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    }
}

/// Defines a configuration section: a struct whose every field has a doc comment and a
/// default (`pub name: Type = default;`, and `, example "value"` for an `Option` that is
/// unset by default). Generates the struct (`Debug, Clone, PartialEq, Eq, Serialize,
/// Deserialize`, `#[serde(default, deny_unknown_fields)]`), `Default` and [`Documented`].
#[macro_export]
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty = $default:expr $(, example $example:literal)? ;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)* }
            }
        }

        impl $name {
            /// The section's keys, their docs and examples.
            pub const KEYS: &'static [$crate::Key] = &[
                $($crate::Key {
                    name: stringify!($field),
                    doc: concat!($($doc, "\n",)*),
                    example: $crate::__example!($($example)?),
                },)*
            ];
        }

        impl $crate::Documented for $name {
            const DOC: &'static str = concat!($($sdoc, "\n",)*);
            fn write_toml(&self, path: &str, out: &mut String) {
                $crate::__write_section(path, Self::DOC, Self::KEYS, self, out);
            }
            fn visit_keys(path: &str, f: &mut dyn FnMut(&str, &$crate::Key)) {
                for key in Self::KEYS {
                    f(path, key);
                }
            }
        }
    };
}

/// Defines a configuration made of sections (each a [`section!`] or itself made by
/// `sections!`): `pub name: Type;` takes the section's own defaults, `pub name: Type =
/// expr;` others. Generates the struct, `Default` and [`Documented`].
#[macro_export]
macro_rules! sections {
    (
        $(#[doc = $sdoc:literal])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty $(= $default:expr)? ;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self { $($field: $crate::__default!($ty $(, $default)?),)* }
            }
        }

        impl $crate::Documented for $name {
            const DOC: &'static str = concat!($($sdoc, "\n",)*);
            fn write_toml(&self, path: &str, out: &mut String) {
                $crate::__write_doc(Self::DOC, out);
                $($crate::Documented::write_toml(
                    &self.$field,
                    &$crate::join(path, stringify!($field)),
                    out,
                );)*
            }
            fn visit_keys(path: &str, f: &mut dyn FnMut(&str, &$crate::Key)) {
                $(<$ty as $crate::Documented>::visit_keys(&$crate::join(path, stringify!($field)), f);)*
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __example {
    () => {
        None
    };
    ($e:literal) => {
        Some($e)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __default {
    ($ty:ty) => {
        <$ty as ::core::default::Default>::default()
    };
    ($ty:ty, $d:expr) => {
        $d
    };
}

#[doc(hidden)]
pub use write::{write_doc as __write_doc, write_section as __write_section};

#[cfg(test)]
mod tests;
