//! Low-level writers shared by [`Value::encode_into`](crate::Value::encode_into) and the serde serializer.

/// Appends `i<n>e`.
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    out.push(b'i');
    write_decimal_i64(out, n);
    out.push(b'e');
}

/// Appends `<len>:<bytes>`.
pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_decimal_u64(out, b.len() as u64);
    out.push(b':');
    out.extend_from_slice(b);
}

fn write_decimal_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_decimal_u64(out, n.unsigned_abs());
}

fn write_decimal_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings() {
        let mut out = Vec::new();
        write_int(&mut out, 0);
        write_int(&mut out, -42);
        write_int(&mut out, i64::MIN);
        write_bytes(&mut out, b"spam");
        write_bytes(&mut out, b"");
        assert_eq!(out, b"i0ei-42ei-9223372036854775808e4:spam0:".to_vec());
    }
}
