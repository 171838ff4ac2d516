// SPDX-License-Identifier: MIT
/*
 * The agent links libftramp.a with its symbols hidden (--exclude-libs),
 * so libftramp's _Unwind_Find_FDE would be invisible to libgcc_s.  This
 * one is exported (agent.map: at GCC_3.0, the version libgcc_s calls)
 * and does the same: C++ exceptions, cancellation and backtrace() find
 * the real caller of a function traced with a return hook
 * (Documentation/trampoline.rst, "Unwinding through a return hook").
 */
#include "trampoline/unwind.h"

const void *_Unwind_Find_FDE(void *pc, void *bases);

__attribute__((visibility("default")))
const void *_Unwind_Find_FDE(void *pc, void *bases)
{
	return ftramp_unwind_find_fde(pc, bases);
}
