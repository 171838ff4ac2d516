# SPDX-License-Identifier: MIT
#
# lib/ringbuf.[ch]: the BPF ring buffer layout in shared memory (the
# events of `ftramp run`).  ringbuf.c is pure; ringbuf_map.c maps it (the
# host test links both itself).

PURE_SRCS += lib/ringbuf.c
HOST_TESTS += ringbuf

$(O)/selftests/ringbuf_test.host: selftests/ringbuf_test.c selftests/harness.h \
				  lib/ringbuf.c lib/ringbuf_map.c lib/ringbuf.h
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) $(HOST_CFLAGS) -DFTRAMP_HOST_TEST -o $@ \
		$(srctree)/selftests/ringbuf_test.c $(srctree)/lib/ringbuf.c \
		$(srctree)/lib/ringbuf_map.c -lpthread
