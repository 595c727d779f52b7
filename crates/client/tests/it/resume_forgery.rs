//! Resume forgery (hardening item 15): one torrent must not be able to write another's resume
//! state, and resume state that does not match the files on disk is rechecked, not trusted.

use std::time::{Duration, SystemTime};

use metainfo::Torrent;
use metainfo::builder::{TorrentBuilder, TorrentVersion};
use testkit::TempDir;

use crate::common::*;

/// A resume snapshot in the format of the first release: it names the info-hash, claims every
/// piece and gives the file sizes, which sparse files always have.
fn forged_snapshot(torrent: &Torrent) -> Vec<u8> {
    let n = torrent.info.num_pieces() as usize;
    let mut pieces = vec![0xffu8; n.div_ceil(8)];
    if n % 8 != 0 {
        *pieces.last_mut().unwrap() = 0xff << (8 - n % 8);
    }
    let mut out = b"d9:info_hash".to_vec();
    bencode::write_bytes(&mut out, &torrent.info_hash_v1().unwrap().0);
    out.extend_from_slice(b"6:pieces");
    bencode::write_bytes(&mut out, &pieces);
    out.extend_from_slice(b"5:sizesl");
    for f in torrent.info.files.iter().filter(|f| !f.is_pad()) {
        bencode::write_int(&mut out, i64::try_from(f.length).unwrap());
    }
    out.extend_from_slice(b"ee");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_named_like_the_state_folder_cannot_write_into_it() {
    let victim_src = TempDir::new("forge-victim");
    let victim = make_torrent(victim_src.path(), TorrentVersion::V1, &[]);
    // The attacker's torrent is a folder `.nexsuj` holding the victim's resume file.
    let evil_src = TempDir::new("forge-evil");
    let state = evil_src.path().join(".nexsuj");
    std::fs::create_dir_all(&state).unwrap();
    let resume_name = format!("{}.resume", victim.info_hash_v1().unwrap().to_hex());
    std::fs::write(state.join(&resume_name), forged_snapshot(&victim)).unwrap();
    let bytes = TorrentBuilder::new(&state)
        .piece_length(Some(16 * 1024))
        .creation_date(None)
        .build(&|_| {})
        .unwrap();
    let evil = Torrent::from_bytes(&bytes).unwrap();

    let dst = TempDir::new("forge-dst");
    let s = session().await;
    let added = s.add(evil, opts(dst.path(), vec![])).await;
    assert!(
        added.is_err(),
        "a torrent named after the state folder is refused"
    );
    assert!(
        !dst.path().join(".nexsuj").join(&resume_name).exists(),
        "nothing was written into the state folder"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_resume_file_does_not_make_a_torrent_complete() {
    let src = TempDir::new("forge-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let dst = TempDir::new("forge-dst2");
    let state = dst.path().join(".nexsuj");
    std::fs::create_dir_all(&state).unwrap();
    let name = format!("{}.resume", torrent.info_hash_v1().unwrap().to_hex());
    std::fs::write(state.join(name), forged_snapshot(&torrent)).unwrap();

    let s = session().await;
    let h = s.add(torrent.clone(), opts(dst.path(), vec![])).await.unwrap();
    let snap = h.snapshot();
    assert!(!snap.complete, "zeros are not the content: {snap:#?}");
    assert_eq!(snap.have_pieces, 0);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_state_is_rechecked_for_a_file_modified_since_it_was_saved() {
    let src = TempDir::new("stale-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let dst = TempDir::new("stale-dst");
    let s = session().await;
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![listen(&seed_session)]))
        .await
        .unwrap();
    complete(&h).await;
    s.shutdown().await;
    seed_session.shutdown().await;

    // Another program changes a byte of c.bin, keeping its size; its modification time is set
    // to a fixed instant so the change is visible whatever the clock's granularity.
    let victim = dst.path().join("album/c.bin");
    let mut data = std::fs::read(&victim).unwrap();
    data[500_000] ^= 0xff;
    std::fs::write(&victim, &data).unwrap();
    let file = std::fs::File::options().write(true).open(&victim).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    drop(file);

    let s = session().await;
    let h = s.add(torrent.clone(), opts(dst.path(), vec![])).await.unwrap();
    let snap = h.snapshot();
    assert_eq!(
        snap.have_pieces,
        snap.num_pieces - 1,
        "the changed piece is found, the rest of the file passes its recheck"
    );
    s.shutdown().await;
}
