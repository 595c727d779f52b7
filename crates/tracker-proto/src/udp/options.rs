//! BEP 41 options, which follow the 98-byte announce request.
//!
//! Types 0 (EndOfOptions) and 1 (NOP) are a single byte; every other type is followed by a
//! length byte and that many data bytes, so a parser can skip types it does not know. Type 2
//! (URLData) carries a chunk of the tracker URL's path and query; the chunks concatenate.

use super::{ANNOUNCE_LEN, MAX_URL_DATA, RequestErrorKind};

/// BEP 41 EndOfOptions.
const END_OF_OPTIONS: u8 = 0x00;
/// BEP 41 NOP.
const NOP: u8 = 0x01;
/// BEP 41 URLData.
const URL_DATA: u8 = 0x02;

/// Parses the options after an announce's fixed part (`options` starts at byte
/// [`ANNOUNCE_LEN`] of the datagram). Returns the concatenated URL data, `None` if no URLData
/// option was present (an empty one gives `Some(vec![])`: the client supports BEP 41 but its
/// URL had no path).
///
/// Parsing stops at EndOfOptions or at the end of the datagram. Unknown option types are
/// skipped by their length byte, as BEP 41 requires of parsers.
pub(super) fn parse(options: &[u8]) -> Result<Option<Vec<u8>>, RequestErrorKind> {
    let mut url: Option<Vec<u8>> = None;
    let mut pos = 0;
    while let Some(&option) = options.get(pos) {
        match option {
            END_OF_OPTIONS => break,
            NOP => pos += 1,
            _ => {
                let data = options
                    .get(pos + 1)
                    .and_then(|&len| options.get(pos + 2..pos + 2 + usize::from(len)));
                let Some(data) = data else {
                    return Err(RequestErrorKind::TruncatedOption {
                        option,
                        offset: ANNOUNCE_LEN + pos,
                    });
                };
                if option == URL_DATA {
                    let url = url.get_or_insert_with(Vec::new);
                    if url.len() + data.len() > MAX_URL_DATA {
                        return Err(RequestErrorKind::url_data_too_long());
                    }
                    url.extend_from_slice(data);
                }
                pos += 2 + data.len();
            }
        }
    }
    Ok(url)
}

/// Appends `url` as URLData options of at most 255 bytes each (one empty option if `url` is
/// empty), with no EndOfOptions: the datagram's end ends the options.
pub(super) fn write_url_data(url: &[u8], out: &mut Vec<u8>) {
    if url.is_empty() {
        out.extend_from_slice(&[URL_DATA, 0]);
        return;
    }
    out.reserve(url.len() + 2 * url.len().div_ceil(255));
    for chunk in url.chunks(255) {
        // `chunks(255)` never yields more than 255 bytes.
        let len = u8::try_from(chunk.len()).unwrap_or(u8::MAX);
        out.push(URL_DATA);
        out.push(len);
        out.extend_from_slice(chunk);
    }
}
