// SPDX-License-Identifier: MIT
/*
 * First look at a program or library named on the command line: is it an
 * arm64 ELF object, and was it built with patchable function entries?  The
 * messages here are the ones a user sees for the most common mistakes, so
 * each one says what to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *machine_name(unsigned int m)
{
	switch (m) {
	case EM_X86_64:		return "an x86-64";
	case EM_386:		return "an i386";
	case EM_ARM:		return "a 32-bit Arm";
	case EM_RISCV:		return "a RISC-V";
	case EM_PPC64:		return "a POWER";
	case EM_S390:		return "an s390";
	default:		return "a non-arm64";
	}
}

int cli_check_elf(const char *path, bool *has_sites)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Ehdr eh;
	int fd, err = 0;
	Elf *elf;

	*has_sites = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: %s", path, strerror(errno));
		return err;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		pr_err("%s: not an ELF program or shared library", path);
		err = -ENOEXEC;
		goto out;
	}
	if (eh.e_machine != EM_AARCH64) {
		pr_err("%s: %s program; ftramp works on arm64 (AArch64) code",
		       path, machine_name(eh.e_machine));
		err = -ENOEXEC;
		goto out;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		pr_err("%s: not a program or shared library (ELF type %u)",
		       path, eh.e_type);
		err = -ENOEXEC;
		goto out;
	}
	if (elf_getshdrstrndx(elf, &shstrndx)) {
		pr_err("%s: no section headers: %s", path, elf_errmsg(-1));
		err = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, "__patchable_function_entries") &&
		    sh.sh_size) {
			*has_sites = true;
			break;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int cli_has_interp(const char *path)
{
	size_t phnum;
	int fd, ret = 0;
	Elf *elf;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getphdrnum(elf, &phnum)) {
		ret = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_INTERP) {
			ret = 1;
			break;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

char *cli_elf_soname(const char *path)
{
	Elf_Scn *scn = NULL;
	char *soname = NULL;
	int fd;
	Elf *elf;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !soname && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(d, i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_SONAME)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (s)
				soname = strdup(s);
			break;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return soname;
}
