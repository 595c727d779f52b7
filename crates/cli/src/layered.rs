//! Layered configuration, as the house style orders it: built-in defaults, then a TOML file,
//! then `NEXSUJ_<KEY>` environment variables; the commands put their flags on top of the
//! typed result. Configurations are made of sections (`[http]`, `[site.web]`, …); a key's
//! variable names the key without its section (key names are unique within a scope), and
//! the layers are merged section by section. Every layer is checked by the same
//! `deny_unknown_fields` deserialisation, so a typo in any of them is an error that names
//! the key and its section.

use std::path::Path;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use settings::Documented;

/// Loads a `T` from `base` (its defaults), `file`, and for each `(table, prefix)` of `env`
/// the variables `{prefix}{KEY}` (upper case) of every key under the section `table` (all
/// keys for `""`).
pub fn load<T>(base: &T, file: Option<&Path>, env: &[(&str, &str)]) -> anyhow::Result<T>
where
    T: Documented + DeserializeOwned,
{
    let defaults = match json_to_toml(serde_json::to_value(base).context("serialising the defaults")?) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    let mut user = match file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<toml::Table>(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => toml::Table::new(),
    };
    for (table, key) in settings::keys::<T>() {
        let scope = env.iter().find(|(scope, _)| {
            scope.is_empty() || table == *scope || table.starts_with(&format!("{scope}."))
        });
        let Some((_, prefix)) = scope else { continue };
        if let Ok(text) = std::env::var(format!("{prefix}{}", key.name.to_uppercase())) {
            insert_at(&mut user, &table, key.name, env_value(&text));
        }
    }
    let mut all = defaults.clone();
    merge(&mut all, user.clone());
    toml::Value::Table(all).try_into::<T>().map_err(|e| {
        anyhow::anyhow!(
            "invalid configuration: {}",
            name_the_key::<T>(&defaults, &user, &e)
        )
    })
}

/// A multi-threaded runtime with `workers` threads (0: one per core).
pub fn runtime(workers: usize, name: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// Merges `layer` into `into`, table by table: a section given in a layer changes only the
/// keys it names.
fn merge(into: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(value)) => merge(inner, value),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Sets `key` in the section at the dotted path `table` of `root`, creating the sections.
fn insert_at(root: &mut toml::Table, table: &str, key: &str, value: toml::Value) {
    let mut at = root;
    for part in table.split('.').filter(|p| !p.is_empty()) {
        let entry = at
            .entry(part)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(inner) = entry else { return };
        at = inner;
    }
    at.insert(key.to_owned(), value);
}

/// serde's message for a bad value does not say which key held it; find the key by trying
/// the keys the user set one at a time on top of the defaults.
fn name_the_key<T: Documented + DeserializeOwned>(
    defaults: &toml::Table,
    user: &toml::Table,
    e: &toml::de::Error,
) -> String {
    let mut leaves = Vec::new();
    collect_leaves("", user, &mut leaves);
    for (path, value) in leaves {
        let (table, key) = path.rsplit_once('.').unwrap_or(("", &path));
        let mut one = defaults.clone();
        let mut layer = toml::Table::new();
        insert_at(&mut layer, table, key, value);
        merge(&mut one, layer);
        if let Err(e) = toml::Value::Table(one).try_into::<T>() {
            return format!("{path}: {}{}", e.message().trim(), where_it_belongs::<T>(&path));
        }
    }
    e.message().trim().to_owned()
}

/// For a key written outside its section (a file from before the sections), where it goes.
fn where_it_belongs<T: Documented>(path: &str) -> String {
    let name = path.rsplit('.').next().unwrap_or(path);
    let homes: Vec<String> = settings::keys::<T>()
        .into_iter()
        .filter(|(table, key)| key.name == name && settings::join(table, name) != path)
        .map(|(table, _)| format!("[{table}]"))
        .collect();
    if homes.is_empty() {
        String::new()
    } else {
        format!(" ({name} belongs in {})", homes.join(" or "))
    }
}

/// Every value that is not a table, and every empty table, with its dotted path.
fn collect_leaves(path: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (key, value) in table {
        let path = settings::join(path, key);
        match value {
            toml::Value::Table(inner) if !inner.is_empty() => collect_leaves(&path, inner, out),
            _ => out.push((path, value.clone())),
        }
    }
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

    settings::section! {
        /// A demo section.
        pub struct Main {
            /// An address.
            pub address: String = String::new();
            /// Threads.
            pub workers: usize = 0;
            /// Names.
            pub names: Vec<String> = Vec::new();
            /// A note.
            pub note: Option<String> = None, example "n";
        }
    }

    settings::section! {
        /// Another.
        pub struct Other {
            /// Left alone by the file.
            pub kept: u32 = 7;
            /// Set by the file.
            pub set: u32 = 0;
        }
    }

    settings::sections! {
        /// A demo configuration.
        pub struct Demo {
            /// The main section.
            pub main: Main;
            /// The other.
            pub other: Other = Other { kept: 8, set: 0 };
        }
    }

    #[test]
    fn layers_apply_in_order_and_typos_are_named() {
        let dir = testkit::TempDir::new("layered");
        let file = dir.path().join("c.toml");
        let text = "[main]\naddress = \"file\"\nworkers = 2\nnote = \"n\"\n[other]\nset = 3\n";
        std::fs::write(&file, text).unwrap();
        // No LAYEREDTEST_NONE_* variable exists, so the environment layer adds nothing here;
        // the binary's tests set real ones on a child process.
        let env = [("", "LAYEREDTEST_NONE_")];
        let d: Demo = load(&Demo::default(), Some(&file), &env).unwrap();
        assert_eq!(
            d.main,
            Main {
                address: "file".into(),
                workers: 2,
                names: vec![],
                note: Some("n".into())
            }
        );
        // A section in the file changes only the keys it names; the others keep the base's.
        assert_eq!((d.other.kept, d.other.set), (8, 3));
        assert_eq!(
            env_value("[\"a\", \"b\"]"),
            toml::Value::Array(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            env_value("127.0.0.1:1"),
            toml::Value::String("127.0.0.1:1".into())
        );
        assert_eq!(env_value("7"), toml::Value::Integer(7));
        std::fs::write(&file, "[main]\nworkers = \"many\"\n").unwrap();
        let err = load(&Demo::default(), Some(&file), &env).unwrap_err();
        assert!(err.to_string().contains("main.workers: invalid type"), "{err}");
        std::fs::write(&file, "[main]\nadress = \"typo\"\n").unwrap();
        let err = load(&Demo::default(), Some(&file), &env).unwrap_err();
        assert!(err.to_string().contains("adress"), "{err}");
        std::fs::write(&file, "address = \"not in a section\"\n").unwrap();
        let err = load(&Demo::default(), Some(&file), &env).unwrap_err();
        assert!(err.to_string().contains("unknown field `address`"), "{err}");
        assert!(err.to_string().contains("address belongs in [main]"), "{err}");
    }

    #[test]
    fn variables_go_to_the_section_that_owns_the_key() {
        let mut t = toml::Table::new();
        insert_at(&mut t, "tracker.http", "http_workers", toml::Value::Integer(1));
        insert_at(&mut t, "", "top", toml::Value::Boolean(true));
        assert_eq!(t["tracker"]["http"]["http_workers"].as_integer(), Some(1));
        assert_eq!(t["top"].as_bool(), Some(true));
    }
}
