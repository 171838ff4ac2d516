#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `make install` as a packager runs it: build once, then install into a
# DESTDIR with another PREFIX.  The installed ftramp.pc must name that
# prefix, and a program built with `pkg-config --cflags --libs ftramp`
# against the staged tree must link and run.
#
# The runner gives O, CC (the target compiler) and QEMU_RUN.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
CC=${CC:-gcc}
plan 6

# A packager's make, not one under make check's jobserver.
pmake() {
	MAKEFLAGS= MFLAGS= make -s -C "$SRC" O="$O" "$@"
}

root=$TMP/root
pmake DESTDIR="$root" PREFIX=/usr install >"$TMP/install.log" 2>&1
result "make install DESTDIR=... PREFIX=/usr" $?
sed 's/^/# /' "$TMP/install.log"

# The same build installed again with another prefix says that one: the
# file is written by the install, not by the build.
pmake DESTDIR="$TMP/opt" PREFIX=/opt/ftramp install >"$TMP/install2.log" 2>&1 &&
	grep -qx 'prefix=/opt/ftramp' "$TMP/opt/opt/ftramp/lib/pkgconfig/ftramp.pc"
result "installed again with PREFIX=/opt/ftramp, ftramp.pc says so" $?
sed 's/^/# /' "$TMP/install2.log"

pc=$root/usr/lib/pkgconfig/ftramp.pc
grep -qx 'prefix=/usr' "$pc" 2>/dev/null && grep -qx 'libdir=/usr/lib' "$pc"
result "the installed ftramp.pc says prefix=/usr, libdir=/usr/lib" $?

export PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
flags=$(pkg-config --cflags --libs ftramp 2>&1)
status=$?
[ "$flags" != "${flags#*-I$root/usr/include}" ] && [ "$flags" != "${flags#*-L$root/usr/lib}" ]
result "pkg-config --cflags --libs ftramp points into the staged tree" $(( status || $? ))
echo "# $flags"

cat >"$TMP/hello.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ftramp/ftramp.h>

int main(void)
{
	char buf[64];

	if (ftramp_strerror(-ENOENT, buf, sizeof(buf)) < 0 || !*buf)
		return 1;
	printf("ftramp %s\n", ftramp_version());
	return 0;
}
C
# shellcheck disable=SC2086
$CC -o "$TMP/hello" "$TMP/hello.c" $flags -Wl,-rpath,"$root/usr/lib" >"$TMP/cc.log" 2>&1
result "a program builds with the pkg-config flags" $?
sed 's/^/# /' "$TMP/cc.log"

# shellcheck disable=SC2086
out=$(${QEMU_RUN:-} "$TMP/hello" 2>&1)
[ $? -eq 0 ] && [ "$out" = "ftramp $(sed -n 's/^VERSION[[:space:]]*:= *//p' "$SRC/Makefile")" ]
result "it runs against the installed libftramp.so ($out)" $?

finish
