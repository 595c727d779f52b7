//! `piece layers` (BEP 52): for every file larger than one piece, the SHA-256 of each piece,
//! checked against the file's `pieces root`.

use std::collections::BTreeMap;

use crate::error::{MetainfoError, invalid, missing};
use crate::info::Info;
use crate::merkle;
use crate::read::DictReader;

pub(crate) fn parse(
    r: &DictReader<'_, '_>,
    info: &Info,
) -> Result<BTreeMap<[u8; 32], Vec<[u8; 32]>>, MetainfoError> {
    let mut out = BTreeMap::new();
    if !info.version.has_v2() {
        return Ok(out);
    }
    let layers = r.opt_dict("piece layers")?;
    let pl = info.piece_length;
    for f in info.files.iter().filter(|f| f.length > pl) {
        let Some(root) = f.pieces_root else { continue };
        if out.contains_key(&root) {
            continue; // identical files share one layer
        }
        let key = format!("piece layers[{}]", ids::hex::encode(&root));
        let layers = layers.as_ref().ok_or_else(|| missing("piece layers"))?;
        let bytes = layers
            .dict
            .get(&root)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| missing(key.clone()))?;
        let expected = f.length.div_ceil(pl);
        if bytes.len() as u64 != expected * 32 {
            let reason = format!("{} bytes for {} pieces of {}", bytes.len(), expected, f.path);
            return Err(invalid(key, reason));
        }
        let layer: Vec<[u8; 32]> = bytes
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect();
        if merkle::root_from_piece_layer(&layer, pl) != root {
            return Err(invalid(
                key,
                format!("does not hash to the pieces root of {}", f.path),
            ));
        }
        out.insert(root, layer);
    }
    Ok(out)
}
