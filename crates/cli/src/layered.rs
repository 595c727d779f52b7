//! Layered configuration, as the house style orders it: built-in defaults, then a TOML file,
//! then `NEXSUJ_<KEY>` environment variables, then command-line flags. Every layer is checked
//! by the same `deny_unknown_fields` deserialisation, so a typo in any of them is an error
//! that names the key.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Loads a `T` from its defaults, `file`, the environment variables `{prefix}{KEY}` (upper
/// case) for each top-level key of `T`, and `flags` (already-typed values, highest priority).
pub fn load<T>(file: Option<&Path>, prefix: &str, flags: toml::Table) -> anyhow::Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    let from_file = match file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Some(toml::from_str::<toml::Table>(&text).with_context(|| format!("in {}", path.display()))?)
        }
        None => None,
    };
    load_section(&T::default(), from_file, prefix, flags)
}

/// Like [`load`], for one `[section]` of a file that several configurations share (`nexsuj
/// serve` reads `[site]` and `[tracker]` from one file), starting from `base` instead of the
/// type's defaults. The environment variables are `{prefix}{KEY}` for the section's keys.
pub fn load_section<T>(
    base: &T,
    section: Option<toml::Table>,
    prefix: &str,
    flags: toml::Table,
) -> anyhow::Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    let base = serde_json::to_value(base).context("serialising the defaults")?;
    // Keys from the JSON form, which keeps unset options (null) that TOML cannot hold: their
    // variables must work too.
    let keys: Vec<String> = base
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut table = match json_to_toml(base) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    table.extend(section.unwrap_or_default());
    for key in keys {
        if let Ok(text) = std::env::var(format!("{prefix}{}", key.to_uppercase())) {
            table.insert(key, env_value(&text));
        }
    }
    table.extend(flags);
    toml::Value::Table(table.clone())
        .try_into::<T>()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {}", name_the_key::<T>(&table, &e)))
}

/// serde's message for a bad value does not say which key held it; find the key by trying
/// the keys one at a time on top of the defaults.
fn name_the_key<T: DeserializeOwned + Default + Serialize>(
    table: &toml::Table,
    e: &toml::de::Error,
) -> String {
    let message = e.message().trim().to_owned();
    let Ok(serde_json::Value::Object(defaults)) = serde_json::to_value(T::default()) else {
        return message;
    };
    for (key, value) in table {
        let mut one: toml::Table = defaults
            .clone()
            .into_iter()
            .filter_map(|(k, v)| Some((k, json_to_toml(v)?)))
            .collect();
        one.insert(key.clone(), value.clone());
        if toml::Value::Table(one).try_into::<T>().is_err() {
            return format!("{key}: {message}");
        }
    }
    message
}

/// An environment value as TOML when it reads as TOML (`8`, `true`, `["a", "b"]`),
/// otherwise as a plain string (`127.0.0.1:6969`).
fn env_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

/// JSON (from serde) to TOML; nulls (unset options) are left out, as TOML has none.
fn json_to_toml(v: serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => toml::Value::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        J::String(s) => toml::Value::String(s),
        J::Array(a) => toml::Value::Array(a.into_iter().filter_map(json_to_toml).collect()),
        J::Object(o) => toml::Value::Table(
            o.into_iter()
                .filter_map(|(k, v)| Some((k, json_to_toml(v)?)))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Demo {
        address: String,
        workers: usize,
        names: Vec<String>,
        note: Option<String>,
    }

    #[test]
    fn layers_apply_in_order_and_typos_are_named() {
        let dir = testkit::TempDir::new("layered");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "address = \"file\"\nworkers = 2\nnote = \"n\"\n").unwrap();
        // No LAYEREDTEST_NONE_* variable exists, so the environment layer adds nothing here;
        // the binary's tests set real ones on a child process.
        let mut flags = toml::Table::new();
        flags.insert("workers".into(), toml::Value::Integer(9));
        let d: Demo = load(Some(&file), "LAYEREDTEST_NONE_", flags.clone()).unwrap();
        assert_eq!(
            d,
            Demo {
                address: "file".into(),
                workers: 9,
                names: vec![],
                note: Some("n".into())
            }
        );
        assert_eq!(
            env_value("[\"a\", \"b\"]"),
            toml::Value::Array(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            env_value("127.0.0.1:1"),
            toml::Value::String("127.0.0.1:1".into())
        );
        assert_eq!(env_value("7"), toml::Value::Integer(7));
        std::fs::write(&file, "workers = \"many\"\n").unwrap();
        let err = load::<Demo>(Some(&file), "LAYEREDTEST_NONE_", toml::Table::new()).unwrap_err();
        assert!(err.to_string().contains("workers: invalid type"), "{err}");
        std::fs::write(&file, "adress = \"typo\"\n").unwrap();
        let err = load::<Demo>(Some(&file), "LAYEREDTEST_NONE_", toml::Table::new()).unwrap_err();
        assert!(err.to_string().contains("adress"), "{err}");
    }
}
