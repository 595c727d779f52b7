//! Sequence numbers: 16 bits, wrapping; `a` is before `b` when `b - a` is in the lower half.

/// Whether `a` comes before `b`.
pub fn before(a: u16, b: u16) -> bool {
    a != b && b.wrapping_sub(a) < 0x8000
}

/// How far `b` is past `a` (0 when it is not).
pub fn distance(a: u16, b: u16) -> u16 {
    if before(a, b) { b.wrapping_sub(a) } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_wraps() {
        assert!(before(1, 2));
        assert!(before(65_535, 0));
        assert!(before(65_000, 100));
        assert!(!before(100, 65_000));
        assert!(!before(5, 5));
        assert_eq!(distance(65_534, 1), 3);
        assert_eq!(distance(1, 65_534), 0);
    }
}
