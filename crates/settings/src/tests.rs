use super::*;

crate::section! {
    /// A section with every kind of value.
    /// Its doc has two lines.
    pub struct Kinds {
        /// A string with characters TOML must escape.
        pub text: String = "a \"quoted\" \\ back\tslash \u{7f} ü".into();
        /// A number.
        pub count: u64 = 1 << 40;
        /// A flag.
        pub on: bool = true;
        /// A list.
        pub names: Vec<String> = vec!["a".into(), "b".into()];
        /// Unset by default.
        pub note: Option<String> = None, example "an example";
    }
}

crate::section! {
    /// Another section.
    pub struct Other {
        /// An empty list.
        pub empty: Vec<String> = Vec::new();
    }
}

crate::sections! {
    /// The demo configuration.
    pub struct Demo {
        /// The first.
        pub kinds: Kinds;
        /// The second, with a default of its own.
        pub other: Other = Other { empty: vec!["x".into()] };
    }
}

crate::sections! {
    /// Two demos.
    pub struct Outer {
        /// One.
        pub one: Demo;
        /// Two.
        pub two: Demo;
    }
}

#[test]
fn the_documented_defaults_parse_back_to_the_defaults() {
    let text = document(&Demo::default());
    let parsed: Demo = toml::from_str(&text).unwrap();
    assert_eq!(parsed, Demo::default());
    assert!(text.starts_with("# The demo configuration.\n"), "{text}");
    assert!(
        text.contains("# A section with every kind of value.\n# Its doc has two lines.\n[kinds]\n"),
        "{text}"
    );
    assert!(
        text.contains("# Unset by default.\n# note = \"an example\"\n"),
        "{text}"
    );
    assert!(
        text.contains("[other]\n# An empty list.\nempty = [\"x\"]\n"),
        "{text}"
    );
    let nested = document(&Outer::default());
    assert!(
        nested.contains("[one.kinds]") && nested.contains("[two.other]"),
        "{nested}"
    );
    assert_eq!(toml::from_str::<Outer>(&nested).unwrap(), Outer::default());
}

#[test]
fn set_options_are_written_and_unknown_keys_refused() {
    let mut demo = Demo::default();
    demo.kinds.note = Some("set".into());
    let parsed: Demo = toml::from_str(&document(&demo)).unwrap();
    assert_eq!(parsed.kinds.note.as_deref(), Some("set"));
    let err = toml::from_str::<Demo>("[kinds]\ncuont = 1\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `cuont`"), "{err}");
    let err = toml::from_str::<Demo>("[kinsd]\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `kinsd`"), "{err}");
}

#[test]
fn keys_are_listed_with_their_sections() {
    let all = keys::<Demo>();
    let names: Vec<(String, &str)> = all.iter().map(|(t, k)| (t.clone(), k.name)).collect();
    assert_eq!(names[0], ("kinds".to_owned(), "text"));
    assert_eq!(names.last().unwrap(), &("other".to_owned(), "empty"));
    assert_eq!(Kinds::KEYS[4].example, Some("an example"));
    assert!(duplicate_keys::<Demo>().is_empty());
    assert_eq!(duplicate_keys::<Outer>().len(), 6);
}
