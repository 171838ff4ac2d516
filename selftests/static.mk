# SPDX-License-Identifier: MIT
#
# selftests/static_test: a statically linked program that links
# libftramp.a and traces its own functions through the API
# (Documentation/building-your-program.rst, "Static programs").  Static
# libdw needs the static libraries it was built with; libbz2.a comes
# from libbz2-dev (scripts/install-deps.sh).  --no-warnings: the only
# warning is ld's note that dlopen() in a static program needs the
# glibc it was linked with (libdw's debuginfod client, and the unwinder
# fallback of trampoline/unwind.c), neither of which runs here.

STATIC_LIBS := -ldw -lelf -lz -llzma -lbz2 -lpthread -ldl -lm

# unwind_cxx.o (selftests/unwind.mk): C++ that throws through traced
# functions, with libstdc++.a.
$(O)/selftests/static_test: selftests/static_test.c selftests/harness.h \
		$(O)/libftramp.a $(O)/selftests/unwind_cxx.o
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(CFLAGS) $(PATCHABLE) -static \
		-Wl,--no-warnings -o $@ $< $(O)/selftests/unwind_cxx.o \
		$(O)/libftramp.a -lstdc++ $(STATIC_LIBS)
