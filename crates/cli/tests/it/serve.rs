//! `nexsuj serve`'s configuration as a process sees it: variables go to the section that owns
//! the key (`NEXSUJ_<KEY>` for the site, `NEXSUJ_TRACKER_<KEY>` for its tracker).

use std::process::Command;

fn serve_error(env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexsuj"));
    cmd.args(["serve", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn variables_reach_the_section_that_owns_the_key() {
    let err = serve_error(&[("NEXSUJ_TRACKER_MAX_NUMWANT", "lots")]);
    assert!(
        err.contains("tracker.announce.max_numwant: invalid type"),
        "{err}"
    );
    let err = serve_error(&[("NEXSUJ_PAGE_SIZE", "lots")]);
    assert!(err.contains("site.web.page_size: invalid type"), "{err}");
    let err = serve_error(&[("NEXSUJ_TRACKER_TRUSTED_PROXIES", "[\"nope\"]")]);
    assert!(err.contains("invalid CIDR \"nope\""), "{err}");
}
