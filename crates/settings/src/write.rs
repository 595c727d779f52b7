//! Documented TOML from the values and docs of the sections. Values go through serde's JSON
//! form: a JSON scalar or array of scalars is also valid TOML (once DEL is escaped), so no
//! TOML serialiser is needed.

use std::fmt::Write as _;

use serde_json::Value;

use crate::{Documented, Key};

/// `value` as documented TOML: every section under its `[table]` header, every key under
/// its doc comment; keys unset in `value` are shown commented out with their example.
pub fn document<T: Documented>(value: &T) -> String {
    let mut out = String::new();
    value.write_toml("", &mut out);
    out
}

/// A configuration's doc as comment lines, set apart by blank lines.
pub fn write_doc(doc: &str, out: &mut String) {
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    comment(doc, out);
    out.push('\n');
}

/// One section: its doc, its `[table]` header and its documented keys.
pub fn write_section<T: serde::Serialize>(path: &str, doc: &str, keys: &[Key], value: &T, out: &mut String) {
    let json = serde_json::to_value(value).unwrap_or(Value::Null);
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    comment(doc, out);
    if !path.is_empty() {
        let _ = writeln!(out, "[{path}]");
    }
    for key in keys {
        comment(key.doc, out);
        match json.get(key.name) {
            None | Some(Value::Null) => {
                let example = toml_value(&Value::String(key.example.unwrap_or_default().into()));
                let _ = writeln!(out, "# {} = {example}", key.name);
            }
            Some(v) => {
                let _ = writeln!(out, "{} = {}", key.name, toml_value(v));
            }
        }
    }
}

fn comment(doc: &str, out: &mut String) {
    for line in doc.lines() {
        let _ = writeln!(out, "#{}", line.trim_end());
    }
}

/// A JSON value (from serde) as TOML text: scalars, arrays and inline tables; nulls inside
/// arrays and tables are left out, as TOML has none.
pub fn toml_value(v: &Value) -> String {
    match v {
        Value::Null => "\"\"".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // JSON escapes quotes, backslashes and controls below 0x20 as TOML does; TOML also
        // wants DEL escaped.
        Value::String(s) => Value::String(s.clone()).to_string().replace('\u{7f}', "\\u007F"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().filter(|i| !i.is_null()).map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{} = {}", toml_value(&Value::String(k.clone())), toml_value(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}
