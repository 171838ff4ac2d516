# SPDX-License-Identifier: MIT
#
# Function models and their parser (trampoline/model*.c): pure, so also
# built and tested on the host under ASan+UBSan, and fuzzed.

PURE_SRCS += trampoline/model.c trampoline/model_parse.c
HOST_TESTS += model

FUZZERS += $(O)/fuzz/fuzz_model

$(O)/fuzz/fuzz_model: selftests/fuzz_model.c trampoline/model.c \
		trampoline/model_parse.c trampoline/model.h arch/arm64/abi.c \
		arch/arm64/abi.h include/ftramp/ftramp.h
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) && \
		$(CLANG) $(FUZZ_CFLAGS) -o $@ $(srctree)/selftests/fuzz_model.c \
		$(srctree)/trampoline/model.c $(srctree)/trampoline/model_parse.c \
		$(srctree)/arch/arm64/abi.c

# ---------------------------------------------------------------------------
# The differential test on random signatures (selftests/abi_diff_test.c).
#
# scripts/gen-signatures.py writes ABI_SIGS random functions (seed
# ABI_SEED) in chunks of ABI_CHUNK: callees built like a traced program
# ($(PATCHABLE)), callers, and a table of prototypes and expected bytes;
# and ABI_USIGS functions no model describes (variadic, float32x4_t, up to
# 30 arguments), for the unknown model.
# Everything is compiled once, here, not per test.  The first
# ABI_XCHECK chunks are also built with clang, for the gcc/clang ABI
# cross-check of the generator itself.  `make check ABI_SIGS=20000` runs
# a larger set.

ABI_SIGS	?= 2000
ABI_SEED	?= 1
ABI_USIGS	?= 300
ABI_CHUNK	:= 250
ABI_XCHECK	:= 1
ABI_GEN		:= $(O)/selftests/abi-$(ABI_SIGS)-$(ABI_SEED)-$(ABI_USIGS)
ABI_NCHUNKS	:= $(shell echo $$(( ($(ABI_SIGS) + $(ABI_CHUNK) - 1) / $(ABI_CHUNK) )))
ABI_CHUNKS	:= $(shell seq 0 $$(( $(ABI_NCHUNKS) - 1 )))
ABI_XCHUNKS	:= $(wordlist 1,$(ABI_XCHECK),$(ABI_CHUNKS))
ABI_CLANG	:= $(CLANG) $(CLANG_TARGET) -O2 -g -std=gnu11 -w

ABI_OBJS := $(ABI_GEN)/abi_table.o $(ABI_GEN)/ucallee.g.o $(ABI_GEN)/ucaller.gg.o \
	$(foreach c,$(ABI_CHUNKS),$(ABI_GEN)/callee_$(c).g.o $(ABI_GEN)/caller_$(c).gg.o) \
	$(foreach c,$(ABI_XCHUNKS),$(ABI_GEN)/callee_$(c).c.o \
		$(ABI_GEN)/caller_$(c).cg.o $(ABI_GEN)/caller_$(c).gc.o \
		$(ABI_GEN)/caller_$(c).cc.o)

$(ABI_GEN)/stamp: scripts/gen-signatures.py
	$(call quiet,GEN,$(ABI_GEN))mkdir -p $(ABI_GEN) && \
		python3 $(srctree)/scripts/gen-signatures.py --seed $(ABI_SEED) \
		--count $(ABI_SIGS) --chunk $(ABI_CHUNK) --xcheck $(ABI_XCHECK) \
		--unknown $(ABI_USIGS) \
		--out $(ABI_GEN) && touch $@

$(ABI_GEN)/abi_table.o: $(ABI_GEN)/stamp
	$(call quiet,CC,$@)$(CC) -O1 -c -o $@ $(ABI_GEN)/abi_table.c
# the unknown model's own functions (variadic, vectors, many arguments)
$(ABI_GEN)/ucallee.g.o: $(ABI_GEN)/stamp
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -w $(PATCHABLE) -DCALLEE_PFX=g_ \
		-c -o $@ $(ABI_GEN)/ucallee.c
$(ABI_GEN)/ucaller.gg.o: $(ABI_GEN)/stamp
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -w -DCALLEE_PFX=g_ -DCALLER_PFX=gg_ \
		-c -o $@ $(ABI_GEN)/ucaller.c
# gcc callee / gcc caller
$(ABI_GEN)/callee_%.g.o: $(ABI_GEN)/stamp
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -w $(PATCHABLE) -DCALLEE_PFX=g_ \
		-c -o $@ $(ABI_GEN)/callee_$*.c
$(ABI_GEN)/caller_%.gg.o: $(ABI_GEN)/stamp
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -w -DCALLEE_PFX=g_ -DCALLER_PFX=gg_ \
		-c -o $@ $(ABI_GEN)/caller_$*.c
# clang callee; the cross callers; clang caller of the clang callee
$(ABI_GEN)/callee_%.c.o: $(ABI_GEN)/stamp
	$(call quiet,CLANG,$@)$(ABI_CLANG) $(PATCHABLE) -DCALLEE_PFX=c_ \
		-c -o $@ $(ABI_GEN)/callee_$*.c
$(ABI_GEN)/caller_%.cg.o: $(ABI_GEN)/stamp
	$(call quiet,CLANG,$@)$(ABI_CLANG) -DCALLEE_PFX=g_ -DCALLER_PFX=cg_ \
		-c -o $@ $(ABI_GEN)/caller_$*.c
$(ABI_GEN)/caller_%.gc.o: $(ABI_GEN)/stamp
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -w -DCALLEE_PFX=c_ -DCALLER_PFX=gc_ \
		-c -o $@ $(ABI_GEN)/caller_$*.c
$(ABI_GEN)/caller_%.cc.o: $(ABI_GEN)/stamp
	$(call quiet,CLANG,$@)$(ABI_CLANG) -DCALLEE_PFX=c_ -DCALLER_PFX=cc_ \
		-c -o $@ $(ABI_GEN)/caller_$*.c

TEST_CFLAGS_abi_diff := -I$(ABI_GEN)
TEST_OBJS_abi_diff := $(ABI_OBJS)
# Relink when ABI_SIGS/ABI_SEED/ABI_USIGS change, even back to older objects.
ABI_CONFIG := $(O)/selftests/abi.config
# Rewritten only when the values differ (kbuild's FORCE + compare), so the
# timestamp moves only then, and reading the makefiles writes nothing
# (`make help` leaves the build folder alone).
$(ABI_CONFIG): FORCE
	$(Q)mkdir -p $(dir $@) && echo '$(ABI_SIGS) $(ABI_SEED) $(ABI_USIGS)' | \
		cmp -s - $@ 2>/dev/null || echo '$(ABI_SIGS) $(ABI_SEED) $(ABI_USIGS)' > $@
$(O)/selftests/abi_diff_test: $(ABI_OBJS) $(ABI_CONFIG)
