#!/bin/sh
# Rebuilds the sample torrents in this directory and examples/data/sample.torrent, and records
# the info-hash libtorrent reports for each in HASHES.txt (checked by tests/it/real_torrents.rs).
#
# Needs: mktorrent (Debian package `mktorrent`) and python3-libtorrent 2.0 for Debian's
# /usr/bin/python3 (`apt-get install mktorrent python3-libtorrent`). Run from anywhere:
#   crates/bt-proto/tests/data/regenerate.sh
# Payloads are deterministic and made in a temporary directory; only .torrent files are kept.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
examples=$(cd "$here/../../../../examples" && pwd)/data
mkdir -p "$examples"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Deterministic payloads for mktorrent: single file, and a tree with nested directories, an
# empty file and odd sizes.
"$py" - "$tmp" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
files = {"mk-single.bin": 70001, "mk-multi/one.txt": 777, "mk-multi/nested/deep/two.bin": 40000,
         "mk-multi/nested/empty.txt": 0, "mk-multi/three": 33333}
for seed, (rel, n) in enumerate(sorted(files.items())):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    out = b"".join(hashlib.sha1(b"mk-%d-%d" % (seed, i)).digest() for i in range(n // 20 + 1))
    open(path, "wb").write(out[:n])
PY

rm -f "$here/mktorrent-single.torrent" "$here/mktorrent-multi.torrent" # mktorrent won't overwrite
# -d: no creation date, so reruns give identical files. -l 15: 32 KiB pieces (mktorrent's minimum).
mktorrent -d -l 15 -a http://127.0.0.1:6969/announce -o "$here/mktorrent-single.torrent" \
    "$tmp/mk-single.bin" >/dev/null
mktorrent -d -l 15 -a http://127.0.0.1:6969/announce,http://backup.invalid/announce \
    -a udp://tier2.invalid:6969/announce -s bt-tests -o "$here/mktorrent-multi.torrent" \
    "$tmp/mk-multi" >/dev/null

"$py" "$here/make_torrents.py" "$here" "$examples"

# HASHES.txt: file name, then the v1 info-hash as libtorrent computes it.
"$py" - "$here" "$examples/sample.torrent" >"$here/HASHES.txt" <<'PY'
import os, sys
import libtorrent as lt
here, sample = sys.argv[1], sys.argv[2]
print("# file  info-hash (libtorrent %s: torrent_info(path).info_hashes().v1)" % lt.__version__)
paths = sorted(os.path.join(here, n) for n in os.listdir(here) if n.endswith(".torrent"))
for path in paths + [sample]:
    ti = lt.torrent_info(path)
    name = os.path.basename(path) if path != sample else "examples/data/sample.torrent"
    print(name, str(ti.info_hashes().v1))
PY
cat "$here/HASHES.txt"
