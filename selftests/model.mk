# SPDX-License-Identifier: MIT
#
# Function models and their parser (trampoline/model*.c): pure, so also
# built and tested on the host under ASan+UBSan, and fuzzed.

PURE_SRCS += trampoline/model.c trampoline/model_parse.c
HOST_TESTS += model

FUZZERS += $(O)/fuzz/fuzz_model

$(O)/fuzz/fuzz_model: selftests/fuzz_model.c trampoline/model.c \
		trampoline/model_parse.c trampoline/model.h \
		include/ftramp/ftramp.h
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) && \
		$(CLANG) $(FUZZ_CFLAGS) -o $@ $(srctree)/selftests/fuzz_model.c \
		$(srctree)/trampoline/model.c $(srctree)/trampoline/model_parse.c
