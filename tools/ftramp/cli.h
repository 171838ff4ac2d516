/* SPDX-License-Identifier: MIT */
/*
 * ftramp command: shared declarations of the subcommands.
 */
#ifndef FTRAMP_TOOLS_CLI_H
#define FTRAMP_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Exit statuses: 0 success, 1 a runtime failure, 2 a usage error, 125
 * when the agent cannot reach or serve the program (as the agent's own).
 */
#define EXIT_USAGE	2
#define EXIT_AGENT	125

/* The flags every traceable object must be built with. */
#define FTRAMP_BUILD_FLAGS \
	"-fpatchable-function-entry=4,2 -falign-functions=8"

extern const char *prog_name;

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_prog(int argc, char **argv);

void usage_run(FILE *f);
void usage_list(FILE *f);
void usage_dump(FILE *f);

/*
 * Check that @path is an arm64 ELF object ftramp can work with; on failure
 * print why (naming @path) and return a negative errno.  *has_sites tells
 * whether it has a __patchable_function_entries section.
 */
int cli_check_elf(const char *path, bool *has_sites);

/*
 * 1 when @path names a program interpreter (PT_INTERP: the dynamic
 * loader, which honours LD_PRELOAD), 0 when it has none (statically
 * linked), or a negative errno.
 */
int cli_has_interp(const char *path);

/* The DT_SONAME of the object at @path (malloc'ed), or NULL without one. */
char *cli_elf_soname(const char *path);

/*
 * table.c: the site-and-model table (ftrace/site_table.h) of the program
 * at @exe and of the libraries the loader will load for it, searched in
 * @lib_path (LD_LIBRARY_PATH as the program will see it), the
 * objects' DT_RPATH/DT_RUNPATH, the loader's cache and its default
 * directories, under @sysroot first (NULL on arm64 hosts); DWARF models
 * when @models.  0 and *buf (free()), *size.
 */
int cli_table_build(const char *exe, const char *sysroot,
		    const char *lib_path, bool models, void **buf,
		    size_t *size);

/*
 * table.c: the file the loader would load for the library @name (no '/'):
 * LD_LIBRARY_PATH, then the loader's cache and the default directories,
 * under @sysroot first (NULL on arm64 hosts).  A malloc'ed path, or NULL.
 */
char *cli_find_library(const char *name, const char *sysroot);

/* The arm64 sysroot: FTRAMP_SYSROOT or the default; NULL on arm64 hosts. */
const char *cli_sysroot(void);

/*
 * ldcache.c: the path the loader's cache (the @size bytes of an
 * /etc/ld.so.cache at @cache) gives for the soname @name among the
 * entries of the ABI @abi (glibc's flags: LDCACHE_AARCH64...), malloc'ed,
 * or NULL.
 */
#define LDCACHE_AARCH64	0x0a03	/* FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6 */
#define LDCACHE_X86_64	0x0303	/* FLAG_X8664_LIB64 | FLAG_ELF_LIBC6 */
char *ldcache_lookup(const void *cache, size_t size, uint32_t abi,
		     const char *name);

/* Resolve @prog like execvp(3) would; returns a malloc'ed path or NULL. */
char *cli_find_program(const char *prog);

/*
 * prog.c: parse the BPF object @path and check its programs as the
 * library's loader does: 0, or 1 with its message printed.
 */
struct ftramp_bpf_object;
struct ftramp_bpf_error;
int cli_bpf_parse(const char *path, struct ftramp_bpf_object *obj,
		  struct ftramp_bpf_error *e);

/*
 * jited.c: ftramp prog --jited: list the JIT's code of every program of
 * the parsed @obj (or of the one named @name): 0, or 1 said.
 */
int cli_prog_jited(struct ftramp_bpf_object *obj, const char *name);

/*
 * bpfrun.c: ftramp run -e.  Add (check) an object: 0 or -errno, said;
 * the BPF area's size for them; once the session exists, its area;
 * drain the ring buffers (true when a record was read); dump the maps.
 */
int cli_bpf_add(const char *path);
uint64_t cli_bpf_area_size(uint64_t page);
void cli_bpf_session(int fd, uint64_t off, uint64_t size);
bool cli_bpf_drain(FILE *out);
void cli_bpf_dump_maps(FILE *f);

/*
 * disasm.c: A64 words as text (capstone, and the LSE atomics capstone 4
 * lacks).  NULL when capstone cannot open an arm64 disassembler.
 */
struct cli_disasm;
struct cli_disasm *cli_disasm_open(void);
void cli_disasm_one(struct cli_disasm *d, uint32_t word, uint64_t pc,
		    char *mn, size_t mn_size, char *ops, size_t ops_size);
void cli_disasm_close(struct cli_disasm *d);

#endif /* FTRAMP_TOOLS_CLI_H */
