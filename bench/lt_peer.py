"""A libtorrent peer for the transfer benchmarks: seeds (in seed_mode) until killed, or leeches from one peer and
exits when done. Loopback settings (no DHT, LSD, UPnP or NAT-PMP; TCP only unless SETTINGS says otherwise);
SETTINGS is a JSON object of libtorrent settings laid over them (enum values as numbers). LT_LISTEN and LT_PEER_HOST
(default 127.0.0.1) are the address it listens on and the one of the peer it leeches from.

    /usr/bin/python3 bench/lt_peer.py seed|leech TORRENT PATH PORT [PEER_PORT] [SETTINGS]
"""
import json
import os
import sys
import time

import libtorrent as lt

mode, torrent, path, port = sys.argv[1:5]
peer = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
listen = os.environ.get('LT_LISTEN', '127.0.0.1')
settings = {'listen_interfaces': f'{listen}:{port}', 'enable_dht': False, 'enable_lsd': False,
            'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False,
            'enable_incoming_utp': False, 'allow_multiple_connections_per_ip': True, 'alert_mask': 0}
if len(sys.argv) > 6:
    settings.update(json.loads(sys.argv[6]))
s = lt.session(settings)
p = lt.add_torrent_params()
p.ti = lt.torrent_info(torrent)
p.save_path = path
if mode == 'seed':
    p.flags |= lt.torrent_flags.seed_mode
h = s.add_torrent(p)
if mode == 'seed':
    print('ready', flush=True)
    while True:
        time.sleep(3600)
h.connect_peer((os.environ.get('LT_PEER_HOST', '127.0.0.1'), int(peer)))
while not h.status().is_seeding:
    time.sleep(0.05)
