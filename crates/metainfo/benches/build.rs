//! Creating a torrent: raw SHA-1 and SHA-256 speed on one core, and the builder on a 64 MiB
//! file as v1, hybrid and v2 with two hashing threads and 256 KiB pieces (bytes per second).
//!
//! Run with `cargo bench -p nexsuj-metainfo --bench build`. The file is written once to a
//! temporary folder, so after the first pass it is read from the page cache: this measures
//! hashing and the builder's own overhead, not the disk.

// A bench stops loudly on a broken setup.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use metainfo::builder::{TorrentBuilder, TorrentVersion};
use metainfo::merkle;
use sha1::{Digest, Sha1};
use testkit::{TempDir, pseudo_random};

const LEN: usize = 64 << 20;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let data = pseudo_random(1, LEN);

    let mut group = c.benchmark_group("hash");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(10);
    group.bench_function("sha1, one core", |b| b.iter(|| black_box(Sha1::digest(&data))));
    group.bench_function("sha256 blocks, one core", |b| {
        b.iter(|| black_box(merkle::block_hashes(&data)))
    });
    group.finish();

    let dir = TempDir::new("bench-build");
    let path = dir.path().join("content.bin");
    std::fs::write(&path, &data).expect("write the content");
    let mut group = c.benchmark_group("build");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(10);
    for version in [TorrentVersion::V1, TorrentVersion::Hybrid, TorrentVersion::V2] {
        let builder = TorrentBuilder::new(&path)
            .version(version)
            .threads(2)
            .piece_length(Some(256 * 1024));
        group.bench_function(format!("{version:?}, 2 threads"), |b| {
            b.iter(|| black_box(builder.build(&|_| {}).expect("build")))
        });
    }
    group.finish();
    c.final_summary();
}
