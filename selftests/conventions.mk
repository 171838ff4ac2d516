# SPDX-License-Identifier: MIT
#
# Functions whose calling convention is not the one their DWARF or their
# C declaration suggests, and conventions_test, which traces them:
#
#   libclones.so      selftests/progs/clones.c, gcc -O2: .isra, .constprop,
#                     .part and .cold (-freorder-blocks-and-partition)
#                     clones (Documentation/models.rst, "Compiler clones")
#   libclones-lto.so  selftests/progs/clones_lto.c twice, -flto: .lto_priv
#   libclones-clang.so  selftests/progs/clones_clang.c, clang -O2: dead
#                     argument elimination (no rename, DWARF disagrees)
#   libvpcs.so        selftests/progs/vpcs.c: an aarch64_vector_pcs function
#                     (STO_AARCH64_VARIANT_PCS, refused) beside a plain one
#   clones_prog       calls them all (selftests/cli_conventions.sh)

CLONES_CFLAGS := -O2 -g -std=gnu11 -fPIC $(WARN) $(PATCHABLE)

$(PROGS_DIR)/clones/clones.o: selftests/progs/clones.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -freorder-blocks-and-partition -c -o $@ $<

$(PROGS_DIR)/clones/lto%.o: selftests/progs/clones_lto.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -flto -DCLONES_SIDE=$* -c -o $@ $<

$(PROGS_DIR)/libclones.so: $(PROGS_DIR)/clones/clones.o
	$(call quiet,LD,$@)$(CC) -shared -Wl,-soname,$(notdir $@) -o $@ $^

# -flto-partition=one: one LTRANS unit, no note about serial compilation.
$(PROGS_DIR)/libclones-lto.so: $(PROGS_DIR)/clones/lto1.o $(PROGS_DIR)/clones/lto2.o
	$(call quiet,LD,$@)$(CC) $(CLONES_CFLAGS) -flto -flto-partition=one \
		-shared -Wl,-soname,$(notdir $@) -o $@ $^

$(PROGS_DIR)/clones/clang.o: selftests/progs/clones_clang.c selftests/progs/clones.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(CLANG) --target=aarch64-linux-gnu $(CLONES_CFLAGS) -c -o $@ $<

$(PROGS_DIR)/libclones-clang.so: $(PROGS_DIR)/clones/clang.o
	$(call quiet,LD,$@)$(CLANG) $(CLANG_TARGET) -shared \
		-Wl,-soname,$(notdir $@) -o $@ $^

$(PROGS_DIR)/clones_prog: selftests/progs/clones_prog.c selftests/progs/clones.h \
		$(PROGS_DIR)/libclones.so $(PROGS_DIR)/libclones-lto.so \
		$(PROGS_DIR)/libclones-clang.so
	$(call quiet,CC,$@)$(CC) -O2 -g -std=gnu11 $(WARN) -o $@ $< \
		-L$(PROGS_DIR) -lclones -lclones-lto -lclones-clang \
		-Wl,-rpath,$(PROGS_DIR)

$(PROGS_DIR)/vpcs/vpcs.o: selftests/progs/vpcs.c selftests/progs/vpcs.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -c -o $@ $<

$(PROGS_DIR)/libvpcs.so: $(PROGS_DIR)/vpcs/vpcs.o
	$(call quiet,LD,$@)$(CC) -shared -Wl,-soname,$(notdir $@) -o $@ $^

CONVENTIONS_LIBS := $(PROGS_DIR)/libclones.so $(PROGS_DIR)/libclones-lto.so \
		    $(PROGS_DIR)/libclones-clang.so $(PROGS_DIR)/libvpcs.so

TEST_CFLAGS_conventions := -DPROGS_DIR='"$(PROGS_DIR)"' \
			   -DCROSS_NM='"$(CROSS_COMPILE)nm"' \
			   -DCROSS_READELF='"$(CROSS_COMPILE)readelf"'
TEST_LIBS_conventions := -L$(PROGS_DIR) -lclones -lclones-lto -lclones-clang \
			 -lvpcs \
			 -Wl,-rpath,$(PROGS_DIR)
$(O)/selftests/conventions_test: $(CONVENTIONS_LIBS)

CHECK_EXTRA += $(CONVENTIONS_LIBS) $(PROGS_DIR)/clones_prog
