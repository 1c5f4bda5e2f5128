#!/usr/bin/python3
"""Announce one torrent to one tracker with libtorrent and report the tracker's answer.

Used by the bt-test-harness interop tests as a reference client:

    lt_announce.py TORRENT SAVE_DIR TRACKER_URL TIMEOUT_SECS

The session listens on 127.0.0.1 only, with DHT, local peer discovery, UPnP and NAT-PMP off, so
the tracker is the only way it learns of peers. It prints one line and exits:

    reply info_hash=<hex> listen_port=<port> num_peers=<n> url=<tracker url>    exit 0
    error info_hash=<hex> message=<text>                     exit 2
    timeout info_hash=<hex>                                  exit 3
"""

import sys
import time

import libtorrent as lt


def main():
    torrent, save_dir, tracker_url, timeout = sys.argv[1:5]
    deadline = time.monotonic() + float(timeout)
    session = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.tracker_notification
        | lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification,
    })
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save_dir
    params.trackers = [tracker_url]
    handle = session.add_torrent(params)
    info_hash = str(params.ti.info_hashes().v1)
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                print(f"reply info_hash={info_hash} listen_port={session.listen_port()} "
                      f"num_peers={alert.num_peers} url={alert.tracker_url()}", flush=True)
                return 0
            if isinstance(alert, lt.tracker_error_alert):
                print(f"error info_hash={info_hash} message={alert.message()}", flush=True)
                return 2
    del handle
    print(f"timeout info_hash={info_hash}", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
