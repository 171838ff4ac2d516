#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp list against nm: every function of the sample is listed, at its
# symbol's address and size, usable; globs select by name; libraries name
# their functions FUNC@LIB; the malformed sites of libsample-bad.so are
# listed unusable with the reason; BTI functions are flagged; compiler
# clones are flagged and --models shows the unknown model they get; a
# vector-PCS function is unusable with its reason.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 18

NM=${OBJDUMP:-aarch64-linux-gnu-objdump}
NM=${NM%objdump}nm
[ "$HOST_ARCH" = aarch64 ] && [ -z "${OBJDUMP:-}" ] && NM=nm

"$FTRAMP" list "$KVSTORE" >"$TMP/all" 2>"$TMP/err"
rc=$?
check "list the sample" [ $rc -eq 0 ]

# "0x1600 176 - usable kv_put" -> "1600 176 kv_put", against nm -S
awk 'NR > 1 && $1 ~ /^0x/ { sub(/^0x/, "", $1); print $1, $2, $5 }' \
	"$TMP/all" | sort >"$TMP/listed"
"$NM" -S --defined-only "$KVSTORE" | python3 -c '
import sys
skip = ("_", "call_weak_fn", "frame_dummy", "register_tm", "deregister_tm")
for l in sys.stdin:
    f = l.split()
    if len(f) == 4 and f[2] in "tT" and not f[3].startswith(skip):
        print("%x %d %s" % (int(f[0], 16), int(f[1], 16), f[3]))
' | sort >"$TMP/nm"
if diff -u "$TMP/nm" "$TMP/listed" >"$TMP/diff"; then
	ok "addresses, sizes and names match nm -S"
else
	not_ok "addresses, sizes and names match nm -S"
	diag <"$TMP/diff"
fi
check "every function of the sample is usable" \
	bash -c "! awk 'NR > 1 && \$1 ~ /^0x/ && \$4 != \"usable\"' '$TMP/all' | grep -q ."
n=$(wc -l <"$TMP/nm")
check "the summary counts them ($n functions)" \
	grep -Eq "^$n sites, $n usable$" "$TMP/all"

"$FTRAMP" list "$KVSTORE" 'kv_*' >"$TMP/kv" 2>&1
check "a glob selects by name" \
	bash -c "awk 'NR > 1 && \$1 ~ /^0x/ { print \$5 }' '$TMP/kv' | sort | tr '\n' ' ' |
		 grep -qx 'kv_close kv_count_range kv_get kv_hash kv_open kv_put kv_slot '"
check "static functions are flagged" grep -Eq "static +usable +kv_slot$" "$TMP/kv"

"$FTRAMP" list -u "$KVSTORE" 'sensor_*' >"$TMP/u" 2>&1
n=$(grep -c ' sensor_' "$TMP/nm")
check "-u with a glob ($n sensor_* functions)" \
	grep -q "^$n sites, $n usable matching sensor_\*$" "$TMP/u"

if [ -e "$PROGS/libsample-gcc.so" ] && [ -e "$PROGS/libsample-bad.so" ] &&
   [ -e "$PROGS/libsample-bti.so" ]; then
	"$FTRAMP" list "$PROGS/libsample-gcc.so" >"$TMP/lib" 2>&1
	check "library functions are named FUNC@LIB" \
		grep -Eq "usable +sample_add@libsample-gcc.so$" "$TMP/lib"
	expect_fail "a library glob without @ says how names look" 1 \
		"a library's functions are named FUNC@libsample-gcc.so" \
		"$FTRAMP" list "$PROGS/libsample-gcc.so" sample_add
	"$FTRAMP" list "$PROGS/libsample-bad.so" >"$TMP/bad" 2>&1
	check "malformed sites are unusable, with the reason" \
		grep -Eq "unusable bad_entry@libsample-bad.so +\(the function entry is not two NOPs\)" "$TMP/bad"
	check "a misaligned literal slot is refused" \
		grep -Eq "unusable bad_misaligned@libsample-bad.so +\(literal slot \(func-8\) not 8-byte aligned\)" "$TMP/bad"
	"$FTRAMP" list "$PROGS/libsample-bti.so" 'sample_add*' >"$TMP/bti" 2>&1
	check "BTI functions are flagged" \
		grep -Eq " bti +usable +sample_add@libsample-bti.so$" "$TMP/bti"
else
	for t in "library names" "library glob hint" "malformed sites" \
		 "misaligned literal" "BTI flag"; do
		not_ok "$t: selftests/progs not built (make O=$O selftests)"
	done
fi

if [ -e "$PROGS/libclones.so" ] && [ -e "$PROGS/libvpcs.so" ]; then
	"$FTRAMP" list -m "$PROGS/libclones.so" >"$TMP/clones" 2>&1
	check "compiler clones are flagged" \
		grep -Eq " clone +usable +sra.isra.0@libclones.so " "$TMP/clones"
	check "--models: a clone gets the unknown model" \
		grep -Eq "sra.isra.0@libclones.so +model: unknown \(clone\)$" "$TMP/clones"
	check "--models: an original gets its DWARF model" \
		grep -Eq "cl_isra@libclones.so +model: int64_t \(int64_t, int64_t\)$" "$TMP/clones"
	"$FTRAMP" list -m "$PROGS/libclones-lto.so" 'helper*' >"$TMP/lto" 2>&1
	check "--models: a clone whose DWARF proves its convention keeps it" \
		grep -Eq "helper.lto_priv.0@libclones-lto.so +model: int64_t \(int64_t, int64_t\)$" "$TMP/lto"
	"$FTRAMP" list -m "$PROGS/libclones-clang.so" >"$TMP/dae" 2>&1
	check "--models: DWARF that disagrees with AAPCS64 gives the unknown model" \
		grep -Eq " dae@libclones-clang.so +model: unknown \(DWARF disagrees with AAPCS64\)$" "$TMP/dae"
	"$FTRAMP" list "$PROGS/libvpcs.so" >"$TMP/vpcs" 2>&1
	check "a vector-PCS function is unusable, with the reason" \
		grep -Eq "unusable vp_axpy@libvpcs.so +\(variant PCS" "$TMP/vpcs"
else
	for t in "clone flag" "clone model" "original model" "lto_priv model" \
		 "DWARF disagrees" "variant PCS"; do
		not_ok "$t: selftests/progs not built (make O=$O selftests)"
	done
fi

finish
