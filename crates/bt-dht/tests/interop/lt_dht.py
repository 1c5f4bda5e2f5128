#!/usr/bin/python3
"""A python3-libtorrent DHT node on loopback: the reference node of bt-dht's interop tests.

    lt_dht.py announce  BOOTSTRAP INFO_HASH SAVE_DIR TIMEOUT_SECS
    lt_dht.py get_peers BOOTSTRAP INFO_HASH PORT TIMEOUT_SECS

BOOTSTRAP is host:port of the only node it knows (a bt-dht node). The session listens on
127.0.0.1 only; local peer discovery, UPnP and NAT-PMP are off, and the DHT's IP restrictions
(one node per IP, the "dark internet" filter) are off, since every node of a loopback network
is 127.0.0.1. So the DHT is the only way it meets anyone. (An announce goes through a torrent
because session.dht_announce is unusable from Python in libtorrent 2.0.8: its flags type has no
converter, fixed upstream in arvidn/libtorrent#7443.) libtorrent announces with implied_port, so
the announced peer is 127.0.0.1 and its DHT port. With LT_DHT_LOG set, every DHT packet is
logged to stderr. It prints one line per step:

    node port=<udp port>                 the DHT runs on this port (its uTP socket)
    bootstrapped                         libtorrent's bootstrap lookup finished
    announced                            announce: the torrent INFO_HASH (added like a magnet
                                         link, no tracker, saving to SAVE_DIR) was announced to
                                         the DHT; again every 2 s until stdin closes  exit 0
    found peers=<ip:port,...>            get_peers: a reply held 127.0.0.1:PORT      exit 0
    timeout                              TIMEOUT_SECS passed                          exit 3
"""

import os
import select
import sys
import time

import libtorrent as lt


def make_session(bootstrap):
    return lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": True,
        "dht_bootstrap_nodes": bootstrap,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False,
        "alert_mask": lt.alert.category_t.dht_notification
        | lt.alert.category_t.dht_operation_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.dht_log_notification,
    })


def add_magnet(session, info_hash, save_dir):
    params = lt.add_torrent_params()
    params.info_hashes = lt.info_hash_t(info_hash)
    params.save_path = save_dir
    return session.add_torrent(params)


def stdin_closed():
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.read(1) == ""


def main():
    mode, bootstrap, info_hash, arg, timeout = sys.argv[1:6]
    log = bool(os.environ.get("LT_DHT_LOG"))
    target = lt.sha1_hash(bytes.fromhex(info_hash))
    deadline = time.monotonic() + float(timeout)
    session = make_session(bootstrap)
    handle = add_magnet(session, target, arg) if mode == "announce" else None
    wanted = None if mode == "announce" else ("127.0.0.1", int(arg))
    bootstrapped = False
    last_action = 0.0
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if log and isinstance(alert, (lt.dht_pkt_alert, lt.dht_log_alert)):
                print(alert.message(), file=sys.stderr, flush=True)
            if isinstance(alert, lt.listen_succeeded_alert) and alert.socket_type == lt.socket_type_t.utp:
                print(f"node port={alert.port}", flush=True)
            if isinstance(alert, lt.dht_bootstrap_alert) and not bootstrapped:
                bootstrapped = True
                print("bootstrapped", flush=True)
            if isinstance(alert, lt.dht_get_peers_reply_alert):
                peers = [(str(ip), int(port)) for ip, port in alert.peers()]
                if wanted in peers:
                    listed = ",".join(f"{ip}:{p}" for ip, p in peers)
                    print(f"found peers={listed}", flush=True)
                    return 0
        if mode == "announce" and stdin_closed():
            return 0
        now = time.monotonic()
        if bootstrapped and now - last_action >= 2.0:
            last_action = now
            if mode == "announce":
                handle.force_dht_announce()
                print("announced", flush=True)
            else:
                session.dht_get_peers(target)
    print("timeout", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
