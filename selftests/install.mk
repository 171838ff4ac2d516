# SPDX-License-Identifier: MIT
# make install as a packager runs it (DESTDIR, another PREFIX), then pkg-config.
CHECK_SCRIPTS += $(srctree)/selftests/install_pc.sh
