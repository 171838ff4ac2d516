// SPDX-License-Identifier: MIT
/*
 * Text patching: compare-then-write of live instructions and literals, in
 * transactions (the userspace arch_text_poke / aarch64_insn_patch_text).
 *
 * What this file enforces, word by word, whatever the caller: the old
 * word matches; a word other threads may execute changes only between
 * instructions the Arm ARM lets be modified concurrently (B2.2.5: NOP, B,
 * BL, BRK, SVC, HVC, SMC, ISB), with one aligned single-copy atomic
 * store (B2.2.1; a literal is one 64-bit store); a word added
 * FTRAMP_POKE_UNREACHABLE is made unreachable by the commit itself (one
 * thread in the process, or every other one parked, below); phases are
 * ordered by barriers; the whole batch is all or nothing.  The states a
 * call site goes through, and why each transition the ftrace layer makes
 * is safe for a thread running the function meanwhile, are the one site
 * state table at the top of ftrace/commit.c.
 *
 * FTRAMP_POKE_UNREACHABLE (the site's one-time `nop -> mov x9, x30`):
 * B2.2.5 makes fetching such a word while it changes CONSTRAINED
 * UNPREDICTABLE, so nothing may run it.  With one thread in the process
 * (provable: only the committer could create another) nothing else runs
 * the word; with more, the phase is written under stop-machine
 * (stop_machine.c): every other thread parked in a signal handler before
 * the first write, released after the cache maintenance, each running
 * ISB on its way out, so the stop is also the phase's sync.  A thread
 * that does not park in time fails the commit with -ETIMEDOUT before
 * anything of the phase is written.  The kernel likewise writes it only
 * when nothing runs it (ftrace_init_nop() before a module's text is live)
 * or under stop_machine().  Such a word is never undone, not even by the
 * rollback of the commit that wrote it (commit_undo()).
 *
 * A commit: validate everything against memory; open every page once
 * (RWX via mprotect, never dropping PROT_EXEC, since other code on the
 * page may be running; or nothing for our own alias regions, written
 * through their alias); per phase: write, one cache maintenance pass
 * (cacheflush.h), one cross-thread synchronisation (membarrier SYNC_CORE,
 * or the signal fallback of sync_signal.c; for a phase with
 * FTRAMP_POKE_UNREACHABLE words in a multi-threaded process, the other
 * threads are parked before its first write instead); close every page.
 * A failure before the first write undoes the opened pages; a failed
 * sync undoes the written phases in reverse.  Commits are serialised by
 * text_mutex (the kernel's text_mutex): two commits never share an open
 * page.  What a page is (protection, BTI guard) comes from text_map.c.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/cacheflush.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/stop_machine.h"
#include "arch/arm64/sync_signal.h"
#include "arch/arm64/text_alloc.h"
#include "arch/arm64/text_map.h"
#include "lib/fault_inject.h"
#include "lib/lockdep.h"
#include "lib/thread.h"

struct poke_entry {
	uint64_t addr;		/* execute address */
	uint64_t old, new;
	uint32_t phase;
	uint8_t size;		/* 4 or 8 */
	uint8_t flags;		/* enum ftramp_poke_flags */
};

struct ftramp_poke_batch {
	struct poke_entry *ent;
	size_t nr, cap;
	uint32_t phase;		/* phase of the next entry */
	int err;		/* first __add*() error: sticky */
	ssize_t err_idx;	/* entry of the last error, -1: none's */
	struct ftramp_patch_stats last;
};

/* How a page is made writable for the commit. */
enum page_kind {
	PAGE_FOREIGN,		/* mprotect(prot | PROT_WRITE), then prot */
	PAGE_OWN_WINDOW,	/* ftramp_text_page_open/close() */
	PAGE_OWN_ALIAS,		/* written through the alias: no change */
};

struct poke_page {
	uint64_t addr;
	int prot;		/* PAGE_FOREIGN: protection to restore */
	bool mapped;
	int64_t alias_delta;	/* PAGE_OWN_ALIAS: rw - rx */
	enum page_kind kind;
	bool opened;
};

static pthread_mutex_t text_mutex = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(text_mutex, FTRAMP_LOCK_TEXT_POKE);
static struct ftramp_patch_stats patch_stats;	/* under text_mutex */
static unsigned long mprotect_total;		/* atomic */
static __thread unsigned long mprotect_mine;	/* this thread's calls */
static struct ftramp_patch_log *patch_log;

static pthread_once_t sync_once = PTHREAD_ONCE_INIT;
static enum ftramp_sync_method sync_method;
static struct ftramp_sync_signal_opts sync_opts;	/* under text_mutex */
static struct ftramp_stop_opts stop_opts;		/* under text_mutex */

int ftramp_arch_mprotect(void *addr, size_t len, int prot)
{
	int err = ftramp_fault("mprotect");

	__atomic_add_fetch(&mprotect_total, 1, __ATOMIC_RELAXED);
	mprotect_mine++;
	if (err)
		return err;
	return mprotect(addr, len, prot) ? -errno : 0;
}

static void log_ev(enum ftramp_patch_ev kind, uint64_t addr, uint64_t old,
		   uint64_t new)
{
	struct ftramp_patch_log *l = patch_log;

	if (__builtin_expect(!l, 1))
		return;
	if (l->nr == l->cap) {
		l->lost++;
		return;
	}
	l->ev[l->nr++] = (struct ftramp_patch_event){
		.kind = kind, .addr = addr, .old = old, .new = new,
		.parked = ftramp_stop_parked_now(),
	};
}

void ftramp_patch_set_log(struct ftramp_patch_log *log)
{
	pthread_mutex_lock(&text_mutex);
	patch_log = log;
	pthread_mutex_unlock(&text_mutex);
}

/* ------------------------------------------------------------------
 * Cross-thread synchronisation
 * ------------------------------------------------------------------ */

/* The membarrier command of a method (lib/thread.c probes it). */
static int membarrier_cmd(enum ftramp_sync_method m)
{
	return m == FTRAMP_SYNC_MEMBARRIER_SYNC_CORE ?
	       MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE :
	       MEMBARRIER_CMD_PRIVATE_EXPEDITED;
}

/* Register for `m`; 0 or -EOPNOTSUPP. */
static int membarrier_register(enum ftramp_sync_method m)
{
	return thread_membarrier_register(membarrier_cmd(m));
}

static void sync_probe(void)
{
	const char *env = getenv("FTRAMP_SYNC_TIMEOUT_MS");

	if (env && *env)
		sync_opts.timeout_ms = (unsigned int)strtoul(env, NULL, 10);
	/* One fault point call: FTRAMP_FAULT=membarrier_register:1 */
	if (ftramp_fault("membarrier_register"))
		sync_method = ftramp_sync_signal_init() ? FTRAMP_SYNC_NONE
							: FTRAMP_SYNC_SIGNAL;
	else if (!membarrier_register(FTRAMP_SYNC_MEMBARRIER_SYNC_CORE))
		sync_method = FTRAMP_SYNC_MEMBARRIER_SYNC_CORE;
	else if (!membarrier_register(FTRAMP_SYNC_MEMBARRIER_EXPEDITED))
		sync_method = FTRAMP_SYNC_MEMBARRIER_EXPEDITED;
	else if (!ftramp_sync_signal_init())
		sync_method = FTRAMP_SYNC_SIGNAL;
	else
		sync_method = FTRAMP_SYNC_NONE;
}

enum ftramp_sync_method ftramp_patch_sync_method(void)
{
	pthread_once(&sync_once, sync_probe);
	return sync_method;
}

int ftramp_patch_set_sync_method(enum ftramp_sync_method m)
{
	int err = 0;

	ftramp_patch_sync_method();
	pthread_mutex_lock(&text_mutex);
	switch (m) {
	case FTRAMP_SYNC_MEMBARRIER_SYNC_CORE:
	case FTRAMP_SYNC_MEMBARRIER_EXPEDITED:
		err = membarrier_register(m);
		break;
	case FTRAMP_SYNC_SIGNAL:
		err = ftramp_sync_signal_init();
		if (!err)
			err = ftramp_sync_signal_check();
		break;
	case FTRAMP_SYNC_NONE:
		break;
	default:
		err = -EINVAL;
	}
	if (!err)
		sync_method = m;
	pthread_mutex_unlock(&text_mutex);
	return err;
}

int ftramp_patch_sync_membarrier(void)
{
	enum ftramp_sync_method m;

	ftramp_patch_sync_method();
	m = __atomic_load_n(&sync_method, __ATOMIC_RELAXED);
	if (m != FTRAMP_SYNC_MEMBARRIER_SYNC_CORE &&
	    m != FTRAMP_SYNC_MEMBARRIER_EXPEDITED)
		return -EOPNOTSUPP;
	return thread_membarrier(membarrier_cmd(m));
}

int ftramp_patch_sync_signal(void)
{
	return ftramp_sync_signal_number();
}

void ftramp_patch_set_sync_signal_opts(const struct ftramp_sync_signal_opts *o)
{
	ftramp_patch_sync_method();	/* the probe reads the environment */
	pthread_mutex_lock(&text_mutex);
	sync_opts = *o;
	pthread_mutex_unlock(&text_mutex);
}

unsigned long ftramp_patch_sync_handler_runs(void)
{
	return ftramp_sync_signal_handler_runs();
}

void ftramp_patch_set_stop_opts(const struct ftramp_stop_opts *o)
{
	pthread_mutex_lock(&text_mutex);
	stop_opts = *o;
	pthread_mutex_unlock(&text_mutex);
}

/*
 * More than one thread that can run code here?  /proc/self/task minus an
 * emulator's helper threads (stop_machine.c).  Exactly one is a proof:
 * only this thread, busy committing, could create another.
 */
static bool multi_threaded(void)
{
	return thread_guest_count() != 1;	/* an error: assume the worst */
}

/*
 * Make every thread of the process execute a context synchronisation
 * event, so none runs instructions fetched before our writes.  With
 * FTRAMP_SYNC_NONE there is nothing to do: commit_locked() refused the
 * batches that need it.  The fault point "membarrier" fails any method.
 */
static int sync_cores(struct ftramp_patch_stats *st)
{
	int err = ftramp_fault("membarrier");

	if (err)
		return err;
	switch (sync_method) {
	case FTRAMP_SYNC_MEMBARRIER_SYNC_CORE:
	case FTRAMP_SYNC_MEMBARRIER_EXPEDITED:
		err = thread_membarrier(membarrier_cmd(sync_method));
		if (err)
			return err;
		break;
	case FTRAMP_SYNC_SIGNAL:
		err = ftramp_sync_signal(&sync_opts, st);
		if (err)
			return err;
		break;
	default:
		return 0;
	}
	st->syncs++;
	log_ev(FTRAMP_EV_SYNC, 0, 0, 0);
	return 0;
}

/* ------------------------------------------------------------------
 * Building a batch
 * ------------------------------------------------------------------ */

static int batch_fail(struct ftramp_poke_batch *b, int err)
{
	if (!b->err) {
		b->err = err;
		b->err_idx = (ssize_t)b->nr;	/* the entry being added */
	}
	return err;
}

static int batch_push(struct ftramp_poke_batch *b, uint64_t addr,
		      uint64_t old, uint64_t new, uint8_t size, uint8_t flags)
{
	if (b->nr == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct poke_entry *e;
		int err = ftramp_fault("poke_alloc");

		if (err)
			return batch_fail(b, err);
		e = realloc(b->ent, cap * sizeof(*e));
		if (!e)
			return batch_fail(b, -ENOMEM);
		b->ent = e;
		b->cap = cap;
	}
	b->ent[b->nr++] = (struct poke_entry){
		.addr = addr, .old = old, .new = new, .phase = b->phase,
		.size = size, .flags = flags,
	};
	return 0;
}

/* The word a poke of `type` to `target` (NULL: nop) stands for at ip. */
static int poke_word(uint64_t ip, enum ftramp_poke_type type, void *target,
		     uint32_t *insn)
{
	uint64_t t = (uintptr_t)target;

	if (!target) {
		*insn = A64_NOP;
		return 0;
	}
	if (t & 3)
		return -ERANGE;
	*insn = type == FTRAMP_POKE_CALL ? a64_bl(ip, t) : a64_b(ip, t);
	return *insn == A64_INSN_BAD ? -ERANGE : 0;
}

static int batch_add(struct ftramp_poke_batch *b, void *ip,
		     enum ftramp_poke_type type, void *old_addr,
		     void *new_addr)
{
	uint64_t a = (uintptr_t)ip;
	uint32_t old, new;
	int err;

	if (!ip || (a & 3) ||
	    (type != FTRAMP_POKE_CALL && type != FTRAMP_POKE_JUMP))
		return batch_fail(b, -EINVAL);
	err = poke_word(a, type, old_addr, &old);
	if (!err)
		err = poke_word(a, type, new_addr, &new);
	if (err)
		return batch_fail(b, err);
	return batch_push(b, a, old, new, 4, 0);
}

FTRAMP_API struct ftramp_poke_batch *ftramp_poke_batch__new(void)
{
	struct ftramp_poke_batch *b;
	int err = ftramp_fault("poke_alloc");

	if (err) {
		errno = -err;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		errno = ENOMEM;
	else
		b->err_idx = -1;
	return b;
}

FTRAMP_API void ftramp_poke_batch__free(struct ftramp_poke_batch *b)
{
	if (!b)
		return;
	free(b->ent);
	free(b);
}

FTRAMP_API int ftramp_poke_batch__add(struct ftramp_poke_batch *b, void *ip,
				      enum ftramp_poke_type type,
				      void *old_addr, void *new_addr)
{
	if (!b)
		return -EINVAL;
	return batch_add(b, ip, type, old_addr, new_addr);
}

FTRAMP_API int ftramp_poke_batch__add_insn(struct ftramp_poke_batch *b,
					   void *ip, uint32_t old_insn,
					   uint32_t new_insn,
					   unsigned int flags)
{
	uint64_t a = (uintptr_t)ip;

	if (!b)
		return -EINVAL;
	if (!ip || (a & 3) || (flags & ~FTRAMP_POKE_UNREACHABLE))
		return batch_fail(b, -EINVAL);
	if (!(flags & FTRAMP_POKE_UNREACHABLE) &&
	    (!a64_is_concurrent_safe(old_insn) ||
	     !a64_is_concurrent_safe(new_insn)))
		return batch_fail(b, -EILSEQ);
	return batch_push(b, a, old_insn, new_insn, 4, flags);
}

FTRAMP_API int ftramp_poke_batch__add_u64(struct ftramp_poke_batch *b,
					  void *addr, uint64_t old_val,
					  uint64_t new_val)
{
	uint64_t a = (uintptr_t)addr;

	if (!b)
		return -EINVAL;
	if (!addr || (a & 7))
		return batch_fail(b, -EINVAL);
	return batch_push(b, a, old_val, new_val, 8, 0);
}

FTRAMP_API int ftramp_poke_batch__barrier(struct ftramp_poke_batch *b)
{
	if (!b)
		return -EINVAL;
	/* Empty phases collapse: a barrier orders writes, it is not one. */
	if (b->nr && b->ent[b->nr - 1].phase == b->phase)
		b->phase++;
	return 0;
}

ssize_t ftramp_poke_batch__err_index(const struct ftramp_poke_batch *b)
{
	return b ? b->err_idx : -1;
}

FTRAMP_API size_t ftramp_poke_batch__size(const struct ftramp_poke_batch *b)
{
	return b ? b->nr : 0;
}

void ftramp_poke_batch__stats(const struct ftramp_poke_batch *b,
			      struct ftramp_patch_stats *st)
{
	if (b)
		*st = b->last;
	else
		memset(st, 0, sizeof(*st));
}

void ftramp_patch_get_stats(struct ftramp_patch_stats *st)
{
	pthread_mutex_lock(&text_mutex);
	*st = patch_stats;
	st->mprotect_calls = __atomic_load_n(&mprotect_total, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&text_mutex);
}

/* ------------------------------------------------------------------
 * Committing
 * ------------------------------------------------------------------ */

struct commit {
	struct ftramp_poke_batch *b;
	size_t *order;		/* entry indices sorted by address */
	struct poke_page *pages;
	size_t nr_pages;
	struct ftramp_patch_stats st;
	size_t err_idx;		/* validation: the entry in error */
	/* /proc/self/maps read by this commit, for pages the cache lacks */
	struct ftramp_vmmap fresh;
	bool have_fresh;
	bool cached;		/* text_map.c's cache valid for it */
	/* phases with FTRAMP_POKE_UNREACHABLE entries stop the others */
	bool stop_ready;
	struct ftramp_stop stop;
};

static int cmp_ent(const void *x, const void *y, void *arg)
{
	const struct poke_entry *ent = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;

	if (ent[i].addr != ent[j].addr)
		return ent[i].addr < ent[j].addr ? -1 : 1;
	return i < j ? -1 : i > j;
}

static uint64_t read_word(uint64_t addr, uint8_t size)
{
	if (size == 8)
		return __atomic_load_n((uint64_t *)(uintptr_t)addr,
				       __ATOMIC_RELAXED);
	return __atomic_load_n((uint32_t *)(uintptr_t)addr, __ATOMIC_RELAXED);
}

/* Keep the error of the lowest-numbered entry: the caller's first. */
static void note_err(int *err, size_t *err_idx, size_t idx, int e)
{
	if (!*err || idx < *err_idx) {
		*err = e;
		*err_idx = idx;
	}
}

static const struct poke_page *page_of(const struct commit *c, uint64_t a)
{
	uint64_t page = a & ~(ftramp_page_size() - 1);
	size_t lo = 0, hi = c->nr_pages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->pages[mid].addr == page)
			return &c->pages[mid];
		if (c->pages[mid].addr < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;	/* not reached: every entry's page is listed */
}

/*
 * Check every entry against its page (commit_pages()) and the current
 * contents, as if the entries before it had been applied.  Nothing is
 * written.
 */
static int commit_validate(struct commit *c)
{
	struct ftramp_poke_batch *b = c->b;
	struct poke_entry *ent = b->ent;
	size_t err_idx = 0;
	uint64_t expect = 0;
	int err = 0;

	for (size_t k = 0; k < b->nr; k++) {
		size_t i = c->order[k];
		struct poke_entry *e = &ent[i];
		const struct poke_page *p = page_of(c, e->addr);
		bool first = !k || ent[c->order[k - 1]].addr != e->addr;

		if (k && !first && ent[c->order[k - 1]].size != e->size) {
			note_err(&err, &err_idx, i, -EINVAL);
			continue;
		}
		/* Overlapping words of different addresses (u64 vs insn). */
		if (k && first && ent[c->order[k - 1]].addr +
				  ent[c->order[k - 1]].size > e->addr) {
			note_err(&err, &err_idx, i, -EINVAL);
			continue;
		}
		if (!p || !p->mapped) {
			note_err(&err, &err_idx, i, -ENXIO);
			continue;
		}
		if (!(p->prot & PROT_EXEC)) {
			note_err(&err, &err_idx, i, -ENOEXEC);
			continue;
		}
		if (!(p->prot & PROT_READ)) {
			/* execute-only text: we cannot compare */
			note_err(&err, &err_idx, i, -EACCES);
			continue;
		}
		if (first)
			expect = read_word(e->addr, e->size);
		if (e->size == 4 && !(e->flags & FTRAMP_POKE_UNREACHABLE) &&
		    !a64_is_concurrent_safe((uint32_t)expect)) {
			note_err(&err, &err_idx, i, -EILSEQ);
			continue;
		}
		if (expect != e->old)
			note_err(&err, &err_idx, i, -EFAULT);
		expect = e->new;
	}
	c->err_idx = err_idx;
	return err;
}

void ftramp_patch_invalidate_maps(void)
{
	pthread_mutex_lock(&text_mutex);
	ftramp_text_cache_invalidate();
	pthread_mutex_unlock(&text_mutex);
}

/*
 * A foreign page's protection and BTI verdict (1 guarded, 0 not, -1
 * unknown: ask smaps).  -ENXIO if it is not mapped.
 */
static int foreign_page(struct commit *c, uint64_t page, int *prot, int *bti)
{
	const struct ftramp_text_seg *seg = c->cached ?
					    ftramp_text_cache_seg(page) : NULL;
	const struct ftramp_vma *v;
	int err;

	if (seg) {
		v = ftramp_text_cache_vma(page);
		if (v && (v->prot & (PROT_READ | PROT_EXEC)) ==
			 (PROT_READ | PROT_EXEC)) {
			*prot = v->prot;
			*bti = seg->bti;
			return 0;
		}
	}
	if (!c->have_fresh) {
		c->st.maps_reads++;
		err = ftramp_vmmap_read(&c->fresh, false);
		if (err)
			return err;
		c->have_fresh = true;
	}
	v = ftramp_vmmap_find(&c->fresh, page);
	if (!v)
		return -ENXIO;
	*prot = v->prot;
	if (seg)
		*bti = seg->bti;
	else
		*bti = c->cached ? -1 : ftramp_text_elf_bti(page);
	return 0;
}

/*
 * The slow way, for executable pages of no loaded object (another JIT's
 * code): smaps "VmFlags: ... bt".
 */
static void smaps_bti(struct commit *c)
{
	struct ftramp_vmmap m;

	if (ftramp_vmmap_read(&m, true))
		return;
	for (size_t n = 0; n < c->nr_pages; n++) {
		struct poke_page *p = &c->pages[n];
		const struct ftramp_vma *v = ftramp_vmmap_find(&m, p->addr);

		if (p->kind == PAGE_FOREIGN && p->mapped && v &&
		    (v->prot & PROT_BTI) && ftramp_text_elf_bti(p->addr) < 0)
			p->prot |= PROT_BTI;
	}
	ftramp_vmmap_free(&m);
}

/*
 * The distinct pages of the batch, each with how it is written and the
 * protection to restore (and whether it is mapped at all: the
 * validation reports that).
 */
static int commit_pages(struct commit *c)
{
	struct ftramp_poke_batch *b = c->b;
	uint64_t ps = ftramp_page_size(), last = UINT64_MAX;
	bool need_smaps = false;

	c->pages = calloc(b->nr, sizeof(*c->pages));
	if (!c->pages)
		return -ENOMEM;
	c->cached = ftramp_text_cache_get(&c->st.maps_reads);
	for (size_t k = 0; k < b->nr; k++) {
		uint64_t page = b->ent[c->order[k]].addr & ~(ps - 1);
		struct poke_page *p;
		void *rw;
		int prot, bti, err;

		if (page == last)
			continue;
		last = page;
		p = &c->pages[c->nr_pages++];
		p->addr = page;
		if (ftramp_text_lookup((void *)(uintptr_t)page, ps, &rw,
				       &prot)) {
			p->prot = prot;
			p->mapped = true;
			if (rw) {
				p->kind = PAGE_OWN_ALIAS;
				p->alias_delta = (int64_t)((uintptr_t)rw -
							   page);
			} else {
				p->kind = PAGE_OWN_WINDOW;
			}
			continue;
		}
		p->kind = PAGE_FOREIGN;
		err = foreign_page(c, page, &prot, &bti);
		if (err == -ENXIO)
			continue;	/* commit_validate() says so */
		if (err)
			return err;
		p->mapped = true;
		p->prot = prot;
		if (!ftramp_cpu_has_bti())
			continue;
		if (bti > 0)
			p->prot |= PROT_BTI;
		else if (bti < 0 && (prot & PROT_EXEC))
			need_smaps = true;
	}
	if (need_smaps)
		smaps_bti(c);
	return 0;
}

static void commit_close(struct commit *c)
{
	for (size_t n = c->nr_pages; n-- > 0;) {
		struct poke_page *p = &c->pages[n];
		void *addr = (void *)(uintptr_t)p->addr;
		int err = 0;

		if (!p->opened)
			continue;
		if (p->kind == PAGE_FOREIGN)
			err = ftramp_arch_mprotect(addr, ftramp_page_size(),
						   p->prot);
		else if (p->kind == PAGE_OWN_WINDOW)
			err = ftramp_text_page_close(addr);
		/*
		 * The page stays RWX, still executable and with the right
		 * contents: correct, just less protected.  Counted.
		 */
		if (err)
			c->st.prot_restore_failures++;
		else
			p->opened = false;
		log_ev(FTRAMP_EV_PROT_CLOSE, p->addr, err, 0);
	}
}

static int commit_open(struct commit *c)
{
	for (size_t n = 0; n < c->nr_pages; n++) {
		struct poke_page *p = &c->pages[n];
		void *addr = (void *)(uintptr_t)p->addr;
		int err = 0;

		/* Never drop PROT_EXEC (or PROT_BTI): code here may run. */
		if (p->kind == PAGE_FOREIGN)
			err = ftramp_arch_mprotect(addr, ftramp_page_size(),
						   p->prot | PROT_WRITE);
		else if (p->kind == PAGE_OWN_WINDOW)
			err = ftramp_text_page_open(addr);
		if (err) {
			commit_close(c);
			return err;
		}
		if (p->kind != PAGE_OWN_ALIAS) {
			p->opened = true;
			log_ev(FTRAMP_EV_PROT_OPEN, p->addr, 0, 0);
		}
	}
	c->st.pages = c->nr_pages;
	return 0;
}

/* One aligned store of the right size: single-copy atomic (B2.2.1). */
static void write_word(const struct commit *c, uint64_t addr, uint64_t old,
		       uint64_t val, uint8_t size)
{
	const struct poke_page *p = page_of(c, addr);
	uint64_t dst = addr;

	if (p && p->kind == PAGE_OWN_ALIAS)
		dst = addr + p->alias_delta;
	if (size == 8) {
		__atomic_store_n((uint64_t *)(uintptr_t)dst, val,
				 __ATOMIC_RELAXED);
		log_ev(FTRAMP_EV_WRITE64, addr, old, val);
	} else {
		__atomic_store_n((uint32_t *)(uintptr_t)dst, (uint32_t)val,
				 __ATOMIC_RELAXED);
		log_ev(FTRAMP_EV_WRITE32, addr, old, val);
	}
}

/* Entries [from, to) of one phase: clean D, invalidate I, once. */
static void cache_sync(struct commit *c, size_t from, size_t to)
{
	struct poke_entry *ent = c->b->ent;
	uint64_t ctr = arm64_read_ctr();

	for (size_t i = from; i < to; i++)
		arm64_dcache_clean_pou(ctr, ent[i].addr,
				     ent[i].addr + ent[i].size);
	arm64_dsb_ish();
	for (size_t i = from; i < to; i++)
		arm64_icache_inval_pou(ctr, ent[i].addr,
				     ent[i].addr + ent[i].size);
	arm64_dsb_ish();
	arm64_isb();
	c->st.cache_syncs++;
	log_ev(FTRAMP_EV_CACHE, 0, 0, 0);
}

/*
 * Stop-machine for phases holding FTRAMP_POKE_UNREACHABLE words (a site
 * going pristine -> prepared, ftrace/commit.c): B2.2.5 lets no thread
 * execute such a word while it changes.  With one thread, nothing runs
 * it; otherwise every other thread is parked first (stop_machine.c) and
 * released after the cache maintenance.  Decided, and everything
 * allocated, before the first write: parked threads may hold any lock,
 * malloc's included.
 */
static bool phase_needs_stop(const struct commit *c, size_t start, size_t end)
{
	if (!c->stop_ready)
		return false;
	for (size_t i = start; i < end; i++)
		if (c->b->ent[i].flags & FTRAMP_POKE_UNREACHABLE)
			return true;
	return false;
}

static int stop_others(struct commit *c)
{
	int err;

	for (int tries = 0;; tries++) {
		err = ftramp_stop_begin(&c->stop, &c->st);
		if (err != -ENOSPC || tries == 3)
			break;
		/* More threads than prepared for; all released: grow. */
		ftramp_stop_free(&c->stop);
		c->stop_ready = false;
		err = ftramp_stop_prepare(&c->stop, stop_opts.timeout_ms ?:
						    sync_opts.timeout_ms);
		if (err)
			return err;
		c->stop_ready = true;
	}
	if (!err)
		log_ev(FTRAMP_EV_STOP, c->stop.parked, 0, 0);
	return err;
}

/* Nonzero: a thread left asleep ran meanwhile (stop_machine.c, 6). */
static unsigned long resume_others(struct commit *c)
{
	unsigned long woke = ftramp_stop_end(&c->stop, &c->st);

	log_ev(FTRAMP_EV_RESUME, 0, 0, 0);
	return woke;
}

/*
 * Undo the entries [0, end) in reverse, phase by phase.
 *
 * After a partial synchronisation (the signal fallback timed out: some
 * threads acknowledged, some did not), is this safe?  Every phase before
 * the failed one k was synchronised on every thread, so undoing phase k
 * is like applying it was: each word goes back between concurrently
 * modifiable values (B2.2.5), and a thread sees the old or the new one.
 * Undoing phase k - 1 next is the delicate step: a thread that never
 * synchronised may still hold a phase-k word it fetched before the undo
 * (a stale bl ftrace_caller) while its literal goes back to the NOPs.
 * Architecturally only that thread's next context synchronisation event
 * bounds this; in practice it is a few pipeline stages.  The undo of
 * phase k is followed by its own sync attempt, which for a thread still
 * not answering waits the whole timeout again: the earlier phases are
 * undone only after that thread ran for a full timeout (1 s by default)
 * past the undo, or passed through the kernel.  We accept this rather
 * than leave a half-applied batch that the caller believes undone.
 */
/*
 * FTRAMP_POKE_UNREACHABLE words are never undone: once written, another
 * thread may have executed them, and going back (mov -> nop) is no more
 * in B2.2.5's list than the way there, nor would a second stop be sure
 * to succeed where the first sync just failed.  The site stays
 * prepared (ftrace/commit.c's table), a correct state with any literal
 * and a nop at B; the caller reads the word back to know.
 */
static void commit_undo(struct commit *c, size_t end)
{
	struct poke_entry *ent = c->b->ent;

	while (end > 0) {
		size_t start = end;
		uint32_t phase = ent[end - 1].phase;

		while (start > 0 && ent[start - 1].phase == phase)
			start--;
		for (size_t i = end; i-- > start;) {
			if (ent[i].flags & FTRAMP_POKE_UNREACHABLE) {
				c->st.undo_kept++;
				continue;
			}
			write_word(c, ent[i].addr, ent[i].new, ent[i].old,
				   ent[i].size);
		}
		cache_sync(c, start, end);
		(void)sync_cores(&c->st);
		end = start;
	}
	c->st.rollbacks++;
}

static int commit_write(struct commit *c)
{
	struct poke_entry *ent = c->b->ent;
	size_t nr = c->b->nr, start = 0;
	sigset_t all, saved;

	while (start < nr) {
		size_t end = start;
		bool stop;
		int err;

		while (end < nr && ent[end].phase == ent[start].phase)
			end++;
		stop = phase_needs_stop(c, start, end);
		if (stop) {
			/*
			 * Our own handlers wait until the threads are
			 * released: one that ran traced code would execute
			 * the words being written, one that took a lock a
			 * parked thread holds would never return.
			 */
			sigfillset(&all);
			thread_real_sigmask(SIG_BLOCK, &all, &saved);
			/* Nothing of this phase is written yet. */
			err = stop_others(c);
			if (err) {
				thread_real_sigmask(SIG_SETMASK, &saved, NULL);
				if (start)
					commit_undo(c, start);
				return err;
			}
		}
		for (size_t i = start; i < end; i++)
			write_word(c, ent[i].addr, ent[i].old, ent[i].new,
				   ent[i].size);
		c->st.entries += end - start;
		c->st.phases++;
		cache_sync(c, start, end);
		if (stop) {
			/* Each parked thread runs ISB on its way out, each
			 * sleeper an exception return: the stop is this
			 * phase's synchronisation.  Unless a sleeper woke
			 * during the writes: then sync every core. */
			unsigned long woke = resume_others(c);

			thread_real_sigmask(SIG_SETMASK, &saved, NULL);
			c->st.syncs++;
			if (!woke) {
				start = end;
				continue;
			}
		}
		err = sync_cores(&c->st);
		if (err) {
			commit_undo(c, end);
			return err;
		}
		start = end;
	}
	return 0;
}

/* Will a phase need the other threads stopped?  Allocate for it now. */
static int commit_prepare_stop(struct commit *c)
{
	struct ftramp_poke_batch *b = c->b;
	bool unreachable = false;
	int err;

	for (size_t i = 0; i < b->nr && !unreachable; i++)
		unreachable = b->ent[i].flags & FTRAMP_POKE_UNREACHABLE;
	if (!unreachable || (!stop_opts.force && !multi_threaded()))
		return 0;
	err = ftramp_fault("stop_machine");
	if (!err)
		err = ftramp_stop_prepare(&c->stop, stop_opts.timeout_ms ?:
						    sync_opts.timeout_ms);
	if (err)
		return err;
	c->stop_ready = true;
	return 0;
}

static int commit_locked(struct commit *c)
{
	struct ftramp_poke_batch *b = c->b;
	int err;

	c->order = malloc(b->nr * sizeof(*c->order));
	if (!c->order)
		return -ENOMEM;
	for (size_t i = 0; i < b->nr; i++)
		c->order[i] = i;
	qsort_r(c->order, b->nr, sizeof(*c->order), cmp_ent, b->ent);

	err = commit_pages(c);
	if (!err)
		err = commit_validate(c);
	else
		c->err_idx = SIZE_MAX;
	if (err) {
		if (c->err_idx != SIZE_MAX)
			b->err_idx = (ssize_t)c->err_idx;
		return err;
	}

	/*
	 * Without membarrier, other threads may run stale instructions for
	 * a while: fine for one phase of concurrently modifiable words
	 * (B2.2.5: old or new), not for ordering phases.
	 */
	if (ftramp_patch_sync_method() == FTRAMP_SYNC_NONE &&
	    b->ent[b->nr - 1].phase != b->ent[0].phase && multi_threaded())
		return -EOPNOTSUPP;
	/* The application took over the fallback's signal: refuse before
	 * writing rather than deliver it to handlers that are not ours. */
	if (sync_method == FTRAMP_SYNC_SIGNAL) {
		err = ftramp_sync_signal_check();
		if (err)
			return err;
	}
	err = commit_prepare_stop(c);
	if (err)
		return err;

	err = commit_open(c);
	if (err)
		return err;
	err = commit_write(c);
	commit_close(c);
	return err;
}

static int batch_commit(struct ftramp_poke_batch *b)
{
	struct commit c = { .b = b };
	unsigned long mp0 = mprotect_mine;
	int err;

	if (b->err)
		return b->err;
	b->err_idx = -1;
	if (!b->nr)
		return 0;

	pthread_mutex_lock(&text_mutex);
	err = commit_locked(&c);
	c.st.mprotect_calls = mprotect_mine - mp0;
	if (err) {
		patch_stats.failed_commits++;
		/* The map may have changed behind our back: read it anew. */
		ftramp_text_cache_invalidate();
	} else {
		patch_stats.commits++;
	}
	patch_stats.maps_reads += c.st.maps_reads;
	patch_stats.entries += c.st.entries;
	patch_stats.phases += c.st.phases;
	patch_stats.pages += c.st.pages;
	patch_stats.syncs += c.st.syncs;
	patch_stats.cache_syncs += c.st.cache_syncs;
	patch_stats.rollbacks += c.st.rollbacks;
	patch_stats.undo_kept += c.st.undo_kept;
	patch_stats.prot_restore_failures += c.st.prot_restore_failures;
	patch_stats.sync_signals += c.st.sync_signals;
	patch_stats.sync_acks += c.st.sync_acks;
	patch_stats.sync_kernel += c.st.sync_kernel;
	patch_stats.sync_exited += c.st.sync_exited;
	patch_stats.sync_rescans += c.st.sync_rescans;
	patch_stats.sync_timeouts += c.st.sync_timeouts;
	patch_stats.stops += c.st.stops;
	patch_stats.stop_signals += c.st.stop_signals;
	patch_stats.stop_parked += c.st.stop_parked;
	patch_stats.stop_exited += c.st.stop_exited;
	patch_stats.stop_helpers += c.st.stop_helpers;
	patch_stats.stop_rescans += c.st.stop_rescans;
	patch_stats.stop_timeouts += c.st.stop_timeouts;
	patch_stats.stop_asleep += c.st.stop_asleep;
	patch_stats.stop_woke += c.st.stop_woke;
	patch_stats.stop_ns += c.st.stop_ns;
	if (c.stop_ready)
		ftramp_stop_free(&c.stop);
	pthread_mutex_unlock(&text_mutex);

	c.st.commits = !err;
	c.st.failed_commits = !!err;
	b->last = c.st;
	if (c.have_fresh)
		ftramp_vmmap_free(&c.fresh);
	free(c.order);
	free(c.pages);
	return err;
}

FTRAMP_API int ftramp_poke_batch__commit(struct ftramp_poke_batch *b)
{
	if (!b)
		return -EINVAL;
	return batch_commit(b);
}

FTRAMP_API int ftramp_text_poke(void *ip, enum ftramp_poke_type type,
				void *old_addr, void *new_addr)
{
	struct poke_entry one;
	struct ftramp_poke_batch b = { .ent = &one, .cap = 1, .err_idx = -1 };
	int err;

	/* A batch of one on the stack: no allocation on this path. */
	err = batch_add(&b, ip, type, old_addr, new_addr);
	if (err)
		return err;
	return batch_commit(&b);
}

/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it (ftrace/fork.c) */
void ftramp_patch_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&text_mutex);
	else
		pthread_mutex_unlock(&text_mutex);
}
