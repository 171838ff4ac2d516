// SPDX-License-Identifier: MIT
/*
 * Generated code, described to debuggers (GDB's JIT interface) and
 * profilers (perf's /tmp/perf-<pid>.map).  See jitdebug.h.
 *
 * GDB JIT interface (GDB manual, "JIT Compilation Interface"): the
 * process holds a descriptor, __jit_debug_descriptor, heading a doubly
 * linked list of in-memory object files, and an empty function,
 * __jit_debug_register_code(), on which gdb sets a breakpoint.  To
 * register, link the entry, point relevant_entry at it, set action_flag
 * to JIT_REGISTER and call the function; unregister alike with
 * JIT_UNREGISTER before unlinking the memory.  gdb reads the object with
 * BFD, takes every allocated section's address as absolute, and gets its
 * minimal symbols and DWARF CFI from it.  A gdb that attaches later walks
 * the whole list, so registration costs nothing without a debugger but
 * the object's memory.
 *
 * Both symbols keep this library's hidden visibility: gdb (>= 10) looks
 * them up in every objfile's symbol table, local symbols included, and
 * handles one descriptor per objfile, so they never interpose with
 * another JIT's in the same process.  A stripped libftramp.so hides them.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/eh_frame.h"
#include "lib/lockdep.h"
#include "trampoline/jitdebug.h"

/* The GDB JIT interface, version 1, as gdb/jit.h declares it. */
enum jit_actions {
	JIT_NOACTION = 0,
	JIT_REGISTER_FN,
	JIT_UNREGISTER_FN,
};

struct jit_code_entry {
	struct jit_code_entry *next_entry;
	struct jit_code_entry *prev_entry;
	const char *symfile_addr;
	uint64_t symfile_size;
};

struct jit_descriptor {
	uint32_t version;
	uint32_t action_flag;		/* enum jit_actions */
	struct jit_code_entry *relevant_entry;
	struct jit_code_entry *first_entry;
};

void __jit_debug_register_code(void);
extern struct jit_descriptor __jit_debug_descriptor;

/*
 * gdb's breakpoint.  Never inlined, never folded, never dropped: the
 * call is the event; the empty asm keeps the stores before it.
 */
__attribute__((noinline, noipa, used)) void __jit_debug_register_code(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((used)) struct jit_descriptor __jit_debug_descriptor = {
	.version = 1,
};

struct jit_entry {
	struct jit_code_entry ce;	/* first: gdb sees only this */
	uint64_t addr;
	size_t size;
	char *obj;			/* the ELF object */
	size_t obj_size;
};

static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(jit_lock, FTRAMP_LOCK_JIT);
/* Handles index this array; NULL slots are free. */
static struct jit_entry **slots;
static int nr_slots, free_hint;

/* perf map: -1 not read yet, 0 off, 1 on. */
static int perf_on = -1;
static int perf_fd = -1;
static pid_t perf_pid;

/* ------------------------------------------------------------------
 * The ELF object
 * ------------------------------------------------------------------ */

enum {
	SEC_NULL, SEC_TEXT, SEC_FRAME, SEC_SYMTAB, SEC_STRTAB, SEC_SHSTRTAB,
	NR_SECS,
};

static const char shstrtab[] =
	"\0.text\0.debug_frame\0.symtab\0.strtab\0.shstrtab";
/* Offsets of each name in shstrtab. */
#define SHN_TEXT	1
#define SHN_FRAME	7
#define SHN_SYMTAB	20
#define SHN_STRTAB	28
#define SHN_SHSTRTAB	36

#define SYM_PREFIX	"ftramp_tramp:"

static size_t align8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

static void set_shdr(Elf64_Shdr *sh, uint32_t name, uint32_t type,
		     uint64_t flags, uint64_t addr, size_t off, size_t size)
{
	sh->sh_name = name;
	sh->sh_type = type;
	sh->sh_flags = flags;
	sh->sh_addr = addr;
	sh->sh_offset = off;
	sh->sh_size = size;
	sh->sh_addralign = type == SHT_NOBITS ? 4 : 8;
}

/*
 * A relocatable object (as LLVM's JITs hand gdb): .text is SHT_NOBITS at
 * the execute address (gdb reads the code from the process), the symbol's
 * value is its offset in .text.
 */
static char *build_object(const char *sym, uint64_t addr, size_t size,
			  const uint8_t *cfi, size_t cfi_n, size_t *objsize)
{
	size_t symlen = strlen(sym) + 1;
	size_t off_frame, off_sym, off_str, off_shstr, off_sh, total;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	Elf64_Sym *st;
	char *obj;

	off_frame = sizeof(Elf64_Ehdr);
	off_sym = align8(off_frame + cfi_n);
	off_str = off_sym + 2 * sizeof(Elf64_Sym);
	off_shstr = off_str + 1 + symlen;
	off_sh = align8(off_shstr + sizeof(shstrtab));
	total = off_sh + NR_SECS * sizeof(Elf64_Shdr);

	obj = calloc(1, total);
	if (!obj)
		return NULL;
	eh = (Elf64_Ehdr *)obj;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_REL;
	eh->e_machine = EM_AARCH64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = NR_SECS;
	eh->e_shstrndx = SEC_SHSTRTAB;
	eh->e_shoff = off_sh;

	if (cfi_n)
		memcpy(obj + off_frame, cfi, cfi_n);

	/* Symbol 0 is the null symbol; 1 the function, global. */
	st = (Elf64_Sym *)(obj + off_sym) + 1;
	st->st_name = 1;
	st->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
	st->st_other = STV_DEFAULT;
	st->st_shndx = SEC_TEXT;
	st->st_value = 0;
	st->st_size = size;
	memcpy(obj + off_str + 1, sym, symlen);
	memcpy(obj + off_shstr, shstrtab, sizeof(shstrtab));

	sh = (Elf64_Shdr *)(obj + off_sh);
	set_shdr(&sh[SEC_TEXT], SHN_TEXT, SHT_NOBITS,
		 SHF_ALLOC | SHF_EXECINSTR, addr, off_frame, size);
	set_shdr(&sh[SEC_FRAME], SHN_FRAME, SHT_PROGBITS, 0, 0, off_frame,
		 cfi_n);
	set_shdr(&sh[SEC_SYMTAB], SHN_SYMTAB, SHT_SYMTAB, 0, 0, off_sym,
		 2 * sizeof(Elf64_Sym));
	sh[SEC_SYMTAB].sh_link = SEC_STRTAB;
	sh[SEC_SYMTAB].sh_info = 1;	/* first non-local symbol */
	sh[SEC_SYMTAB].sh_entsize = sizeof(Elf64_Sym);
	set_shdr(&sh[SEC_STRTAB], SHN_STRTAB, SHT_STRTAB, 0, 0, off_str,
		 1 + symlen);
	sh[SEC_STRTAB].sh_addralign = 1;
	set_shdr(&sh[SEC_SHSTRTAB], SHN_SHSTRTAB, SHT_STRTAB, 0, 0,
		 off_shstr, sizeof(shstrtab));
	sh[SEC_SHSTRTAB].sh_addralign = 1;
	*objsize = total;
	return obj;
}

/* ------------------------------------------------------------------
 * perf map
 * ------------------------------------------------------------------ */

/* Under jit_lock.  A child after fork() writes its own pid's file. */
static void perf_map_write(const char *sym, uint64_t addr, size_t size)
{
	char path[64], line[512];
	const char *env;
	int n;

	if (perf_on < 0) {
		env = getenv("FTRAMP_PERF_MAP");
		perf_on = env && !strcmp(env, "1");
	}
	if (!perf_on)
		return;
	if (perf_fd >= 0 && perf_pid != getpid()) {
		close(perf_fd);
		perf_fd = -1;
	}
	if (perf_fd < 0) {
		perf_pid = getpid();
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)perf_pid);
		perf_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			       0644);
		if (perf_fd < 0)
			return;
	}
	/* "START SIZE name", hex without 0x: one write, appended whole. */
	n = snprintf(line, sizeof(line), "%llx %zx %s\n",
		     (unsigned long long)addr, size, sym);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(perf_fd, line, (size_t)n);
}

void ftramp_jitdebug__perf_map_reset(void)
{
	pthread_mutex_lock(&jit_lock);
	perf_on = -1;
	if (perf_fd >= 0)
		close(perf_fd);
	perf_fd = -1;
	pthread_mutex_unlock(&jit_lock);
}

/* ------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------ */

/* Under jit_lock: a free slot index, growing the array. */
static int slot_get(void)
{
	struct jit_entry **v;
	int n;

	for (int i = free_hint; i < nr_slots; i++)
		if (!slots[i])
			return i;
	n = nr_slots ? 2 * nr_slots : 16;
	v = realloc(slots, (size_t)n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v + nr_slots, 0, (size_t)(n - nr_slots) * sizeof(*v));
	slots = v;
	free_hint = nr_slots;
	nr_slots = n;
	return free_hint;
}

static void entry_free(struct jit_entry *e)
{
	free(e->obj);
	free(e);
}

/* Register [addr, addr + size) as sym with cfi_n bytes of .debug_frame. */
static int do_register(const char *sym, uint64_t addr, size_t size,
		       const uint8_t *cfi, size_t cfi_n)
{
	struct jit_descriptor *d = &__jit_debug_descriptor;
	struct jit_entry *e;
	int h;

	e = calloc(1, sizeof(*e));
	if (e)
		e->obj = build_object(sym, addr, size, cfi, cfi_n,
				      &e->obj_size);
	if (!e || !e->obj) {
		free(e);
		return -ENOMEM;
	}
	e->addr = addr;
	e->size = size;
	e->ce.symfile_addr = e->obj;
	e->ce.symfile_size = e->obj_size;

	pthread_mutex_lock(&jit_lock);
	h = slot_get();
	if (h < 0) {
		pthread_mutex_unlock(&jit_lock);
		entry_free(e);
		return h;
	}
	slots[h] = e;
	free_hint = h + 1;
	e->ce.next_entry = d->first_entry;
	if (d->first_entry)
		d->first_entry->prev_entry = &e->ce;
	d->first_entry = &e->ce;
	d->relevant_entry = &e->ce;
	d->action_flag = JIT_REGISTER_FN;
	__jit_debug_register_code();
	d->action_flag = JIT_NOACTION;
	perf_map_write(sym, addr, size);
	pthread_mutex_unlock(&jit_lock);
	return h;
}

int ftramp_jitdebug__register(const char *name, uint64_t addr, size_t size,
			      const struct a64_uw_row *rows, unsigned int nr)
{
	char *sym;
	int h;

	if (!name)
		return -EINVAL;
	if (asprintf(&sym, SYM_PREFIX "%s", name) < 0)
		return -ENOMEM;
	h = ftramp_jitdebug__register_sym(sym, addr, size, rows, nr);
	free(sym);
	return h;
}

int ftramp_jitdebug__register_sym(const char *name, uint64_t addr,
				  size_t size, const struct a64_uw_row *rows,
				  unsigned int nr)
{
	struct a64_cfi_fde fde = {
		.pc_begin = addr, .pc_range = size, .rows = rows, .nr_rows = nr,
	};
	uint8_t *cfi;
	long n;
	int h;

	if (!name || !size || addr + size < addr)
		return -EINVAL;
	if (!rows || !nr)
		return do_register(name, addr, size, NULL, 0);
	n = a64_cfi_encode(NULL, 0, &fde, A64_CFI_DEBUG_FRAME);
	if (n < 0)
		return (int)n;
	cfi = malloc((size_t)n);
	if (!cfi)
		return -ENOMEM;
	if (a64_cfi_encode(cfi, (size_t)n, &fde, A64_CFI_DEBUG_FRAME) != n) {
		free(cfi);
		return -EINVAL;
	}
	h = do_register(name, addr, size, cfi, (size_t)n);
	free(cfi);
	return h;
}

int ftramp_jitdebug__unregister(int handle)
{
	struct jit_descriptor *d = &__jit_debug_descriptor;
	struct jit_entry *e;

	pthread_mutex_lock(&jit_lock);
	if (handle < 0 || handle >= nr_slots || !slots[handle]) {
		pthread_mutex_unlock(&jit_lock);
		return -ENOENT;
	}
	e = slots[handle];
	slots[handle] = NULL;
	if (handle < free_hint)
		free_hint = handle;
	/* gdb reads the entry when told: unlink, then tell, then free. */
	if (e->ce.prev_entry)
		e->ce.prev_entry->next_entry = e->ce.next_entry;
	else
		d->first_entry = e->ce.next_entry;
	if (e->ce.next_entry)
		e->ce.next_entry->prev_entry = e->ce.prev_entry;
	d->relevant_entry = &e->ce;
	d->action_flag = JIT_UNREGISTER_FN;
	__jit_debug_register_code();
	d->action_flag = JIT_NOACTION;
	d->relevant_entry = NULL;
	pthread_mutex_unlock(&jit_lock);
	entry_free(e);
	return 0;
}

size_t ftramp_jitdebug__count(void)
{
	size_t n = 0;

	pthread_mutex_lock(&jit_lock);
	for (struct jit_code_entry *ce = __jit_debug_descriptor.first_entry;
	     ce; ce = ce->next_entry)
		n++;
	pthread_mutex_unlock(&jit_lock);
	return n;
}

int ftramp_jitdebug__info(int handle, struct ftramp_jit_entry_info *info)
{
	int err = -ENOENT;

	pthread_mutex_lock(&jit_lock);
	if (handle >= 0 && handle < nr_slots && slots[handle]) {
		struct jit_entry *e = slots[handle];

		info->addr = e->addr;
		info->size = e->size;
		info->symfile = e->obj;
		info->symfile_size = e->obj_size;
		err = 0;
	}
	pthread_mutex_unlock(&jit_lock);
	return err;
}

int ftramp_jitdebug__find(uint64_t addr)
{
	int h = -ENOENT;

	pthread_mutex_lock(&jit_lock);
	for (int i = 0; i < nr_slots; i++) {
		struct jit_entry *e = slots[i];

		if (e && addr >= e->addr && addr - e->addr < e->size) {
			h = i;
			break;
		}
	}
	pthread_mutex_unlock(&jit_lock);
	return h;
}

/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it (ftrace/fork.c) */
void ftramp_jitdebug_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&jit_lock);
	else
		pthread_mutex_unlock(&jit_lock);
}
