//! File paths inside a torrent, checked so that they stay inside the download directory.

use std::fmt;
use std::path::PathBuf;

use crate::error::PathProblem;

/// Most components a file path may have; deeper is refused as hostile.
pub const MAX_PATH_DEPTH: usize = 64;

/// A relative file path made of checked components: never absolute, never `.`/`..`, no
/// separators or NUL inside a component. Names that only Windows forbids (`aux`, `con`) are
/// legal here and kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilePath(Vec<String>);

impl FilePath {
    /// Checks every component.
    pub fn new(components: Vec<String>) -> Result<Self, PathProblem> {
        if components.is_empty() {
            return Err(PathProblem::Empty);
        }
        if components.len() > MAX_PATH_DEPTH {
            return Err(PathProblem::TooDeep);
        }
        for c in &components {
            check_component(c.as_bytes())?;
        }
        Ok(Self(components))
    }

    /// Checks raw components (which must also be UTF-8).
    pub fn from_bytes(components: &[&[u8]]) -> Result<Self, PathProblem> {
        let mut out = Vec::with_capacity(components.len());
        for c in components {
            check_component(c)?;
            out.push(
                std::str::from_utf8(c)
                    .map_err(|_| PathProblem::NotUtf8)?
                    .to_owned(),
            );
        }
        Self::new(out)
    }

    /// The components.
    pub fn components(&self) -> &[String] {
        &self.0
    }

    /// The path relative to a download directory, for the local file system.
    pub fn to_path_buf(&self) -> PathBuf {
        self.0.iter().collect()
    }
}

impl fmt::Display for FilePath {
    /// Components joined with `/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// The rules for one component (also applied to a torrent's `name`).
pub fn check_component(c: &[u8]) -> Result<(), PathProblem> {
    if c.is_empty() {
        return Err(PathProblem::EmptyComponent);
    }
    if c == b"." || c == b".." {
        return Err(PathProblem::DotComponent);
    }
    if c.contains(&0) {
        return Err(PathProblem::Nul);
    }
    if c.iter().any(|&b| b == b'/' || b == b'\\') {
        return Err(PathProblem::Separator);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Result<FilePath, PathProblem> {
        FilePath::new(parts.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn hostile_paths_are_refused() {
        assert_eq!(p(&[]), Err(PathProblem::Empty));
        assert_eq!(p(&["a", ""]), Err(PathProblem::EmptyComponent));
        assert_eq!(p(&["..", "etc", "passwd"]), Err(PathProblem::DotComponent));
        assert_eq!(p(&["a", "."]), Err(PathProblem::DotComponent));
        assert_eq!(p(&["/etc/passwd"]), Err(PathProblem::Separator));
        assert_eq!(p(&["a/../../b"]), Err(PathProblem::Separator));
        assert_eq!(p(&["C:\\Windows"]), Err(PathProblem::Separator));
        assert_eq!(p(&["a\0b"]), Err(PathProblem::Nul));
        assert_eq!(FilePath::from_bytes(&[b"\xff"]), Err(PathProblem::NotUtf8));
        assert_eq!(p(&vec!["d"; MAX_PATH_DEPTH + 1]), Err(PathProblem::TooDeep));
    }

    #[test]
    fn ordinary_and_windows_reserved_names_are_kept() {
        let ok = p(&["aux", "con.txt", "...", "..a", "名前 with spaces"]).unwrap();
        assert_eq!(ok.to_string(), "aux/con.txt/.../..a/名前 with spaces");
        assert_eq!(
            ok.to_path_buf(),
            PathBuf::from("aux/con.txt/.../..a/名前 with spaces")
        );
    }
}
