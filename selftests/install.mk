# SPDX-License-Identifier: MIT
# The ABI (header, ftramp.map, exports), make install as a packager runs
# it, and make help.
CHECK_SCRIPTS += $(srctree)/selftests/install_pc.sh
CHECK_SCRIPTS += $(srctree)/selftests/abi_check.sh
# make help: every user target listed, nothing written.
CHECK_SCRIPTS += $(srctree)/selftests/make_help.sh
