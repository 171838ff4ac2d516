# SPDX-License-Identifier: MIT
#
# samples/: programs built the way ftramp expects (PATCHABLE), traced by
# `make demo` and by the CLI selftests.
#
# -fno-inline keeps every function of the sample a real call, so each one
# appears in a trace; in ordinary programs an inlined function has no entry
# of its own to patch (Documentation/building-your-program.rst).

SAMPLE_CFLAGS := -O2 -g -fno-inline $(PATCHABLE)
KVSTORE_SRCS := samples/main.c samples/kv.c samples/sensor.c
KVSTORE_OBJS := $(patsubst %.c,$(O)/%.o,$(KVSTORE_SRCS))

# The sample is not part of the library: its objects get the sample's
# flags, not LIB_CFLAGS.
$(KVSTORE_OBJS): $(O)/samples/%.o: samples/%.c samples/kvstore.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) -std=gnu11 $(WARN) $(SAMPLE_CFLAGS) -c -o $@ $<

$(O)/samples/kvstore: $(KVSTORE_OBJS)
	$(call quiet,LD,$@)$(CC) -o $@ $^ -lpthread -lm

# The same program built by clang: the CLI selftests trace both.
KVSTORE_CLANG_OBJS := $(patsubst %.c,$(O)/samples/clang/%.o,$(notdir $(KVSTORE_SRCS)))

$(KVSTORE_CLANG_OBJS): $(O)/samples/clang/%.o: samples/%.c samples/kvstore.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(CLANG) --target=aarch64-linux-gnu $(CPPFLAGS) -std=gnu11 \
		$(WARN) $(SAMPLE_CFLAGS) -c -o $@ $<

$(O)/samples/kvstore-clang: $(KVSTORE_CLANG_OBJS)
	$(call quiet,LD,$@)$(CLANG) $(CLANG_TARGET) -o $@ $^ -lpthread -lm

SAMPLES := $(O)/samples/kvstore $(O)/samples/kvstore-clang

.PHONY: samples
samples: $(SAMPLES)

ALL_TARGETS += $(SAMPLES)

# BPF programs for ftramp run -e (Documentation/bpf.rst): a latency
# histogram in a map, a ring buffer event stream.
SAMPLE_BPF := $(O)/samples/kvlat.bpf.o $(O)/samples/kvevents.bpf.o

$(SAMPLE_BPF): $(O)/samples/%.bpf.o: samples/%.bpf.c
	$(call quiet,CLANG-BPF,$@)mkdir -p $(dir $@) && \
		$(BPF_CLANG) -c -o $@ $<

SAMPLES += $(SAMPLE_BPF)
ALL_TARGETS += $(SAMPLE_BPF)
# make demo runs them (samples/demo.sh)
demo-build: $(SAMPLE_BPF)
