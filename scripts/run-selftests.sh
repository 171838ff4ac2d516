#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run every selftest binary and script, print their TAP output, and end with
# the summary line `N passed, N failed[, N skipped]`.
#
#   run-selftests.sh arm64:PATH host:PATH script:PATH ...
#
# arm64 binaries run under $QEMU_RUN (empty on arm64 hosts); host binaries
# run directly; scripts run with bash and must print TAP; fuzz binaries
# (libFuzzer) run for FUZZ_SMOKE_SECONDS and count as one test; seeds
# binaries (libFuzzer ones with -ftramp_seeds=N) run FUZZ_SEEDS fixed seeds
# and print their own TAP.  A binary that
# crashes, is missing, or prints fewer results than its plan counts the
# missing ones as failed.  Exit status is 1 if anything failed.
#
# Each binary or script has SELFTEST_TIMEOUT seconds (default 900); past
# that it and everything in its process group are killed, the results it
# did not print count as failed, and the run goes on.  Each ends with its
# wall time, so a slow CI run shows where its time went.
set -u

pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {
	local kind=$1 path=$2 label
	label=${path#"${O:-}/"}
	echo "# selftests: $label ($kind)"
	if [ ! -e "$path" ]; then
		echo "not ok 1 $label # missing: $path"
		fail=$((fail + 1))
		return
	fi
	local dir start limit=${SELFTEST_TIMEOUT:-900}
	local tmo=(timeout -k 15 "$limit")
	dir=$(dirname "$path")
	start=$SECONDS
	case $kind in
	arm64)	(cd "$dir" && "${tmo[@]}" $QEMU_RUN "$path") >"$log" 2>&1 ;;
	host)	(cd "$dir" && "${tmo[@]}" "$path") >"$log" 2>&1 ;;
	script)	(cd "$dir" && "${tmo[@]}" bash "$path") >"$log" 2>&1 ;;
	fuzz)	# a short libFuzzer run: one TAP result
		mkdir -p "$path.corpus"
		if "${tmo[@]}" "$path" -max_total_time="${FUZZ_SMOKE_SECONDS:-3}" \
			"$path.corpus" >"$log.fz" 2>&1; then
			printf '1..1\nok 1 %s # %s\n' "$label" \
				"$(grep -m1 -o 'Done [0-9]* runs.*' "$log.fz")" >"$log"
		else
			{ echo 1..1; tail -40 "$log.fz" | sed 's/^/# /'
			  echo "not ok 1 $label"; } >"$log"
		fi
		rm -f "$log.fz" ;;
	seeds)	(cd "$dir" && "${tmo[@]}" "$path" \
			-ftramp_seeds="${FUZZ_SEEDS:-4000}") >"$log" 2>&1 ;;
	esac
	local rc=$?
	cat "$log"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "# $label: killed after its ${limit} s (SELFTEST_TIMEOUT)"
	fi
	echo "# $label: $((SECONDS - start)) s"
	local p f s plan seen
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
	p=$((p - s))
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -d. -f3)
	seen=$((p + s + f))
	if [ -n "$plan" ] && [ "$seen" -lt "$plan" ]; then
		echo "# $label: only $seen of $plan results (exit $rc)"
		f=$((f + plan - seen))
	elif [ "$seen" -eq 0 ]; then
		echo "not ok 1 $label # no results (exit $rc)"
		f=1
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $((seen + 1)) $label # exit status $rc"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

for arg in "$@"; do
	run_one "${arg%%:*}" "${arg#*:}"
done

line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
