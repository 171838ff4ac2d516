# SPDX-License-Identifier: MIT
#
# Pair a benchmark program's stdout (bench/report.h) with the windows the
# counting plugin reported (bench/insn_count.c), in order.
#
#   awk -f join.awk -v prog=NAME PLUGIN_OUT PROGRAM_STDOUT
#
# Prints one merged record per line:
#
#   case   <name> <calls> <base> <insns> <syscalls> <mprotect> <membarrier>
#          <mmap> <munmap> <tgkill> <label...>
#   attach <name> <funcs> <pages> <batches> <insns> <syscalls> <mprotect> <membarrier>
#          <mmap> <munmap> <tgkill> <label...>
#   na   <name> <base> <label...> -- <reason...>
#   mem  <name> <bytes> <funcs> <pages> <label...>
#
# and exits non-zero when a calibration window (`expect`) is off by even
# one, or when the two streams do not have the same number of windows.

function fail(msg) {
	printf("bench: %s: %s\n", prog, msg) > "/dev/stderr"
	status = 1
}

function rest(from,	s, i) {
	s = ""
	for (i = from; i <= NF; i++)
		s = s (i > from ? " " : "") $i
	return s
}

# Plugin output: "window <n> insns <i> syscalls <s> mprotect <p> ...".
FNR == NR {
	if ($1 == "window") {
		nwin++
		for (i = 3; i < NF; i += 2)
			win[nwin, $i] = $(i + 1)
	}
	next
}

$1 == "case" || $1 == "attach" || $1 == "expect" || $1 == "discard" {
	used++
	if (used > nwin) {
		fail("no plugin window for `" $0 "'")
		next
	}
	if ($1 == "discard")
		next
	counts = win[used, "insns"] " " win[used, "syscalls"] " " \
		 win[used, "mprotect"] " " win[used, "membarrier"] " " \
		 win[used, "mmap"] " " win[used, "munmap"] " " \
		 win[used, "tgkill"]
	if ($1 == "case") {
		print $1, $2, $3, $4, counts, rest(5)
		next
	}
	if ($1 == "attach") {
		print $1, $2, $3, $4, $5, counts, rest(6)
		next
	}
	split("insns syscalls mprotect membarrier", key, " ")
	for (k = 1; k <= 4; k++) {
		want = $(3 + k)
		if (want != -1 && win[used, key[k]] != want)
			fail(sprintf("%s: %s %s, expected %s", $2, key[k],
				     win[used, key[k]], want))
	}
	printf("bench: calibration %-16s %6d insns, exact\n", $2,
	       win[used, "insns"]) > "/dev/stderr"
	next
}

$1 == "na" || $1 == "mem" {
	print
	next
}

END {
	if (used != nwin)
		fail(sprintf("%d windows reported, %d described", nwin, used))
	exit status
}
