# SPDX-License-Identifier: MIT
#
# The trampoline builder (arch/arm64/abi.c, arch/arm64/trampoline.c) is
# pure: also built and tested on the host under ASan+UBSan, where the
# test disassembles emitted images with objdump.  The arm64 tests run the
# images under qemu-aarch64 -cpu max (BTI enforced, PAC on).

PURE_SRCS += arch/arm64/abi.c arch/arm64/trampoline.c
HOST_TESTS += trampoline

# Functions traced by the tests get patchable entries per function
# (attributes); the PAC test's functions sign their return addresses;
# frame records everywhere for the x29 unwinding test.
TEST_CFLAGS_trampoline := -mbranch-protection=standard -fno-omit-frame-pointer
TEST_CFLAGS_thunk := -mbranch-protection=standard
