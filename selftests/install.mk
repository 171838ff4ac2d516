# SPDX-License-Identifier: MIT
# The ABI (header, ftramp.map, exports) and make install as a packager runs it.
CHECK_SCRIPTS += $(srctree)/selftests/install_pc.sh
CHECK_SCRIPTS += $(srctree)/selftests/abi_check.sh
