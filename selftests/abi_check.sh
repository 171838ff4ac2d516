#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The library's ABI, three lists that must agree both ways:
#   - the functions include/ftramp/ftramp.h declares FTRAMP_API,
#   - the names ftramp.map lists in its FTRAMP_* version nodes (no wildcard:
#     a new function joins a version only when someone writes it there),
#   - what libftramp.so really exports at those versions.
# A function added to the header must be added to ftramp.map (in the newest
# version node); one removed from either breaks the ABI and shows here.
#
# The runner gives O (the build directory).
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
NM=${NM:-$(command -v aarch64-linux-gnu-nm || echo nm)}
[ "$(uname -m)" = aarch64 ] && NM=nm
plan 4

# Header: every FTRAMP_API declaration, joined across lines up to its '('.
python3 - "$SRC/include/ftramp/ftramp.h" >"$TMP/header" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
src = re.sub(r'/\*.*?\*/', ' ', src, flags=re.S)
src = re.sub(r'#define[^\n]*', ' ', src)
for m in re.finditer(r'\bFTRAMP_API\b([^(;{]*)\(', src):
    print(re.findall(r'[A-Za-z_]\w*', m.group(1))[-1])
PY
sort -u -o "$TMP/header" "$TMP/header"

# Map: the names in FTRAMP_* nodes' global: lists.
awk '/^FTRAMP_[0-9.]+ *\{/ { node = 1; next }
     /^\}/ { node = 0; glob = 0 }
     node && /global:/ { glob = 1; next }
     node && /local:/ { glob = 0 }
     node && glob { gsub(/[ \t;]/, ""); if ($0 != "") print }' \
	"$SRC/ftramp.map" | sort >"$TMP/map"
! grep -q '[*?]' "$TMP/map"
result "ftramp.map lists every exported name (no wildcard)" $?

"$NM" -D --defined-only "$O/libftramp.so" |
	awk '$3 ~ /@@?FTRAMP_/ { sub(/@.*/, "", $3); print $3 }' | sort -u >"$TMP/so"
[ -s "$TMP/so" ]
result "libftramp.so exports FTRAMP_* versioned symbols ($(wc -l <"$TMP/so"))" $?

diff "$TMP/header" "$TMP/map" >"$TMP/d1"
status=$?
result "the header's FTRAMP_API functions are the map's names" $status
[ $status -eq 0 ] || { echo "# < only in ftramp.h (add it to ftramp.map), > only in ftramp.map:"; sed 's/^/# /' "$TMP/d1"; }

diff "$TMP/map" "$TMP/so" >"$TMP/d2"
status=$?
result "the map's names are exactly libftramp.so's versioned exports" $status
[ $status -eq 0 ] || { echo "# < only in ftramp.map, > only exported:"; sed 's/^/# /' "$TMP/d2"; }

finish
