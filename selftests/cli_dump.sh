#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp dump: the image it prints is the one the emitter built (checked
# word for word against objdump of --binary), each model and option
# combination builds, and the annotations name the parts of the frame.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

MODELS=(
	'void (void)'
	'int (int, int)'
	'int kv_put(void *kv, const char *key, double value)'
	'double (double, float)'
	'long (long, long, long, long, long, long, long, long, double, double, long, long)'
	'struct { float lo, hi; } (struct { float lo, hi; })'
	'struct { long a, b; } (int, struct { long a, b; })'
	'struct { long v[4]; } (long)'
	'long double (long double, __int128)'
	'_Bool (char, short, unsigned char, unsigned short)'
)

plan $((11 + ${#MODELS[@]}))

OBJDUMP=${OBJDUMP:-aarch64-linux-gnu-objdump}

# "  0xaddr:  word  ..." -> "addr word" for the code part of a dump
dump_words() {
	awk '$1 ~ /^0x[0-9a-f]+:$/ && length($2) == 8 && $2 ~ /^[0-9a-f]+$/ {
		a = $1; sub(/^0x/, "", a); sub(/:$/, "", a); print a, $2 }' "$1"
}

objdump_words() {
	"$OBJDUMP" -D -b binary -m aarch64 --adjust-vma="$2" "$1" |
		awk '$1 ~ /^[0-9a-f]+:$/ && length($2) == 8 && $2 ~ /^[0-9a-f]+$/ {
			a = $1; sub(/:$/, "", a); sub(/^0+/, "", a); print a, $2 }'
}

# dump_vs_objdump DESC ARGS...: the listing is the --binary image
dump_vs_objdump() {
	local desc=$1 base
	shift
	if ! "$FTRAMP" dump --binary "$TMP/img" "$@" >"$TMP/d" 2>"$TMP/e"; then
		not_ok "$desc"
		diag <"$TMP/e"
		return
	fi
	base=$(sed -n 's/^# image: .* at \(0x[0-9a-f]*\),.*/\1/p' "$TMP/d")
	dump_words "$TMP/d" >"$TMP/dw"
	objdump_words "$TMP/img" "$base" >"$TMP/ow"
	# every listed instruction is the word objdump finds there
	if [ -s "$TMP/dw" ] && join <(sort "$TMP/dw") <(sort "$TMP/ow") |
	   awk '$2 != $3 { bad = 1 } END { exit bad }' &&
	   [ "$(join <(sort "$TMP/dw") <(sort "$TMP/ow") | wc -l)" -eq "$(wc -l <"$TMP/dw")" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diff <(sort "$TMP/dw") <(sort "$TMP/ow") | head -5 | diag
	fi
}

dump_vs_objdump "default dump (unknown model, fentry + fexit) is the emitted image"
check "the program calls are named" \
	bash -c "grep -q 'call fentry program #0 (cookie 1)' '$TMP/d' &&
		 grep -q 'call fexit program #0 (cookie 201)' '$TMP/d' &&
		 grep -q 'call the original: the function body' '$TMP/d'"
check "the parts are the emitter's notes: one frame record, the guard around the original" \
	bash -c "grep -q '^  # frame: one record (x29, the caller.s lr in x9)' '$TMP/d' &&
		 grep -q '^  # guard FREE while the original runs' '$TMP/d' &&
		 grep -q '^  # guard BUSY again for the fexit programs' '$TMP/d' &&
		 grep -q '^  # in-flight -= 0x80 (release)' '$TMP/d' &&
		 [ \$(grep -c 'stp *x29, x' '$TMP/d') -eq 1 ]"
check "the guard as real images have it: guard_none, no NULL test of the table" \
	bash -c "grep -q 'guard_none: the table of a thread without one' '$TMP/d' &&
		 ! grep -q 'cbz *x19' '$TMP/d' &&
		 grep -q 'strb *w19, \[x19' '$TMP/d'"
check "the image fits the sizing pass" \
	bash -c "sed -n 's/^# image: *\([0-9]*\) bytes (sizing pass bound \([0-9]*\)).*/\1 \2/p' '$TMP/d' |
		 awk '{ exit !(\$1 > 0 && \$1 <= \$2) }'"

dump_vs_objdump "far, with BTI, LSE and fmod_ret" \
	--model 'int kv_put(void *kv, const char *key, double value)' \
	--fentry 1 --fmod-ret 1 --fexit 1 --far --bti --lse
check "far: programs are called through x16, not BL" \
	bash -c "grep -q 'blr *x16 .*call fentry program #0' '$TMP/d' &&
		 ! grep -q 'bl  *#.*call fentry' '$TMP/d'"
check "bti c comes first, stadd counts" \
	bash -c "sed -n 's/^  0x[0-9a-f]*:  \([0-9a-f]*\) .*/\1/p' '$TMP/d' | head -1 | grep -qx d503245f &&
		 grep -q 'stadd *x15, .*state.inflight += 0x80' '$TMP/d' &&
		 grep -q 'staddl *x14, .*state.inflight -= 0x80' '$TMP/d'"
check "fmod_ret: a non-zero result skips the original" \
	grep -q "non-zero: skip the original" "$TMP/d"
check "every emitter note is printed: the dump and the image agree on the parts" \
	bash -c "grep -q '^  # fmod_ret program #0 (cookie 101)' '$TMP/d' &&
		 grep -q '^  # first entry on this thread: guard_slow()' '$TMP/d' &&
		 grep -q 'run context: func_ip 0xaaaaaaaa1000, cookie 201, fexit' '$TMP/d'"
check "ctx slots name the arguments by type" \
	bash -c "grep -q 'ctx\[0\]: arg 0 (pointer); ctx\[1\]: arg 1 (char \*)' '$TMP/d' &&
		 grep -q 'ctx\[2\]: arg 2 (double)' '$TMP/d'"

for m in "${MODELS[@]}"; do
	args=(--model "$m" --fentry 2 --fexit 1)
	case $m in void*) ;; *) args+=(--fmod-ret 1) ;; esac
	dump_vs_objdump "model '$m'" "${args[@]}"
done

finish
