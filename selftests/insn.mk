# SPDX-License-Identifier: MIT
#
# A64 instruction layer: arch/arm64/insn.[ch].
#
# selftests/insn_test.c is built for arm64 by the generic rule and, since
# `insn` is in HOST_TESTS, for the host under ASan+UBSan; the host build
# runs the differential test against GNU as.  fuzz_insn feeds the decoders
# random words and program counters (libFuzzer, host clang).

FUZZERS += $(O)/fuzz/fuzz_insn

$(O)/fuzz/fuzz_insn: selftests/fuzz_insn.c arch/arm64/insn.c arch/arm64/insn.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(CLANG) $(FUZZ_CFLAGS) -o $@ $(srctree)/selftests/fuzz_insn.c \
		$(srctree)/arch/arm64/insn.c

# Mutation check: each of a list of one-line breakages of insn.c must make
# the host insn tests fail (about 15 s; prints TAP).
CHECK_SCRIPTS += $(srctree)/scripts/insn-mutate.sh
