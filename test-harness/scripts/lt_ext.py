#!/usr/bin/python3
"""python3-libtorrent as the reference peer of the extension-protocol interop tests
(BEP 6, 9, 10, 11).

    lt_ext.py seed   TORRENT SAVE_DIR TRACKER_URL UPLOAD_LIMIT TIMEOUT_SECS
    lt_ext.py magnet MAGNET_URI SAVE_DIR TIMEOUT_SECS

seed: checks the data in SAVE_DIR and serves it, announcing to TRACKER_URL, until stdin
closes. UPLOAD_LIMIT caps its uploads to loopback peers in bytes per second (0: no cap); a
test that looks at a connection while it lasts (the peers' client names) sets one, any other
leaves it at 0, or every download from this seeder crawls at that rate. magnet: downloads
from a magnet link (its tr= trackers and x.pe= peers), which fetches the metadata over BEP 9
first.

The session listens on 127.0.0.1 only, speaks plain TCP (no uTP, no encryption), has DHT,
local peer discovery, UPnP and NAT-PMP off, and allows several connections from one IP. It
prints one line per step on stdout and exits:

    seeding listen_port=<port> upload_limit=<bytes/s>
                                             seed: the data checked out; serving (the
                                             limit as libtorrent holds it, 0: none)
    stopped uploaded=<bytes> clients=<list>  seed: stdin closed (the peers' client names)  exit 0
    metadata name=<name> size=<bytes>        magnet: the metadata arrived and checked out
    complete downloaded=<bytes>              magnet: every piece verified                  exit 0
    error message=<text>                     the torrent failed                            exit 2
    timeout progress=<0..1> peers=<n>        TIMEOUT_SECS passed                           exit 3
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


def failed(session):
    for alert in session.pop_alerts():
        if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
            return alert.message()
    return None


def stdin_closed():
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.read(1) == ""


def seed(session, args, deadline):
    torrent, save_dir, tracker_url, upload_limit = args
    # Loopback peers are in the local peer class, which the global limits do not touch.
    local = session.get_peer_class(session.local_peer_class_id)
    local["upload_limit"] = int(upload_limit)
    session.set_peer_class(session.local_peer_class_id, local)
    upload_limit = session.get_peer_class(session.local_peer_class_id)["upload_limit"]
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save_dir
    params.trackers = [tracker_url]
    handle = session.add_torrent(params)
    announced = False
    clients = set()
    while time.monotonic() < deadline:
        session.wait_for_alert(20)
        message = failed(session)
        if message:
            print(f"error message={message}", flush=True)
            return 2
        for peer in handle.get_peer_info():
            if peer.client:
                clients.add(peer.client.decode("utf-8", "replace")
                            if isinstance(peer.client, bytes) else peer.client)
        status = handle.status()
        if status.is_seeding and not announced:
            print(f"seeding listen_port={session.listen_port()} upload_limit={upload_limit}",
                  flush=True)
            announced = True
        if announced and stdin_closed():
            names = ",".join(sorted(c.replace(" ", "_") for c in clients))
            print(f"stopped uploaded={status.total_payload_upload} clients={names}", flush=True)
            return 0
    return timed_out(handle)


def magnet(session, args, deadline):
    uri, save_dir = args
    params = lt.parse_magnet_uri(uri)
    params.save_path = save_dir
    handle = session.add_torrent(params)
    told = False
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        message = failed(session)
        if message:
            print(f"error message={message}", flush=True)
            return 2
        status = handle.status()
        if status.has_metadata and not told:
            info = handle.torrent_file()
            print(f"metadata name={info.name()} size={info.metadata_size()}", flush=True)
            told = True
        if status.is_seeding:
            print(f"complete downloaded={status.total_payload_download}", flush=True)
            return 0
    return timed_out(handle)


def timed_out(handle):
    status = handle.status()
    print(f"timeout progress={status.progress:.3f} peers={status.num_peers}", flush=True)
    return 3


def main():
    mode = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[-1])
    session = make_session()
    if mode == "seed":
        return seed(session, sys.argv[2:6], deadline)
    if mode == "magnet":
        return magnet(session, sys.argv[2:4], deadline)
    print(f"error message=unknown mode {mode}", flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
