#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The global symbols of libftramp.a (Documentation/internals.rst, "Symbols
# of the static library").  A user links the archive into a program with
# its own globals: an internal function of ours named thread_list or
# reclaim_poll would collide with theirs.  In libftramp.so the version
# script hides them; in the archive they are renamed __ftramp_<name>.
#
#   static-syms.sh map ARCHIVE	  "old new" lines for objcopy
#				  --redefine-syms: every defined global that
#				  is hidden (internal) and not yet prefixed
#   static-syms.sh check ARCHIVE  every defined global is ftramp_*,
#				  __ftramp_* or allowed below; prints the
#				  others and exits 1
#
# READELF names the target's readelf (default: readelf).
set -u
READELF=${READELF:-readelf}

# Globals that keep their names, each for a reason outside this library:
#   __jit_debug_register_code, __jit_debug_descriptor: GDB's JIT interface
#	finds them by these names (trampoline/jitdebug.c);
#   sigaction, signal, sigprocmask, pthread_sigmask, dlopen, dlclose,
#	_Unwind_Find_FDE: interposed on purpose (lib/signal.c,
#	ftrace/sites.c, trampoline/unwind_find.c), exported by the shared
#	library too.
ALLOWED="__jit_debug_register_code __jit_debug_descriptor sigaction signal \
sigprocmask pthread_sigmask dlopen dlclose _Unwind_Find_FDE"

# NAME VIS of every defined GLOBAL or WEAK symbol, one per line.
defined_globals() {
	"$READELF" -sW "$1" | awk '
		$1 ~ /^[0-9]+:$/ && ($5 == "GLOBAL" || $5 == "WEAK") &&
		$7 != "UND" && NF >= 8 { print $8, $6 }' | sort -u
}

prefixed() {
	case $1 in ftramp_*|__ftramp_*) return 0 ;; esac
	case " $ALLOWED " in *" $1 "*) return 0 ;; esac
	return 1
}

mode=${1:-} ar=${2:-}
[ -n "$mode" ] && [ -r "$ar" ] || { echo "usage: $0 map|check ARCHIVE" >&2; exit 2; }
case $mode in
map)
	defined_globals "$ar" | while read -r name vis; do
		[ "$vis" = HIDDEN ] || continue
		prefixed "$name" || echo "$name __ftramp_$name"
	done
	;;
check)
	bad=0
	while read -r name vis; do
		prefixed "$name" && continue
		echo "$ar: global $name ($vis) has no ftramp_ / __ftramp_ prefix"
		bad=1
	done < <(defined_globals "$ar")
	exit $bad
	;;
*)
	echo "usage: $0 map|check ARCHIVE" >&2
	exit 2
	;;
esac
