// SPDX-License-Identifier: MIT
/*
 * A function whose DWARF says DW_AT_calling_convention DW_CC_nocall,
 * as a compiler marks one whose convention it changed (GCC 12 and
 * clang 14 here mark none, so selftests/conventions.mk adds the
 * attribute to gcc's assembly output, as an implicit constant in the
 * subprogram's abbreviation: no DIE offset moves).  Built twice: with
 * the mark (cl_nocall) and without (cl_nocall_twin).  Nine arguments,
 * the last on the stack, where DWARF cannot prove a register: the twin
 * gets its model, the marked one the unknown model (ftrace/dwarf.c).
 */
#include "clones.h"

long NOCALL_NAME(long a0, long a1, long a2, long a3, long a4, long a5,
		 long a6, long a7, long a8)
{
	return a0 + 2 * a1 + 3 * a2 + 4 * a3 + 5 * a4 + 6 * a5 + 7 * a6 +
	       8 * a7 + 9 * a8;
}
