/* SPDX-License-Identifier: MIT */
/*
 * The environment through which `ftramp run` configures the preload agent.
 * Both sides include this file; the names are also documented in
 * Documentation/cli.rst for people who preload the agent by hand.
 *
 * Lists are separated by commas; each element is a glob (fnmatch(3)) on
 * the site name (`sym`, or `sym@lib` with lib any of the library's names:
 * agent/libsel.h).
 */
#ifndef FTRAMP_TOOLS_AGENT_ENV_H
#define FTRAMP_TOOLS_AGENT_ENV_H

#define FTRAMP_ENV_TRACE	"FTRAMP_TRACE"		/* -t GLOB,... */
#define FTRAMP_ENV_HIST		"FTRAMP_HIST"		/* --hist GLOB,... */
#define FTRAMP_ENV_COUNT	"FTRAMP_COUNT"		/* --count GLOB,... */
#define FTRAMP_ENV_OVERRIDE	"FTRAMP_OVERRIDE"	/* FUNC=VALUE,... */
#define FTRAMP_ENV_NOTRACE	"FTRAMP_NOTRACE"	/* -N GLOB,...: none of these */
#define FTRAMP_ENV_SESSION	"FTRAMP_SESSION"	/* the session file */
#define FTRAMP_ENV_BPF		"FTRAMP_BPF"		/* -e OBJ,... paths */
#define FTRAMP_ENV_BPF_ENGINE	"FTRAMP_BPF_ENGINE"	/* auto|jit|interp */
#define FTRAMP_ENV_FOLLOW	"FTRAMP_FOLLOW"		/* 1: trace exec'd */
/* LD_LIBRARY_PATH as the user had it ("": unset), restored by the agent */
#define FTRAMP_ENV_LD_LIBRARY_PATH "FTRAMP_LD_LIBRARY_PATH"
/* qemu's command and sysroot, for an exec of arm64 programs (agent/exec.c) */
#define FTRAMP_ENV_EXEC_QEMU	"FTRAMP_EXEC_QEMU"
#define FTRAMP_ENV_EXEC_SYSROOT	"FTRAMP_EXEC_SYSROOT"
#define FTRAMP_ENV_FAR		"FTRAMP_FAR"		/* 1: far trampolines */
#define FTRAMP_ENV_STRLEN	"FTRAMP_STRLEN"		/* string argument cap */
#define FTRAMP_ENV_HEXDUMP	"FTRAMP_HEXDUMP"	/* bytes behind pointers */
#define FTRAMP_ENV_PEEK		"FTRAMP_PEEK"		/* tests: vm|write|futex */
#define FTRAMP_ENV_VERBOSE	"FTRAMP_VERBOSE"	/* 1: say what attached */

/* The only list separator: globs and function names never contain it. */
#define FTRAMP_ENV_SEP		','

#define FTRAMP_AGENT_NAME	"libftramp-agent.so"

#endif /* FTRAMP_TOOLS_AGENT_ENV_H */
