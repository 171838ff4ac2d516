# SPDX-License-Identifier: MIT
# The layering (Documentation/internals.rst): includes go downward only.
CHECK_SCRIPTS += $(srctree)/selftests/includes_check.sh
