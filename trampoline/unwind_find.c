// SPDX-License-Identifier: MIT
/*
 * libgcc's FDE lookup, interposed (trampoline/unwind.c, "Unwinding
 * through a return hook").  Alone in its file, referenced by nothing in
 * the library: libftramp.so exports it (ftramp.map, GCC_3.0), a program
 * linking libftramp.a pulls and exports it with
 * -Wl,-u,_Unwind_Find_FDE -Wl,--export-dynamic-symbol=_Unwind_Find_FDE
 * (ftramp.pc), and the CLI's agent, which hides libftramp's symbols,
 * exports its own (tools/ftramp/agent/unwind.c).
 */
#include "trampoline/unwind.h"

const void *_Unwind_Find_FDE(void *pc, void *bases);

__attribute__((visibility("default")))
const void *_Unwind_Find_FDE(void *pc, void *bases)
{
	return ftramp_unwind_find_fde(pc, bases);
}
