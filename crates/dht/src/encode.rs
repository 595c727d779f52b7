//! Writing KRPC messages: bencode with sorted keys, by hand (a message is a handful of keys,
//! and a node writes thousands a second).

use bencode::{write_bytes, write_int};

use crate::krpc::{Body, CompactNode, Message, Method, Response, write_compact_addr};

fn key(out: &mut Vec<u8>, k: &str) {
    write_bytes(out, k.as_bytes());
}

fn compact_nodes(nodes: &[CompactNode]) -> Vec<u8> {
    let mut b = Vec::with_capacity(nodes.len() * 38);
    for n in nodes {
        b.extend_from_slice(&n.id.0);
        write_compact_addr(&mut b, &n.addr);
    }
    b
}

fn query_args(out: &mut Vec<u8>, q: &crate::krpc::Query) {
    out.push(b'd');
    key(out, "id");
    write_bytes(out, &q.id.0);
    if let Method::AnnouncePeer { implied_port, .. } = &q.method
        && *implied_port
    {
        key(out, "implied_port");
        write_int(out, 1);
    }
    match &q.method {
        Method::GetPeers { info_hash } | Method::AnnouncePeer { info_hash, .. } => {
            key(out, "info_hash");
            write_bytes(out, &info_hash.0);
        }
        _ => {}
    }
    if let Method::AnnouncePeer { port, .. } = &q.method {
        key(out, "port");
        write_int(out, i64::from(*port));
    }
    match &q.method {
        Method::FindNode { target } | Method::SampleInfohashes { target } => {
            key(out, "target");
            write_bytes(out, &target.0);
        }
        _ => {}
    }
    if let Method::AnnouncePeer { token, .. } = &q.method {
        key(out, "token");
        write_bytes(out, token);
    }
    if q.want.v4 || q.want.v6 {
        key(out, "want");
        out.push(b'l');
        if q.want.v4 {
            write_bytes(out, b"n4");
        }
        if q.want.v6 {
            write_bytes(out, b"n6");
        }
        out.push(b'e');
    }
    out.push(b'e');
}

fn response(out: &mut Vec<u8>, r: &Response) {
    out.push(b'd');
    key(out, "id");
    write_bytes(out, &r.id.0);
    if let Some(i) = r.interval {
        key(out, "interval");
        write_int(out, i);
    }
    if !r.nodes.is_empty() {
        key(out, "nodes");
        write_bytes(out, &compact_nodes(&r.nodes));
    }
    if !r.nodes6.is_empty() {
        key(out, "nodes6");
        write_bytes(out, &compact_nodes(&r.nodes6));
    }
    if let Some(n) = r.num {
        key(out, "num");
        write_int(out, n);
    }
    if !r.samples.is_empty() {
        key(out, "samples");
        let flat: Vec<u8> = r.samples.iter().flat_map(|h| h.0).collect();
        write_bytes(out, &flat);
    }
    if let Some(t) = &r.token {
        key(out, "token");
        write_bytes(out, t);
    }
    if !r.values.is_empty() {
        key(out, "values");
        out.push(b'l');
        for v in &r.values {
            let mut b = Vec::with_capacity(18);
            write_compact_addr(&mut b, v);
            write_bytes(out, &b);
        }
        out.push(b'e');
    }
    out.push(b'e');
}

impl Message {
    /// The packet.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(b'd');
        match &self.body {
            Body::Query(q) => {
                key(&mut out, "a");
                query_args(&mut out, q);
            }
            Body::Error(code, msg) => {
                key(&mut out, "e");
                out.push(b'l');
                write_int(&mut out, *code);
                write_bytes(&mut out, msg.as_bytes());
                out.push(b'e');
            }
            Body::Response(_) => {}
        }
        if let Some(ip) = &self.ip {
            key(&mut out, "ip");
            let mut b = Vec::with_capacity(18);
            write_compact_addr(&mut b, ip);
            write_bytes(&mut out, &b);
        }
        if let Body::Query(q) = &self.body {
            key(&mut out, "q");
            write_bytes(&mut out, q.method.name().as_bytes());
        }
        if let Body::Response(r) = &self.body {
            key(&mut out, "r");
            response(&mut out, r);
        }
        if self.read_only {
            key(&mut out, "ro");
            write_int(&mut out, 1);
        }
        key(&mut out, "t");
        write_bytes(&mut out, &self.tid);
        if let Some(v) = &self.version {
            key(&mut out, "v");
            write_bytes(&mut out, v);
        }
        key(&mut out, "y");
        write_bytes(
            &mut out,
            match self.body {
                Body::Query(_) => b"q",
                Body::Response(_) => b"r",
                Body::Error(..) => b"e",
            },
        );
        out.push(b'e');
        out
    }
}
