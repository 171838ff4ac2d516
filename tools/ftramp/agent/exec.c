// SPDX-License-Identifier: MIT
/*
 * The exec family under qemu-user on a host that is not arm64.
 *
 * There the guest's execve() is the host's: an arm64 program is not a
 * host executable, and without binfmt_misc (which a test must never
 * register) the exec fails.  `ftramp run` names its qemu command and
 * sysroot in FTRAMP_EXEC_QEMU and FTRAMP_EXEC_SYSROOT (read once, at
 * start-up, before the environment is cleaned), and these interposers turn
 * an exec of an arm64 ELF into an exec of that qemu, with the same -L and
 * the sysroot's lib in front of LD_LIBRARY_PATH, as run.c starts the
 * first program.  LD_PRELOAD goes to the guest by -E, never to qemu: with
 * --follow it still names the agent, and the exec'd program is traced under
 * its pid with the same session; without, the agent removed itself from it
 * and the program runs untraced.
 *
 * glibc's execv(), execvp() and execl*() call execve() inside libc, not
 * through the PLT, so each is interposed.  Nothing here allocates: a
 * vfork() child may call it.
 */
#include <alloca.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../agent_env.h"
#include "agent.h"

#define EM_ARM64	183
#define MAX_QEMU_WORDS	16

extern char **environ;

static char qemu_cmd[PATH_MAX];
static char *qemu_words[MAX_QEMU_WORDS];
static int qemu_n;
static char sysroot[PATH_MAX];

void exec_init(void)
{
	const char *q = getenv(FTRAMP_ENV_EXEC_QEMU);
	const char *s = getenv(FTRAMP_ENV_EXEC_SYSROOT);
	char *tok, *save;

	if (!q || !*q || !s || !*s || strlen(q) >= sizeof(qemu_cmd) ||
	    strlen(s) >= sizeof(sysroot))
		return;
	strcpy(qemu_cmd, q);
	strcpy(sysroot, s);
	for (tok = strtok_r(qemu_cmd, " ", &save); tok && qemu_n < MAX_QEMU_WORDS;
	     tok = strtok_r(NULL, " ", &save))
		qemu_words[qemu_n++] = tok;
}

static bool arm64_elf_fd(int fd)
{
	unsigned char h[20];

	return pread(fd, h, sizeof(h), 0) == sizeof(h) &&
	       !memcmp(h, "\177ELF", 4) && h[4] == 2 && h[5] == 1 &&
	       (h[18] | h[19] << 8) == EM_ARM64;
}

static bool arm64_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = arm64_elf_fd(fd);
	close(fd);
	return yes;
}

static int count(char *const *v)
{
	int n = 0;

	while (v && v[n])
		n++;
	return n;
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

struct rewrite {
	char lib[2 * PATH_MAX];
	char pre[2 * PATH_MAX];
};

/* The room rewrite() needs besides the program's argv and envp. */
#define REWRITE_ARGS	(MAX_QEMU_WORDS + 12)

/*
 * An exec of @path as qemu's: 1 with @nargv and @nenv filled, 0 when
 * @path is not an arm64 program (or we are not under qemu), -errno.
 */
static int rewrite(const char *path, char *const argv[], char *const envp[],
		   char **nargv, char **nenv, struct rewrite *rw)
{
	const char *lib = env_get(envp, "LD_LIBRARY_PATH");
	const char *pre = env_get(envp, "LD_PRELOAD");
	size_t sl = strlen(sysroot);
	int n = 0, i, k = 0, len;

	if (!qemu_n || !arm64_elf(path))
		return 0;
	if (path[0] == '-')
		return -ENOENT;	/* qemu would read it as an option */
	if (lib && !strncmp(lib, sysroot, sl) && !strncmp(lib + sl, "/lib", 4) &&
	    (lib[sl + 4] == ':' || !lib[sl + 4]))
		len = snprintf(rw->lib, sizeof(rw->lib), "LD_LIBRARY_PATH=%s", lib);
	else
		len = snprintf(rw->lib, sizeof(rw->lib), "LD_LIBRARY_PATH=%s/lib%s%s",
			       sysroot, lib && *lib ? ":" : "", lib ? lib : "");
	if (len >= (int)sizeof(rw->lib) ||
	    snprintf(rw->pre, sizeof(rw->pre), "LD_PRELOAD=%s",
		     pre ? pre : "") >= (int)sizeof(rw->pre))
		return -E2BIG;
	/* qemu's -E splits at commas */
	if (strchr(rw->lib, ',') || strchr(rw->pre, ','))
		return -EINVAL;
	for (i = 0; i < qemu_n; i++)
		nargv[n++] = qemu_words[i];
	nargv[n++] = "-L";
	nargv[n++] = sysroot;
	nargv[n++] = "-E";
	nargv[n++] = rw->lib;
	if (pre && *pre) {
		nargv[n++] = "-E";
		nargv[n++] = rw->pre;
	}
	nargv[n++] = "-0";
	nargv[n++] = argv && argv[0] ? argv[0] : (char *)path;
	nargv[n++] = (char *)path;
	for (i = 1; argv && argv[0] && argv[i]; i++)
		nargv[n++] = argv[i];
	nargv[n] = NULL;
	for (i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "LD_PRELOAD=", 11) &&
		    strncmp(envp[i], "LD_LIBRARY_PATH=", 16))
			nenv[k++] = envp[i];
	nenv[k] = NULL;
	return 1;
}

static int do_execve(const char *path, char *const argv[], char *const envp[])
{
	char **nargv = alloca((count(argv) + REWRITE_ARGS) * sizeof(char *));
	char **nenv = alloca((count(envp) + 1) * sizeof(char *));
	struct rewrite rw;
	int r = rewrite(path, argv, envp, nargv, nenv, &rw);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (r)
		return syscall(SYS_execve, qemu_words[0], nargv, nenv);
	return syscall(SYS_execve, path, argv, envp);
}

/* execvp()'s search: the first executable FILE in PATH into @buf. */
static const char *search_path(const char *file, char *buf, size_t size)
{
	const char *p = getenv("PATH") ?: "/bin:/usr/bin";

	if (strchr(file, '/'))
		return file;
	for (;;) {
		size_t n = strcspn(p, ":");

		if (snprintf(buf, size, "%.*s%s%s", (int)n, p, n ? "/" : "",
			     file) < (int)size && !access(buf, X_OK))
			return buf;
		if (!p[n])
			return NULL;
		p += n + 1;
	}
}

__attribute__((visibility("default")))
int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve(path, argv, envp);
}

__attribute__((visibility("default")))
int execv(const char *path, char *const argv[])
{
	return do_execve(path, argv, environ);
}

__attribute__((visibility("default")))
int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char buf[PATH_MAX];
	const char *path = *file ? search_path(file, buf, sizeof(buf)) : NULL;

	if (!path) {
		errno = ENOENT;
		return -1;
	}
	return do_execve(path, argv, envp);
}

__attribute__((visibility("default")))
int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

__attribute__((visibility("default")))
int fexecve(int fd, char *const argv[], char *const envp[])
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return do_execve(path, argv, envp);
}

/* The NULL-terminated arguments after @arg0 into an argv on the stack (alloca: a vfork() child must not malloc). */
#define VA_ARGV(argv, arg0, last, tail)					\
	va_list ap;							\
	int argc_ = 1;							\
									\
	va_start(ap, last);						\
	while (va_arg(ap, char *))					\
		argc_++;						\
	va_end(ap);							\
	char **argv = alloca((argc_ + 1) * sizeof(char *));		\
	va_start(ap, last);						\
	argv[0] = (char *)(arg0);					\
	for (int i_ = 1; i_ <= argc_; i_++)				\
		argv[i_] = va_arg(ap, char *);				\
	tail;								\
	va_end(ap)

__attribute__((visibility("default")))
int execl(const char *path, const char *arg, ...)
{
	VA_ARGV(argv, arg, arg, (void)0);
	return do_execve(path, argv, environ);
}

__attribute__((visibility("default")))
int execlp(const char *file, const char *arg, ...)
{
	VA_ARGV(argv, arg, arg, (void)0);
	return execvpe(file, argv, environ);
}

__attribute__((visibility("default")))
int execle(const char *path, const char *arg, ...)
{
	char **envp;

	VA_ARGV(argv, arg, arg, envp = va_arg(ap, char **));
	return do_execve(path, argv, envp);
}

typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
		     const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn(const char *name, const char *path, pid_t *pid,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	spawn_fn *real = (spawn_fn *)dlsym(RTLD_NEXT, name);
	char **nargv = alloca((count(argv) + REWRITE_ARGS) * sizeof(char *));
	char **nenv = alloca((count(envp) + 1) * sizeof(char *));
	struct rewrite rw;
	int r;

	if (!real)
		return ENOSYS;
	r = path ? rewrite(path, argv, envp, nargv, nenv, &rw) : 0;
	if (r < 0)
		return -r;
	if (r)
		return ((spawn_fn *)dlsym(RTLD_NEXT, "posix_spawn"))
			(pid, qemu_words[0], fa, attr, nargv, nenv);
	return real(pid, path, fa, attr, argv, envp);
}

__attribute__((visibility("default")))
int posix_spawn(pid_t *pid, const char *path,
		const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[],
		char *const envp[])
{
	return spawn("posix_spawn", path, pid, fa, attr, argv, envp);
}

__attribute__((visibility("default")))
int posix_spawnp(pid_t *pid, const char *file,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	char buf[PATH_MAX];
	const char *path = search_path(file, buf, sizeof(buf));

	return spawn("posix_spawnp", path ? path : file, pid, fa, attr,
		     argv, envp);
}
