# SPDX-License-Identifier: MIT
#
# BPF programs as handlers (bpf/): objects built from
# selftests/progs/*.bpf.c with clang -target bpf and libbpf-dev's headers,
# loaded, run and attached by bpf_test; the ISA corpus (bpf_isa_test);
# the fuzzers of the loader (fuzz_bpf_object) and the verifier
# (fuzz_verifier), host, libFuzzer + ASan/UBSan.

BPF_CLANG	:= $(CLANG) -O2 -g -target bpf \
		   -I/usr/include/$(shell $(HOSTCC) -dumpmachine)
BPF_OBJ_DIR	:= $(O)/selftests/progs/bpf
BPF_PROG_SRCS	:= $(sort $(wildcard $(srctree)/selftests/progs/*.bpf.c))
BPF_OBJS	:= $(patsubst $(srctree)/selftests/progs/%.bpf.c,\
		   $(BPF_OBJ_DIR)/%.bpf.o,$(BPF_PROG_SRCS))

$(BPF_OBJ_DIR)/%.bpf.o: selftests/progs/%.bpf.c
	$(call quiet,CLANG-BPF,$@)mkdir -p $(dir $@) && \
		$(BPF_CLANG) -c -o $@ $<

TEST_CFLAGS_bpf := -DBPF_OBJ_DIR='"$(BPF_OBJ_DIR)"'
$(O)/selftests/bpf_test: $(BPF_OBJS)
# tailcall_test: prog arrays an object declares (bpf_prog_array_init,
# refuse_slot_*)
TEST_CFLAGS_tailcall := -DBPF_OBJ_DIR='"$(BPF_OBJ_DIR)"'
$(O)/selftests/tailcall_test: $(BPF_OBJS)

# The loader's parse and checks are pure: the fuzzer links only them.
BPF_PURE_SRCS := bpf/object.c bpf/btf.c bpf/check.c bpf/helper_ids.c \
		 bpf/verifier.c bpf/disasm.c bpf/patch.c bpf/fixup.c

FUZZERS += $(O)/fuzz/fuzz_bpf_object

$(O)/fuzz/fuzz_bpf_object: selftests/fuzz_bpf_object.c $(BPF_PURE_SRCS) \
		bpf/bpf.h bpf/btf.h include/ftramp/ftramp.h $(BPF_OBJS)
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) $@.corpus && \
		$(CLANG) $(FUZZ_CFLAGS) -o $@ $(srctree)/selftests/fuzz_bpf_object.c \
		$(addprefix $(srctree)/,$(BPF_PURE_SRCS)) && \
		cp $(BPF_OBJS) $@.corpus/

# The verifier's fuzzer: raw instruction sequences into check + verify,
# and generated programs (selftests/bpf_gen.h) and their mutants that,
# accepted, run in the interpreter built with every access checked
# (BPF_INTERP_CHECKED); 20,000 insns per walk (a walk to the kernel's
# 1 M takes seconds under ASan).
# make check also runs it over FUZZ_SEEDS fixed seeds (FUZZ_SEEDED).
FUZZERS += $(O)/fuzz/fuzz_verifier
FUZZ_SEEDED += $(O)/fuzz/fuzz_verifier
FUZZ_VERIFIER_SRCS := $(BPF_PURE_SRCS) bpf/interp.c bpf/helpers.c \
		      bpf/map.c bpf/tail.c lib/peek.c lib/ringbuf.c lib/ringbuf_map.c

$(O)/fuzz/fuzz_verifier: selftests/fuzz_verifier.c selftests/bpf_gen.h \
		selftests/bpf_insns.h $(FUZZ_VERIFIER_SRCS) bpf/bpf.h \
		bpf/verifier.h include/ftramp/ftramp.h
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) $@.corpus && \
		$(CLANG) $(FUZZ_CFLAGS) -DBPF_INTERP_CHECKED \
		-DBPF_COMPLEXITY_LIMIT=20000 -o $@ \
		$(srctree)/selftests/fuzz_verifier.c \
		$(addprefix $(srctree)/,$(FUZZ_VERIFIER_SRCS))
