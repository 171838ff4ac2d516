#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make demo: trace the kvstore sample with ftramp.  O is the build
# directory; QEMU_RUN runs an arm64 program on other hosts (empty on arm64),
# FTRAMP_QEMU and FTRAMP_SYSROOT tell ftramp run the same.
set -eu

: "${O:?O must name the build directory}"
ftramp=$O/tools/ftramp/ftramp
prog=$O/samples/kvstore
out=$O/demo
mkdir -p "$out"

step() {
	printf '\n\033[1m==> %s\033[0m\n' "$*"
}

# Print a command the way one would type it, then run it.
show() {
	local a line='$'

	for a in "$@"; do
		a=${a//$O\//\$O/}
		if [[ $a =~ ^[][A-Za-z0-9_./=,:@\$+-]+$ ]]; then
			line+=" $a"
		else
			line+=" '$a'"
		fi
	done
	printf '%s\n' "$line"
	"$@"
}

step "The sample: 4 threads store sensor readings in a small key-value store"
show ${QEMU_RUN:-} "$prog"

step "Its patchable functions (built with -fpatchable-function-entry=4,2 -falign-functions=8)"
show "$ftramp" list "$prog" 'kv_*'

step "Trace every kv_* and sensor_* call: arguments from DWARF, results, durations"
show "$ftramp" run -o "$out/trace.txt" -t 'kv_*' -t 'sensor_*' -- "$prog" -j 2 -n 3
echo "(first 24 lines of $out/trace.txt)" | sed "s|$O/|\$O/|g"
head -n 24 "$out/trace.txt"

step "Latency histograms and call counts"
show "$ftramp" run --hist sensor_sample --hist kv_get --count '*' -- "$prog"

step "Fault injection: kv_put returns -ENOSPC (-28) without running"
show "$ftramp" run --override kv_put=-28 -t kv_put -- "$prog" -j 1 -n 2

step "The trampoline ftramp built for kv_put (first lines of ftramp dump)"
show "$ftramp" dump --model 'int kv_put(void *kv, const char *key, double value)' \
	--fentry 1 --fexit 1 | head -n 16

step "A BPF program (samples/kvlat.bpf.c): what the loader makes of it"
show "$ftramp" prog "$O/samples/kvlat.bpf.o"

step "Run it: a latency histogram of kv_get in a BPF map, printed at exit (--maps)"
show "$ftramp" run -e "$O/samples/kvlat.bpf.o" --maps -- "$prog" -j 2 -n 3

step "A BPF ring buffer and bpf_printk (samples/kvevents.bpf.c), kv_put failing"
show "$ftramp" run -e "$O/samples/kvevents.bpf.o" --override kv_put=-28 -- "$prog" -j 1 -n 2

step "A Chrome / Perfetto trace of the whole run"
show "$ftramp" run --format=chrome -o "$out/kvstore.json" -t '*' -- "$prog"

printf '\nChrome trace: %s\n' "$out/kvstore.json"
printf 'Open it in https://ui.perfetto.dev or chrome://tracing.\n'
