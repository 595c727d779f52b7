//! What a peer's task does on orders from its torrent (haves, choking, PEX, cancels) and on
//! its one-second timer (snubbing, idle connections, keep-alives).

use std::time::Duration;

use wire::{BlockRequest, Message};

use super::closed::Closed;
use super::conn::Conn;
use crate::torrent::PeerCmd;

impl Conn {
    pub(super) fn command(&mut self, cmd: PeerCmd) -> Result<(), Closed> {
        match cmd {
            PeerCmd::Have(i) => {
                let (theirs, seeds) = {
                    let s = self.t.lock();
                    let e = s.peers.get(&self.key).ok_or(Closed::Unregistered)?;
                    (
                        e.pieces.get(i as usize),
                        e.pieces.is_full() && s.picker.have().is_full(),
                    )
                };
                if seeds {
                    self.flush();
                    return Err(Closed::BothSeeds);
                }
                if !theirs {
                    self.send(Message::Have(i));
                }
            }
            PeerCmd::Choke => {
                self.send(Message::Choke);
                let dropped: Vec<BlockRequest> = self
                    .pending
                    .lock()
                    .map(|mut p| p.drain().collect())
                    .unwrap_or_default();
                if self.fast {
                    for r in dropped {
                        self.send(Message::Reject(r));
                    }
                }
            }
            PeerCmd::Unchoke => self.send(Message::Unchoke),
            PeerCmd::Pex(payload) => {
                let id = self.with_entry(|e| e.pex_id).flatten();
                if let Some(id) = id {
                    self.send(Message::Extended {
                        id,
                        payload: &payload,
                    });
                }
            }
            PeerCmd::Cancel(r) => {
                if self.outstanding.remove(&r) {
                    self.send(Message::Cancel(r));
                }
            }
            PeerCmd::Refill => {
                if !self.flags().am_interested() {
                    let wanted = {
                        let s = self.t.lock();
                        s.peers
                            .get(&self.key)
                            .is_some_and(|e| s.picker.is_interesting(&e.pieces))
                    };
                    self.set_interest(wanted);
                }
            }
            PeerCmd::Close => return Err(Closed::ByTorrent),
        }
        Ok(())
    }

    pub(super) fn tick(&mut self) -> Result<(), Closed> {
        let timing = &self.t.session.config.timing;
        let snubbed = self.flags().snubbed();
        if !self.outstanding.is_empty() && !snubbed && self.last_block.elapsed() > timing.snub_timeout {
            // Snubbed: its requests go back to the picker and it loses its regular slot.
            self.flags().set_snubbed(true);
            self.release_all();
        }
        if self.last_recv.elapsed() > Duration::from_secs(180) {
            return Err(Closed::Idle);
        }
        if self.last_send.elapsed() > Duration::from_secs(90) {
            self.send(Message::KeepAlive);
        }
        Ok(())
    }
}
