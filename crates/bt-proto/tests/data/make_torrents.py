#!/usr/bin/python3
"""Builds the sample .torrent files of tests/data (and examples/data/sample.torrent).

Run through regenerate.sh, which passes the output directories. Uses Debian's
python3-libtorrent (2.0.x) for the libtorrent files and for HASHES.txt; the mktorrent files are
made by regenerate.sh before this runs. Payloads are generated deterministically in a temporary
directory and not kept: only the small .torrent files are committed.
"""

import hashlib
import os
import sys
import tempfile

import libtorrent as lt

PIECE = 16384  # libtorrent's smallest piece size
FIXED_DATE = 1700000000  # so the files do not change on every run


def payload(length, seed):
    """Deterministic bytes: a SHA-1 counter stream."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha1(b"%d-%d" % (seed, counter)).digest()
        counter += 1
    return bytes(out[:length])


def write_tree(root, files):
    """Writes {relative path: length} below root."""
    for seed, (rel, length) in enumerate(sorted(files.items())):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(payload(length, seed))


def lt_torrent(source, out, trackers=(), private=False, comment=None):
    """A v1-only torrent of `source` (a file or directory) made by libtorrent."""
    fs = lt.file_storage()
    lt.add_files(fs, source)
    t = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    for tier, urls in enumerate(trackers):
        for url in urls:
            t.add_tracker(url, tier)
    t.set_priv(private)
    if comment:
        t.set_comment(comment)
    t.set_creator("libtorrent " + lt.__version__)
    lt.set_piece_hashes(t, os.path.dirname(source))
    entry = t.generate()
    entry[b"creation date"] = FIXED_DATE
    with open(out, "wb") as f:
        f.write(lt.bencode(entry))


def bstr(b):
    return b"%d:%s" % (len(b), b)


def handcrafted(out):
    """Info keys deliberately out of canonical order, plus an unknown key; top level too."""
    data = payload(40000, 99)
    pieces = b"".join(hashlib.sha1(data[i:i + PIECE]).digest() for i in range(0, len(data), PIECE))
    info = (b"d" + bstr(b"pieces") + bstr(pieces) + bstr(b"name") + bstr(b"unordered.bin")
            + bstr(b"x-unknown") + b"l" + bstr(b"kept") + b"i42ee"
            + bstr(b"piece length") + b"i%de" % PIECE + bstr(b"length") + b"i%de" % len(data)
            + b"e")
    torrent = (b"d" + bstr(b"info") + info + bstr(b"announce")
               + bstr(b"http://127.0.0.1:6969/announce") + bstr(b"comment")
               + bstr(b"keys out of order on purpose") + b"e")
    with open(out, "wb") as f:
        f.write(torrent)


def main():
    data_dir, examples_dir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        single = os.path.join(tmp, "lt-single.bin")
        write_tree(tmp, {"lt-single.bin": 50001})
        multi = os.path.join(tmp, "lt-multi")
        write_tree(multi, {"a.txt": 1000, "sub/b.bin": 20000, "sub/deeper/c.dat": 12345,
                           "sub/empty": 0, "z": 1})
        out = lambda name: os.path.join(data_dir, name)
        lt_torrent(single, out("libtorrent-single.torrent"),
                   trackers=[["http://127.0.0.1:6969/announce"]])
        lt_torrent(multi, out("libtorrent-multi.torrent"),
                   trackers=[["http://127.0.0.1:6969/announce"]], comment="multi-file sample")
        lt_torrent(single, out("libtorrent-private.torrent"),
                   trackers=[["http://127.0.0.1:6969/announce"]], private=True)
        lt_torrent(multi, out("libtorrent-tiers.torrent"), trackers=[
            ["http://tracker-a.invalid/announce", "http://tracker-b.invalid/announce"],
            ["udp://tracker-c.invalid:6969/announce"],
            ["http://tracker-d.invalid/announce"],
        ])
        sample = os.path.join(tmp, "sample")
        write_tree(sample, {"README.txt": 1234, "music/track01.ogg": 30000,
                            "music/track02.ogg": 27183, "photos/cover.jpg": 9999})
        lt_torrent(sample, os.path.join(examples_dir, "sample.torrent"),
                   trackers=[["http://127.0.0.1:6969/announce"]], comment="bt sample torrent")
    handcrafted(out("handcrafted-unordered.torrent"))


if __name__ == "__main__":
    main()
