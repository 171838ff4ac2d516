/* SPDX-License-Identifier: MIT */
/*
 * The part of LLVM XRay's runtime interface the peer benchmark uses.
 * clang's <xray/xray_interface.h> is C++ only (it includes <cstddef>);
 * the functions themselves are extern "C" in compiler-rt's XRay runtime
 * (libclang_rt.xray-aarch64.a), so they are declared here for C.
 */
#ifndef FTRAMP_BENCH_XRAY_API_H
#define FTRAMP_BENCH_XRAY_API_H

#include <stddef.h>
#include <stdint.h>

enum xray_entry_type {
	XRAY_ENTRY = 0,
	XRAY_EXIT = 1,
	XRAY_TAIL = 2,
	XRAY_LOG_ARGS_ENTRY = 3,
	XRAY_CUSTOM_EVENT = 4,
	XRAY_TYPED_EVENT = 5,
};

enum xray_patching_status {
	XRAY_NOT_INITIALIZED = 0,
	XRAY_PATCHING_SUCCESS = 1,
	XRAY_PATCHING_ONGOING = 2,
	XRAY_PATCHING_FAILED = 3,
};

/* The handler runs on entry to and on exit from every patched function. */
int __xray_set_handler(void (*entry)(int32_t func_id,
				     enum xray_entry_type type));
int __xray_remove_handler(void);
enum xray_patching_status __xray_patch(void);
enum xray_patching_status __xray_unpatch(void);
enum xray_patching_status __xray_patch_function(int32_t func_id);
enum xray_patching_status __xray_unpatch_function(int32_t func_id);
uintptr_t __xray_function_address(int32_t func_id);
/* Largest function id in use: ids are 1..__xray_max_function_id(). */
size_t __xray_max_function_id(void);

#endif /* FTRAMP_BENCH_XRAY_API_H */
