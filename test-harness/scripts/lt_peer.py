#!/usr/bin/python3
"""Seed or download one torrent with libtorrent on loopback: the reference peer of
bt-test-harness (`bt_test_harness::reference`).

    lt_peer.py --mode seed|download --torrent FILE --dir SAVE_DIR
               [--tracker URL]... [--peer HOST:PORT]... [--time-limit SECS]
               [--stats-interval MS] [--keep-seeding] [--settings JSON]

The session listens on 127.0.0.1 only and speaks plain TCP: uTP, encryption, DHT, local peer
discovery, UPnP and NAT-PMP are off, so trackers (and --peer) are the only way it meets peers.
It allows several connections from one IP, since every peer of a loopback swarm is 127.0.0.1.
--settings adds or overrides libtorrent settings (a JSON object of settings_pack names).

It prints one JSON object per line on stdout, each with an "event" key:

    listening       {"listen_port", "info_hash", RUSAGE}          once, first
    tracker_reply   {"url", "num_peers"}                          each tracker answer
    tracker_error   {"url", "message"}                            each tracker failure (retried)
    stats           {STATS}                                       every --stats-interval ms
    seeding         {STATS}                                       once the data is complete
    complete        {STATS, RUSAGE}  download: every piece verified and written to the
                                     files; exits 0 unless
                                     --keep-seeding
    stopped         {STATS, RUSAGE}  stdin closed (the harness's stop); exits 0
    error           {"message", STATS, RUSAGE}   the torrent failed; exits 2
    timeout         {STATS, RUSAGE}  --time-limit passed; exits 3

STATS are the torrent's figures: "state", "progress", "pieces", "pieces_total", "total_done",
"total_wanted", "payload_downloaded", "payload_uploaded", "download_rate", "upload_rate",
"failed_bytes", "redundant_bytes", "peers", "elapsed_s". RUSAGE is this process's
"cpu_user_s", "cpu_system_s" and "max_rss_kib" (getrusage); at `listening` it is the cost of
starting Python and libtorrent, to subtract from a later figure.
"""

import argparse
import json
import resource
import select
import sys
import time

import libtorrent as lt

EXIT_OK, EXIT_ERROR, EXIT_TIMEOUT = 0, 2, 3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["seed", "download"], required=True)
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tracker", action="append", default=[])
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--stats-interval", type=float, default=500.0)
    parser.add_argument("--keep-seeding", action="store_true")
    parser.add_argument("--settings", default="{}")
    return parser.parse_args()


def make_session(extra):
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_tcp": True,
        "enable_incoming_tcp": True,
        "out_enc_policy": 2,  # pe_disabled: plain BitTorrent handshakes
        "in_enc_policy": 1,  # pe_enabled: accept both (a bt peer never encrypts)
        "allow_multiple_connections_per_ip": True,
        "stop_tracker_timeout": 1,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification,
    }
    settings.update(extra)
    return lt.session(settings)


def emit(event, **fields):
    fields["event"] = event
    print(json.dumps(fields), flush=True)


def stats(handle, started):
    status = handle.status()
    return {
        "state": str(status.state),
        "progress": status.progress,
        "pieces": status.num_pieces,
        "pieces_total": status.torrent_file.num_pieces() if status.torrent_file else 0,
        "total_done": status.total_done,
        "total_wanted": status.total_wanted,
        "payload_downloaded": status.total_payload_download,
        "payload_uploaded": status.total_payload_upload,
        "download_rate": status.download_payload_rate,
        "upload_rate": status.upload_payload_rate,
        "failed_bytes": status.total_failed_bytes,
        "redundant_bytes": status.total_redundant_bytes,
        "peers": status.num_peers,
        "elapsed_s": time.monotonic() - started,
    }


def rusage():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_user_s": usage.ru_utime,
        "cpu_system_s": usage.ru_stime,
        "max_rss_kib": usage.ru_maxrss,
    }


def finish(event, code, handle, started, **fields):
    emit(event, **fields, **stats(handle, started), **rusage())
    return code


def stdin_closed():
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.buffer.read1(1) == b""


def add_torrent(session, args):
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.dir
    params.trackers = args.tracker
    handle = session.add_torrent(params)
    for peer in args.peer:
        host, _, port = peer.rpartition(":")
        handle.connect_peer((host, int(port)))
    return handle, str(params.ti.info_hashes().v1)


def flush(session, handle, deadline):
    """Waits until libtorrent has written every verified piece to its files: a piece can
    pass its hash check while its blocks still wait in the store buffer."""
    handle.flush_cache()
    while time.monotonic() < deadline:
        session.wait_for_alert(50)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.cache_flushed_alert):
                return True
    return False


def handle_alerts(session):
    """Reports tracker answers; returns the message of a torrent-fatal error, if any."""
    for alert in session.pop_alerts():
        if isinstance(alert, lt.tracker_reply_alert):
            emit("tracker_reply", url=alert.tracker_url(), num_peers=alert.num_peers)
        elif isinstance(alert, lt.tracker_error_alert):
            emit("tracker_error", url=alert.tracker_url(), message=alert.message())
        elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
            return alert.message()
    return None


def run(args, session, handle, started):
    deadline = started + args.time_limit
    next_stats = started
    seeding_said = False
    while time.monotonic() < deadline:
        session.wait_for_alert(50)
        message = handle_alerts(session)
        if message:
            return finish("error", EXIT_ERROR, handle, started, message=message)
        if stdin_closed():
            return finish("stopped", EXIT_OK, handle, started)
        status = handle.status()
        if status.is_seeding and not seeding_said:
            seeding_said = True
            if args.mode == "download":
                if not flush(session, handle, deadline):
                    break
                if not args.keep_seeding:
                    return finish("complete", EXIT_OK, handle, started)
                emit("complete", **stats(handle, started), **rusage())
            emit("seeding", **stats(handle, started))
        now = time.monotonic()
        if now >= next_stats:
            emit("stats", **stats(handle, started))
            next_stats = now + args.stats_interval / 1000.0
    return finish("timeout", EXIT_TIMEOUT, handle, started)


def main():
    args = parse_args()
    started = time.monotonic()
    session = make_session(json.loads(args.settings))
    handle, info_hash = add_torrent(session, args)
    emit("listening", listen_port=session.listen_port(), info_hash=info_hash, **rusage())
    return run(args, session, handle, started)


if __name__ == "__main__":
    sys.exit(main())
