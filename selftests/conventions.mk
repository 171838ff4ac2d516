# SPDX-License-Identifier: MIT
#
# Functions whose calling convention is not the one their DWARF or their
# C declaration suggests, and conventions_test, which traces them:
#
#   libclones.so      selftests/progs/clones.c, gcc -O2: .isra, .constprop,
#                     .part and .cold (-freorder-blocks-and-partition)
#                     clones (Documentation/models.rst, "Compiler clones");
#                     clones_abi.c: the same kinds with FP, vector, stack
#                     and by-reference arguments; clones_nocall.c twice,
#                     once marked DW_CC_nocall
#   libclones-lto.so  selftests/progs/clones_lto.c twice, -flto: .lto_priv
#   libclones-clang.so  selftests/progs/clones_clang.c, clang -O2: dead
#                     argument elimination (no rename, DWARF disagrees)
#   libvpcs.so        selftests/progs/vpcs.c: an aarch64_vector_pcs function
#                     (STO_AARCH64_VARIANT_PCS, refused) beside a plain one
#   clones_prog       calls them all (selftests/cli_conventions.sh)
#   vpcs_prog         calls libvpcs.so's (selftests/cli_vpcs.sh)
#   interp_prog       selftests/progs/interp.c, a bytecode interpreter with
#                     clones of each kind (selftests/cli_interp.sh)

CLONES_CFLAGS := -O2 -g -std=gnu11 -fPIC $(WARN) $(PATCHABLE)

$(PROGS_DIR)/clones/clones.o: selftests/progs/clones.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -freorder-blocks-and-partition -c -o $@ $<

$(PROGS_DIR)/clones/abi.o: selftests/progs/clones_abi.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -freorder-blocks-and-partition -c -o $@ $<

# No compiler here emits DW_CC_nocall: add it to the one subprogram's
# abbreviation in gcc's annotated assembly (-dA), as DW_FORM_implicit_const
# (DWARF 5), so that no DIE grows and no offset moves.  DW_CC_nocall = 3.
$(PROGS_DIR)/clones/nocall.s: selftests/progs/clones_nocall.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -gdwarf-5 -DNOCALL_NAME=cl_nocall -S -dA \
			-o $@.tmp $< && \
		awk '{ print } \
		     /\(TAG: DW_TAG_subprogram\)/ { sub_ = 1; next } \
		     sub_ && /DW_children_/ { \
			print "\t.uleb128 0x36\t// DW_AT_calling_convention"; \
			print "\t.uleb128 0x21\t// DW_FORM_implicit_const"; \
			print "\t.sleb128 0x3\t// DW_CC_nocall"; n++ } \
		     { sub_ = 0 } \
		     END { if (n != 1) exit 1 }' $@.tmp >$@ && rm -f $@.tmp

$(PROGS_DIR)/clones/nocall.o: $(PROGS_DIR)/clones/nocall.s
	$(call quiet,AS,$@)$(CC) -c -o $@ $<

$(PROGS_DIR)/clones/nocall_twin.o: selftests/progs/clones_nocall.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -gdwarf-5 -DNOCALL_NAME=cl_nocall_twin \
			-c -o $@ $<

$(PROGS_DIR)/clones/lto%.o: selftests/progs/clones_lto.c selftests/progs/clones.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CLONES_CFLAGS) -flto -DCLONES_SIDE=$* -c -o $@ $<

$(PROGS_DIR)/libclones.so: $(PROGS_DIR)/clones/clones.o $(PROGS_DIR)/clones/abi.o \
		$(PROGS_DIR)/clones/nocall.o $(PROGS_DIR)/clones/nocall_twin.o
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

# vpcs_prog: calls them, q8-q23 held across each vp_axpy call
# (selftests/cli_vpcs.sh).
$(PROGS_DIR)/vpcs_prog: selftests/progs/vpcs_prog.c selftests/progs/vpcs_call.S \
		selftests/progs/vpcs.h $(PROGS_DIR)/libvpcs.so
	$(call quiet,CC,$@)$(CC) -O2 -g -std=gnu11 $(WARN) $(PATCHABLE) -o $@ \
		$(srctree)/selftests/progs/vpcs_prog.c \
		$(srctree)/selftests/progs/vpcs_call.S \
		-L$(PROGS_DIR) -lvpcs -Wl,-rpath,$(PROGS_DIR)

# interp_prog: a small interpreter built as users build theirs, -O2 -g
# with hot/cold partitioning, so that its static helpers become .isra,
# .constprop and .part clones and .cold parts (selftests/cli_interp.sh).
$(PROGS_DIR)/interp_prog: selftests/progs/interp.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) -O2 -g -std=gnu11 $(WARN) $(PATCHABLE) \
		-freorder-blocks-and-partition -o $@ $<

CONVENTIONS_LIBS := $(PROGS_DIR)/libclones.so $(PROGS_DIR)/libclones-lto.so \
		    $(PROGS_DIR)/libclones-clang.so $(PROGS_DIR)/libvpcs.so

TEST_CFLAGS_conventions := -DPROGS_DIR='"$(PROGS_DIR)"' \
			   -DCROSS_NM='"$(CROSS_COMPILE)nm"' \
			   -DCROSS_READELF='"$(CROSS_COMPILE)readelf"'
TEST_LIBS_conventions := -L$(PROGS_DIR) -lclones -lclones-lto -lclones-clang \
			 -lvpcs \
			 -Wl,-rpath,$(PROGS_DIR)
$(O)/selftests/conventions_test: $(CONVENTIONS_LIBS)

CHECK_EXTRA += $(CONVENTIONS_LIBS) $(PROGS_DIR)/clones_prog \
	       $(PROGS_DIR)/vpcs_prog $(PROGS_DIR)/interp_prog
