#!/usr/bin/python3
"""Seed or download one torrent with libtorrent on loopback: the reference peer of the interop
tests.

    lt_peer.py seed     TORRENT SAVE_DIR TRACKER_URL TIMEOUT_SECS
    lt_peer.py download TORRENT SAVE_DIR TRACKER_URL TIMEOUT_SECS

The session listens on 127.0.0.1 only, speaks plain TCP (no uTP, no encryption), has DHT,
local peer discovery, UPnP and NAT-PMP off, and allows several connections from one IP (every
peer of a loopback swarm is 127.0.0.1), so the tracker is the only way it learns of peers.
It prints one line per step on stdout and exits:

    seeding listen_port=<port>         seed: the data checked out; serving until stdin closes
    stopped uploaded=<bytes>           seed: stdin closed                       exit 0
    complete downloaded=<bytes>        download: every piece verified            exit 0
    error message=<text>               the torrent failed                        exit 2
    timeout progress=<0..1> peers=<n>  TIMEOUT_SECS passed                       exit 3
"""

import select
import sys
import time

import libtorrent as lt


def make_session():
    return lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "out_enc_policy": 2,  # pe_disabled: plain BitTorrent handshakes
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification,
    })


def add(session, torrent, save_dir, tracker_url):
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save_dir
    params.trackers = [tracker_url]
    return session.add_torrent(params)


def failed(session):
    for alert in session.pop_alerts():
        if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
            return alert.message()
    return None


def stdin_closed():
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.read(1) == ""


def main():
    mode, torrent, save_dir, tracker_url, timeout = sys.argv[1:6]
    deadline = time.monotonic() + float(timeout)
    session = make_session()
    handle = add(session, torrent, save_dir, tracker_url)
    announced = False
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        message = failed(session)
        if message:
            print(f"error message={message}", flush=True)
            return 2
        status = handle.status()
        if mode == "download" and status.is_seeding:
            print(f"complete downloaded={status.total_payload_download}", flush=True)
            return 0
        if mode == "seed" and status.is_seeding and not announced:
            print(f"seeding listen_port={session.listen_port()}", flush=True)
            announced = True
        if mode == "seed" and announced and stdin_closed():
            print(f"stopped uploaded={status.total_payload_upload}", flush=True)
            return 0
    status = handle.status()
    print(f"timeout progress={status.progress:.3f} peers={status.num_peers}", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
