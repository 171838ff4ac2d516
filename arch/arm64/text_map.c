// SPDX-License-Identifier: MIT
/*
 * The process's text as the kernel and the loader describe it
 * (text_map.h): the page size, snapshots of /proc/self/maps, which text
 * is BTI-guarded (the objects' GNU property notes, or smaps), and the
 * cache of loaded objects' executable segments that makes a small patch
 * commit cost only its own pages.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arm64/text_map.h"
#include "lib/fault_inject.h"
#include "lib/phdr.h"

#ifndef HWCAP2_BTI
#define HWCAP2_BTI	(1 << 17)
#endif
#ifndef PT_GNU_PROPERTY
#define PT_GNU_PROPERTY				0x6474e553
#endif
#ifndef NT_GNU_PROPERTY_TYPE_0
#define NT_GNU_PROPERTY_TYPE_0			5
#endif
#ifndef GNU_PROPERTY_AARCH64_FEATURE_1_AND
#define GNU_PROPERTY_AARCH64_FEATURE_1_AND	0xc0000000
#endif
#ifndef GNU_PROPERTY_AARCH64_FEATURE_1_BTI
#define GNU_PROPERTY_AARCH64_FEATURE_1_BTI	(1u << 0)
#endif

size_t ftramp_page_size(void)
{
	static size_t page_size;

	if (!page_size) {
		long ps = sysconf(_SC_PAGESIZE);

		page_size = ps > 0 ? (size_t)ps : 4096;
	}
	return page_size;
}

/* ------------------------------------------------------------------
 * The process's mappings
 * ------------------------------------------------------------------ */

static int vma_cmp(const void *a, const void *b)
{
	const struct ftramp_vma *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);
	int fd;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			close(fd);
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Hex digits at *p, advancing it; false if there are none or too many. */
static bool parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	for (;; s++, n++) {
		unsigned int c = (unsigned char)*s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (n == 16)
			return false;
		v = v << 4 | d;
	}
	if (!n)
		return false;
	*p = s;
	*out = v;
	return true;
}

/*
 * Parse "start-end perms offset dev inode [path]" at the start of a
 * maps/smaps line (proc(5)).  By hand rather than sscanf(): the patcher
 * reads the maps on every commit, and with thousands of trampolines the
 * C library's scanner was the largest cost of an attach.
 */
static bool parse_vma_line(const char *line, struct ftramp_vma *v)
{
	const char *p = line, *path;
	uint64_t s, e;

	if (!parse_hex(&p, &s) || *p++ != '-' || !parse_hex(&p, &e) ||
	    *p++ != ' ' || s >= e)
		return false;
	if (!p[0] || !p[1] || !p[2] || !p[3] || p[4] != ' ')
		return false;
	memset(v, 0, sizeof(*v));
	v->start = s;
	v->end = e;
	if (p[0] == 'r')
		v->prot |= PROT_READ;
	if (p[1] == 'w')
		v->prot |= PROT_WRITE;
	if (p[2] == 'x')
		v->prot |= PROT_EXEC;
	/* Pseudo-paths start with '[': "[stack]", "[stack:tid]", "[heap]". */
	path = strchr(p + 5, '[');
	if (path) {
		v->stack = !strncmp(path, "[stack", 6);
		v->heap = !strncmp(path, "[heap]", 6);
	}
	return true;
}

/*
 * smaps tells which mappings are BTI-guarded ("VmFlags: ... bt"); maps
 * does not, and an mprotect() without PROT_BTI would drop the guard.
 * Best effort: where smaps is missing or says nothing, no BTI.
 */
static void vmmap_add_bti(struct ftramp_vmmap *m)
{
	struct ftramp_vma cur, *hit = NULL;
	char *buf, *line, *next;
	size_t len;

	if (read_file("/proc/self/smaps", &buf, &len))
		return;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (parse_vma_line(line, &cur)) {
			hit = (struct ftramp_vma *)ftramp_vmmap_find(m,
								cur.start);
			if (hit && hit->start != cur.start)
				hit = NULL;
		} else if (hit && !strncmp(line, "VmFlags:", 8) &&
			   strstr(line, " bt")) {
			hit->prot |= PROT_BTI;
		}
	}
	free(buf);
}

int ftramp_vmmap_read(struct ftramp_vmmap *m, bool want_bti)
{
	char *buf, *line, *next;
	size_t len, cap = 64;
	int err;

	memset(m, 0, sizeof(*m));
	err = ftramp_fault("vmmap");
	if (err)
		return err;
	err = read_file("/proc/self/maps", &buf, &len);
	if (err)
		return err;
	m->vma = malloc(cap * sizeof(*m->vma));
	if (!m->vma) {
		free(buf);
		return -ENOMEM;
	}
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (m->nr == cap) {
			struct ftramp_vma *nv;

			nv = realloc(m->vma, 2 * cap * sizeof(*nv));
			if (!nv) {
				free(buf);
				ftramp_vmmap_free(m);
				return -ENOMEM;
			}
			m->vma = nv;
			cap *= 2;
		}
		if (parse_vma_line(line, &m->vma[m->nr]))
			m->nr++;
	}
	free(buf);
	/* The kernel lists them in order: sort only if it ever did not. */
	for (size_t i = 1; i < m->nr; i++) {
		if (m->vma[i - 1].start > m->vma[i].start) {
			qsort(m->vma, m->nr, sizeof(*m->vma), vma_cmp);
			break;
		}
	}
	if (want_bti)
		vmmap_add_bti(m);
	return 0;
}

void ftramp_vmmap_free(struct ftramp_vmmap *m)
{
	free(m->vma);
	m->vma = NULL;
	m->nr = 0;
}

const struct ftramp_vma *ftramp_vmmap_find(const struct ftramp_vmmap *m,
					   uint64_t addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->vma[mid].start)
			hi = mid;
		else if (addr >= m->vma[mid].end)
			lo = mid + 1;
		else
			return &m->vma[mid];
	}
	return NULL;
}

/* ------------------------------------------------------------------
 * BTI: which text is guarded
 * ------------------------------------------------------------------ */

bool ftramp_cpu_has_bti(void)
{
	return getauxval(AT_HWCAP2) & HWCAP2_BTI;
}

/*
 * Does a GNU property note (the contents of PT_GNU_PROPERTY) mark the
 * object BTI-compatible?  Bounds-checked: the note is the object's, not
 * ours to trust.
 */
static bool note_has_bti(const uint8_t *p, size_t len)
{
	while (len >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *n = (const void *)p;
		size_t name = (n->n_namesz + 3) & ~3ul;
		size_t desc = (n->n_descsz + 7) & ~7ul;
		const uint8_t *d = p + sizeof(*n) + name;
		size_t off = 0;

		if (sizeof(*n) + name > len || desc > len - sizeof(*n) - name)
			return false;
		if (n->n_type == NT_GNU_PROPERTY_TYPE_0 && n->n_namesz == 4 &&
		    !memcmp(p + sizeof(*n), "GNU", 4)) {
			while (off + 8 <= n->n_descsz) {
				uint32_t type, size, bits;

				memcpy(&type, d + off, 4);
				memcpy(&size, d + off + 4, 4);
				if (size > n->n_descsz - off - 8)
					break;
				if (type == GNU_PROPERTY_AARCH64_FEATURE_1_AND &&
				    size == 4) {
					memcpy(&bits, d + off + 8, 4);
					return bits &
					       GNU_PROPERTY_AARCH64_FEATURE_1_BTI;
				}
				off += 8 + ((size + 7) & ~7u);
			}
		}
		p += sizeof(*n) + name + desc;
		len -= sizeof(*n) + name + desc;
	}
	return false;
}

struct bti_query {
	uint64_t addr;
	int bti;		/* 1 guarded, 0 not, -1 not an ELF text */
};

static int bti_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct bti_query *q = data;
	const ElfW(Phdr) *prop = NULL;
	bool hit = false;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    q->addr + ftramp_page_size() > start &&
		    q->addr < start + ph->p_memsz)
			hit = true;
		if (ph->p_type == PT_GNU_PROPERTY)
			prop = ph;
	}
	if (!hit)
		return 0;
	q->bti = prop && note_has_bti((const uint8_t *)(uintptr_t)
				      (info->dlpi_addr + prop->p_vaddr),
				      prop->p_memsz);
	return 1;
}

/*
 * Is this text page BTI-guarded?  /proc/self/maps does not say, and an
 * mprotect() without PROT_BTI would silently drop the guard.  The loader
 * (kernel for the program, ld.so for libraries) maps the executable
 * segments of objects whose GNU property note has FEATURE_1_BTI with
 * PROT_BTI when the CPU has it, so the object's note answers, cheaply.
 * -1: not the text of a loaded object (ask smaps).
 */
int ftramp_text_elf_bti(uint64_t page)
{
	struct bti_query q = { .addr = page, .bti = -1 };

	ftramp_dl_iterate_phdr(bti_cb, &q);
	return q.bti;
}

int ftramp_text_bti(uint64_t addr)
{
	if (!ftramp_cpu_has_bti())
		return 0;
	return ftramp_text_elf_bti(addr & ~(ftramp_page_size() - 1));
}

/* ------------------------------------------------------------------
 * The text-segment cache
 * ------------------------------------------------------------------ */

/*
 * What a commit needs to know about the pages of loaded objects' text,
 * cached across commits (patching.c, under its text_mutex): a snapshot of
 * /proc/self/maps and every executable segment with its BTI verdict.
 * Reading the maps (emulated by QEMU, and as long as the process has
 * mappings: every trampoline region is one) and walking the objects for
 * each page cost far more than the writes of a small commit; with the
 * cache a commit costs what its own pages cost.
 *
 * Valid while no object was loaded or unloaded (dl_iterate_phdr()'s
 * dlpi_adds / dlpi_subs, read in O(1): the first object answers) and no
 * commit failed.  Only pages inside a cached segment are answered from
 * it, and only when the cached mapping is readable and executable:
 * such text cannot go away without a dlclose().  Anything else (another
 * JIT's code, a page the snapshot does not show as text) is read fresh,
 * once per commit, so an error is always reported from a fresh read.
 * Our own regions never get here (ftramp_text_lookup()).
 */
static struct {
	bool valid;
	unsigned long long adds, subs;
	struct ftramp_text_seg *seg;
	size_t nr_seg, cap_seg;
	int err;
	struct ftramp_vmmap maps;
} tcache;

static int gen_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long long *g = data;

	if (size < offsetof(struct dl_phdr_info, dlpi_subs) +
		   sizeof(info->dlpi_subs))
		return -1;	/* no counters: never cache */
	g[0] = info->dlpi_adds;
	g[1] = info->dlpi_subs;
	return 1;
}

static int seg_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	const ElfW(Phdr) *prop = NULL;
	uint64_t ps = ftramp_page_size();
	bool bti;

	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_GNU_PROPERTY)
			prop = &info->dlpi_phdr[i];
	bti = prop && note_has_bti((const uint8_t *)(uintptr_t)
				   (info->dlpi_addr + prop->p_vaddr),
				   prop->p_memsz);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) ||
		    !ph->p_memsz)
			continue;
		if (tcache.nr_seg == tcache.cap_seg) {
			size_t cap = tcache.cap_seg ? 2 * tcache.cap_seg : 16;
			struct ftramp_text_seg *v = realloc(tcache.seg,
						     cap * sizeof(*v));

			if (!v) {
				tcache.err = -ENOMEM;
				return 1;
			}
			tcache.seg = v;
			tcache.cap_seg = cap;
		}
		tcache.seg[tcache.nr_seg++] = (struct ftramp_text_seg){
			.start = start & ~(ps - 1),
			.end = (start + ph->p_memsz + ps - 1) & ~(ps - 1),
			.bti = bti,
		};
	}
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct ftramp_text_seg *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void ftramp_text_cache_invalidate(void)
{
	tcache.valid = false;
}

bool ftramp_text_cache_get(unsigned long *maps_reads)
{
	unsigned long long g[2];

	if (ftramp_dl_iterate_phdr(gen_cb, g) != 1) {
		tcache.valid = false;
		return false;
	}
	if (tcache.valid && g[0] == tcache.adds && g[1] == tcache.subs)
		return true;
	tcache.valid = false;
	ftramp_vmmap_free(&tcache.maps);
	tcache.nr_seg = 0;
	tcache.err = 0;
	ftramp_dl_iterate_phdr(seg_cb, NULL);
	if (tcache.err)
		return false;
	qsort(tcache.seg, tcache.nr_seg, sizeof(tcache.seg[0]), seg_cmp);
	(*maps_reads)++;
	if (ftramp_vmmap_read(&tcache.maps, false))
		return false;
	tcache.adds = g[0];
	tcache.subs = g[1];
	tcache.valid = true;
	return true;
}

const struct ftramp_text_seg *ftramp_text_cache_seg(uint64_t page)
{
	size_t lo = 0, hi = tcache.nr_seg;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (page >= tcache.seg[mid].end)
			lo = mid + 1;
		else if (page < tcache.seg[mid].start)
			hi = mid;
		else
			return &tcache.seg[mid];
	}
	return NULL;
}

const struct ftramp_vma *ftramp_text_cache_vma(uint64_t page)
{
	return ftramp_vmmap_find(&tcache.maps, page);
}
