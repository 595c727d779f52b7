//! Uploading a torrent: the per-user limit, the form's rules (category, title, description,
//! labels), the strict parse and rewrite of the file ([`prepare_upload`]), the duplicate
//! check, the catalogue row and the tracker's torrent cache.

use crate::auth::ratelimit::RateLimit;
use crate::db::{Db, is_unique_violation, torrents};
use crate::error::SiteError;
use crate::policy::{SitePolicy, TorrentEntry, parse_info_hash};
use crate::torrent_file::prepare_upload;

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION: usize = 64 << 10;
/// Most labels, and the longest label in characters.
pub const MAX_LABELS: (usize, usize) = (10, 32);
/// The category of an upload that names none.
pub const DEFAULT_CATEGORY: &str = "other";

/// An upload as the client sent it (the text fields trimmed, except the description).
#[derive(Debug, Clone, Default)]
pub struct UploadRequest {
    /// The `.torrent` file.
    pub torrent: Option<Vec<u8>>,
    /// The title; empty for the torrent's own name.
    pub title: String,
    /// The category (the form's `type`); empty for [`DEFAULT_CATEGORY`].
    pub category: String,
    /// Labels separated by commas.
    pub labels: String,
    /// The description, as sent.
    pub description: String,
}

/// A torrent now in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Its catalogue id.
    pub id: i64,
    /// Its info-hash (of the rewritten `info`), in hex.
    pub info_hash: String,
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The uploader used up the uploads of the hour.
    #[error("too many uploads; wait a while")]
    TooMany,
    /// No file was sent.
    #[error("torrent is required")]
    MissingTorrent,
    /// The category is not one the site offers.
    #[error("type must be one of: {}", offered.join(", "))]
    UnknownCategory {
        /// The categories the site offers.
        offered: Vec<String>,
    },
    /// The title is longer than [`MAX_TITLE`].
    #[error("title must have at most {MAX_TITLE} characters")]
    TitleTooLong,
    /// The description is longer than [`MAX_DESCRIPTION`].
    #[error("description is longer than 64 KiB")]
    DescriptionTooLong,
    /// More labels, or longer ones, than [`MAX_LABELS`] allows.
    #[error("at most {} labels of at most {} characters", MAX_LABELS.0, MAX_LABELS.1)]
    BadLabels,
    /// The file is not a torrent the site accepts.
    #[error("{reason}")]
    InvalidTorrent {
        /// Why, for the user.
        reason: String,
    },
    /// The torrent (its rewritten info-hash) is already in the catalogue.
    #[error("this torrent is already here")]
    Duplicate {
        /// The catalogue id of the one already here.
        id: i64,
    },
    /// The site failed.
    #[error(transparent)]
    Internal(#[from] SiteError),
}

/// The fields of an upload once its rules hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    /// The `.torrent` file.
    pub torrent: Vec<u8>,
    /// The title; empty for the torrent's own name.
    pub title: String,
    /// The category, lowercased.
    pub category: String,
    /// Labels lowercased, without repeats, joined by commas.
    pub labels: String,
    /// The description.
    pub description: String,
}

impl UploadRequest {
    /// Checks the form's rules against the site's `categories`, in the order a user is told
    /// about them: file, category, title, description, labels.
    pub fn check(self, categories: &[String]) -> Result<CheckedUpload, UploadError> {
        let torrent = self.torrent.ok_or(UploadError::MissingTorrent)?;
        let category = if self.category.is_empty() {
            DEFAULT_CATEGORY.to_owned()
        } else {
            self.category.to_lowercase()
        };
        if !categories.iter().any(|c| c.eq_ignore_ascii_case(&category)) {
            return Err(UploadError::UnknownCategory {
                offered: categories.to_vec(),
            });
        }
        if self.title.chars().count() > MAX_TITLE {
            return Err(UploadError::TitleTooLong);
        }
        if self.description.len() > MAX_DESCRIPTION {
            return Err(UploadError::DescriptionTooLong);
        }
        Ok(CheckedUpload {
            torrent,
            title: self.title,
            category,
            labels: clean_labels(&self.labels)?,
            description: self.description,
        })
    }
}

/// Labels lowercased and trimmed, empty ones dropped, each kept once in its first place.
pub fn clean_labels(raw: &str) -> Result<String, UploadError> {
    let labels: Vec<String> = raw
        .split(',')
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.len() > MAX_LABELS.0 || labels.iter().any(|l| l.chars().count() > MAX_LABELS.1) {
        return Err(UploadError::BadLabels);
    }
    let mut unique = Vec::new();
    for l in labels {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    Ok(unique.join(","))
}

/// The upload service: what an upload touches and the site's rules for it.
#[derive(Debug, Clone, Copy)]
pub struct Uploads<'a> {
    /// The catalogue.
    pub db: &'a Db,
    /// The tracker's torrent cache, told of each new torrent.
    pub policy: &'a SitePolicy,
    /// Uploads per user.
    pub per_user: &'a RateLimit,
    /// The categories offered.
    pub categories: &'a [String],
    /// The site's name, written as `info.source` (so the info-hash is the site's own).
    pub source: &'a str,
}

impl Uploads<'_> {
    /// Checks and stores `request` from user `uploader`; the tracker knows the torrent when
    /// this returns.
    pub async fn upload(&self, uploader: i64, request: UploadRequest) -> Result<Uploaded, UploadError> {
        if !self.per_user.hit(&uploader.to_string()) {
            return Err(UploadError::TooMany);
        }
        let form = request.check(self.categories)?;
        let source = self.source.to_owned();
        let bytes = form.torrent;
        // Parsing and hashing a file of up to `max_torrent_bytes` is CPU work: off the runtime.
        let prepared = tokio::task::spawn_blocking(move || prepare_upload(&bytes, &source))
            .await
            .map_err(|e| SiteError::Task(e.to_string()))?
            .map_err(|e| UploadError::InvalidTorrent { reason: e.message })?;
        if let Some(id) = torrents::id_by_hash(self.db, &prepared.info_hash).await? {
            return Err(UploadError::Duplicate { id });
        }
        let title = if form.title.is_empty() {
            prepared.name.clone()
        } else {
            form.title
        };
        let files_json = serde_json::to_string(&prepared.files).unwrap_or_else(|_| "[]".into());
        let new = torrents::NewTorrent {
            info_hash: &prepared.info_hash,
            info: &prepared.info,
            name: &prepared.name,
            title: &title,
            category: &form.category,
            labels: &form.labels,
            description: &form.description,
            size: prepared.size,
            files_json: &files_json,
            file_count: prepared.files.len(),
            uploader_id: uploader,
        };
        let id = match torrents::insert(self.db, &new).await {
            Ok(id) => id,
            // The same torrent, uploaded at the same moment by someone else.
            Err(SiteError::Database(e)) if is_unique_violation(&e) => {
                let id = torrents::id_by_hash(self.db, &prepared.info_hash)
                    .await?
                    .unwrap_or(0);
                return Err(UploadError::Duplicate { id });
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(h) = parse_info_hash(&prepared.info_hash) {
            let entry = TorrentEntry {
                id,
                freeleech: false,
                double_upload: false,
            };
            self.policy.set_torrent(h, entry);
        }
        tracing::info!(torrent = id, uploader, size = prepared.size, "torrent uploaded");
        Ok(Uploaded {
            id,
            info_hash: prepared.info_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;
    use crate::domain::testing;

    const TORRENT: &[u8] =
        b"d4:infod6:lengthi3e4:name5:a.txt12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";

    fn categories() -> Vec<String> {
        vec!["movies".into(), "other".into()]
    }

    fn request() -> UploadRequest {
        UploadRequest {
            torrent: Some(TORRENT.to_vec()),
            ..UploadRequest::default()
        }
    }

    #[test]
    fn the_form_rules_hold_in_order() {
        let c = categories();
        let missing = UploadRequest::default().check(&c);
        assert!(matches!(missing, Err(UploadError::MissingTorrent)));
        let wrong = UploadRequest {
            category: "books".into(),
            title: "t".repeat(MAX_TITLE + 1),
            ..request()
        };
        let e = wrong.check(&c).unwrap_err();
        assert_eq!(e.to_string(), "type must be one of: movies, other");
        let long = UploadRequest {
            title: "é".repeat(MAX_TITLE),
            description: "d".repeat(MAX_DESCRIPTION + 1),
            ..request()
        };
        assert!(matches!(long.check(&c), Err(UploadError::DescriptionTooLong)));
        let ok = UploadRequest {
            category: "MOVIES".into(),
            labels: " HD, ,hd,x264 ".into(),
            ..request()
        };
        let ok = ok.check(&c).unwrap();
        assert_eq!((ok.category.as_str(), ok.labels.as_str()), ("movies", "hd,x264"));
        assert_eq!(request().check(&c).unwrap().category, DEFAULT_CATEGORY);
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(clean_labels("").unwrap(), "");
        let eleven = vec!["l"; MAX_LABELS.0 + 1].join(",");
        // Repeats count before they are merged: eleven labels are too many even if equal.
        assert!(matches!(clean_labels(&eleven), Err(UploadError::BadLabels)));
        assert!(matches!(
            clean_labels(&"x".repeat(MAX_LABELS.1 + 1)),
            Err(UploadError::BadLabels)
        ));
    }

    #[tokio::test]
    async fn an_upload_is_stored_once_and_the_tracker_knows_it() {
        let (_dir, db) = testing::sqlite().await;
        let uploader = testing::user(&db, "alice", &"a".repeat(32)).await;
        let policy = SitePolicy::new();
        let per_user = RateLimit::new(2, Duration::from_secs(3600));
        let c = categories();
        let uploads = Uploads {
            db: &db,
            policy: &policy,
            per_user: &per_user,
            categories: &c,
            source: "nexsuj",
        };
        let up = uploads.upload(uploader.id, request()).await.unwrap();
        let hash = parse_info_hash(&up.info_hash).unwrap();
        assert_eq!(policy.torrent(&hash).map(|t| t.id), Some(up.id));
        let row = torrents::by_id(&db, up.id).await.unwrap().unwrap();
        assert_eq!((row.title.as_str(), row.category.as_str()), ("a.txt", "other"));
        let again = uploads.upload(uploader.id, request()).await.unwrap_err();
        assert!(matches!(again, UploadError::Duplicate { id } if id == up.id));
        // Two uploads an hour: the third is refused before its file is looked at.
        let third = uploads.upload(uploader.id, UploadRequest::default()).await;
        assert!(matches!(third, Err(UploadError::TooMany)));
        let bad = Uploads {
            per_user: &RateLimit::new(5, Duration::from_secs(3600)),
            ..uploads
        };
        let garbage = UploadRequest {
            torrent: Some(b"not bencode".to_vec()),
            ..UploadRequest::default()
        };
        let e = bad.upload(uploader.id, garbage).await.unwrap_err();
        assert!(e.to_string().starts_with("not a valid torrent file"), "{e}");
        db.close().await;
    }
}
