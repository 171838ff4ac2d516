# SPDX-License-Identifier: MIT
#
# tools/ftramp: the `ftramp` command (built for the host), its preload
# agent libftramp-agent.so (arm64, links libftramp.a), `make demo` and
# `make docs`.

CLI_DIR		:= $(O)/tools/ftramp
FTRAMP_CLI	:= $(CLI_DIR)/ftramp
FTRAMP_AGENT	:= $(CLI_DIR)/libftramp-agent.so

# ---------------------------------------------------------------------------
# The command.  It links host builds (no sanitizers: this is a tool people
# run) of the library's host-usable parts: the ELF site reader and the
# DWARF model reader for `list`,
# the encoder, AAPCS64 layout, emitter and model parser for `dump`;
# the loader, the verifier and the JIT for `prog` (jited.c stands in for
# the text allocator and the helpers).

CLI_SRCS := tools/ftramp/main.c tools/ftramp/run.c tools/ftramp/list.c \
	    tools/ftramp/ldcache.c \
	    tools/ftramp/table.c \
	    tools/ftramp/dump.c tools/ftramp/elfcheck.c tools/ftramp/report.c \
	    tools/ftramp/prog.c tools/ftramp/bpfrun.c tools/ftramp/jited.c \
	    tools/ftramp/disasm.c \
	    tools/ftramp/agent/session.c tools/ftramp/agent/fmt.c \
	    tools/ftramp/agent/libsel.c
CLI_LIB_SRCS := arch/arm64/insn.c arch/arm64/abi.c arch/arm64/trampoline.c \
		trampoline/model.c trampoline/model_parse.c ftrace/elf_sites.c \
		ftrace/elf_sites_common.c ftrace/site_table.c \
		ftrace/dwarf.c $(BPF_PURE_SRCS) lib/ringbuf.c lib/ringbuf_map.c \
		bpf/jit.c arch/arm64/bpf_jit.c
CLI_OBJS := $(patsubst %.c,$(CLI_DIR)/host/%.o,$(CLI_SRCS) $(CLI_LIB_SRCS))

HOST_CLI_CFLAGS := -O2 -g -std=gnu11 $(WARN) -fno-strict-aliasing \
		   $(shell pkg-config --cflags capstone 2>/dev/null)
HOST_CLI_LIBS := -ldw -lelf $(shell pkg-config --libs capstone 2>/dev/null || \
			echo -lcapstone) -lm

$(CLI_DIR)/host/%.o: %.c
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) -DFTRAMP_CLI_HOST \
		-DFTRAMP_AGENT_DIR='"$(LIBDIR)/ftramp"' \
		$(HOST_CLI_CFLAGS) -MMD -MP -c -o $@ $<

$(FTRAMP_CLI): $(CLI_OBJS)
	$(call quiet,HOSTLD,$@)$(HOSTCC) -o $@ $^ $(HOST_CLI_LIBS)

# ---------------------------------------------------------------------------
# The agent (it links libftramp-internal.a: it calls internal functions
# by name).  Initial-exec TLS: the per-thread event state is reached with
# no call into ld.so (which may allocate), so events are async-signal-safe.
# libftramp is linked in statically and its symbols kept out of the
# agent's dynamic table by agent.map, so a program that links libftramp
# itself is not interposed; only the interposers are exported.

AGENT_SRCS := $(patsubst $(srctree)/%,%,$(sort $(wildcard $(srctree)/tools/ftramp/agent/*.c)))
AGENT_OBJS := $(patsubst %.c,$(O)/%.o,$(AGENT_SRCS))
AGENT_CFLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec

$(AGENT_OBJS): $(O)/%.o: %.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(CFLAGS) $(AGENT_CFLAGS) -MMD -MP -c -o $@ $<

# The agent needs libc alone (issue 19): its sites and models come from
# the ftramp process's table (agent/table.c replaces the library's ELF and
# DWARF readers at link time), so no libelf, libdw or libz is linked, and
# -z defs makes any reference that would need one a link error.
AGENT_LIBS := -lpthread -ldl -lm

$(FTRAMP_AGENT): $(AGENT_OBJS) $(O)/libftramp-internal.a tools/ftramp/agent/agent.map
	$(call quiet,LD,$@)$(CC) -shared -Wl,-z,now -Wl,-z,defs \
		-Wl,--version-script=$(srctree)/tools/ftramp/agent/agent.map \
		-o $@ $(AGENT_OBJS) $(O)/libftramp-internal.a $(AGENT_LIBS)

.PHONY: cli agent
cli: $(FTRAMP_CLI)
agent: $(FTRAMP_AGENT)

ALL_TARGETS += $(FTRAMP_CLI) $(if $(AGENT_SRCS),$(FTRAMP_AGENT))

-include $(CLI_OBJS:.o=.d) $(AGENT_OBJS:.o=.d)

# ---------------------------------------------------------------------------
# Tests: the formatter on the host (ASan+UBSan) against printf, and the
# command end to end (selftests/cli_*.sh, TAP).

$(CLI_DIR)/fmt_test: tools/ftramp/fmt_test.c tools/ftramp/agent/fmt.c \
		     tools/ftramp/agent/fmt.h selftests/harness.h
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) $(HOST_CFLAGS) -o $@ \
		$(srctree)/tools/ftramp/fmt_test.c \
		$(srctree)/tools/ftramp/agent/fmt.c -lm

# The library search of table.c (the loader's cache, DF_1_NODEFLIB) on
# the host, run by selftests/cli_table.sh over selftests/progs/zprog*.
TABLE_TEST_SRCS := tools/ftramp/table_test.c tools/ftramp/table.c \
		   tools/ftramp/ldcache.c ftrace/site_table.c \
		   ftrace/elf_sites.c ftrace/elf_sites_common.c ftrace/dwarf.c \
		   trampoline/model.c arch/arm64/abi.c

$(CLI_DIR)/table_test: $(TABLE_TEST_SRCS) tools/ftramp/cli.h \
		       ftrace/site_table.h selftests/harness.h
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) -DFTRAMP_CLI_HOST $(HOST_CFLAGS) -o $@ \
		$(addprefix $(srctree)/,$(TABLE_TEST_SRCS)) -ldw -lelf

CHECK_EXTRA += $(CLI_DIR)/fmt_test $(CLI_DIR)/table_test $(FTRAMP_CLI) \
	       $(if $(AGENT_SRCS),$(FTRAMP_AGENT))
# cli_lib.sh is the scripts' shared helper, not a test.
CHECK_SCRIPTS += $(filter-out %/cli_lib.sh,\
		   $(sort $(wildcard $(srctree)/selftests/cli_*.sh)))

# ---------------------------------------------------------------------------
# make demo: build the sample, trace it, say where the Chrome trace is.

.PHONY: demo demo-build
demo: deps-ok
	$(Q)$(MAKE) -f $(srctree)/Makefile O=$(O) demo-build
	$(Q)O=$(O) QEMU_RUN="$(QEMU_RUN)" FTRAMP_QEMU="$(QEMU)" \
		FTRAMP_SYSROOT="$(SYSROOT)" $(srctree)/samples/demo.sh

demo-build: $(FTRAMP_CLI) $(FTRAMP_AGENT) $(O)/samples/kvstore
	@:

# ---------------------------------------------------------------------------
# make docs: every page of Documentation/ must parse; HTML when docutils
# is installed (python3-docutils), into $(O)/Documentation.

DOC_SRCS := $(sort $(wildcard $(srctree)/Documentation/*.rst))

.PHONY: docs
docs:
	$(Q)$(srctree)/tools/ftramp/rst-check.py \
		--html $(O)/Documentation $(DOC_SRCS)

# ---------------------------------------------------------------------------
# Install the command and the agent next to the library.

INSTALL_EXTRA += install -D -m 755 $(FTRAMP_CLI) $(DESTDIR)$(PREFIX)/bin/ftramp && \
	install -D -m 755 $(FTRAMP_AGENT) $(DESTDIR)$(LIBDIR)/ftramp/libftramp-agent.so;
