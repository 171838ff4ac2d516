# SPDX-License-Identifier: MIT
# The layering (Documentation/internals.rst): includes go downward only.
CHECK_SCRIPTS += $(srctree)/selftests/includes_check.sh
# libftramp.a's globals are prefixed (scripts/static-syms.sh).
CHECK_SCRIPTS += $(srctree)/selftests/symbols_check.sh
