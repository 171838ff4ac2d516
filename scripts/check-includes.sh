#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Includes go downward only (Documentation/internals.rst, "Layering"):
#
#   lib/ < arch/arm64/ < trampoline/ < ftrace/ < bpf/ < tools/
#
# A file of one layer may include its own layer's headers, any lower
# layer's and the public <ftramp/ftramp.h>; include/ftramp/ includes no
# layer at all.  Every upward include is printed as FILE:LINE: and the
# exit status is 1.  selftests/, samples/ and bench/ sit above everything.
#
#   check-includes.sh [SRCTREE]	(default: this script's tree)
set -u
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$root" || exit 2

layers="lib arch/arm64 trampoline ftrace bpf tools"

rank() {	# rank PATH: index of the layer PATH is in, or nothing
	local r=0 l
	for l in $layers; do
		case $1 in "$l"/*) echo $r; return ;; esac
		r=$((r + 1))
	done
}

bad=0
files=$(find $layers include -type f \( -name '*.c' -o -name '*.h' -o \
	-name '*.S' -o -name '*.cc' \) 2>/dev/null | sort)
for f in $files; do
	case $f in include/*) own=-1 ;; *) own=$(rank "$f") ;; esac
	# #include "dir/x.h" or <dir/x.h>; a bare "x.h" is the file's own
	# directory, so its own layer.
	while IFS=: read -r line inc; do
		r=$(rank "$inc")
		[ -n "$r" ] || continue
		if [ "$r" -gt "$own" ]; then
			echo "$f:$line: includes $inc (a higher layer)"
			bad=1
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$f" |
		 sed 's/^\([0-9]*\):[^"<]*["<]\([^">]*\)[">].*/\1:\2/')
done
exit $bad
