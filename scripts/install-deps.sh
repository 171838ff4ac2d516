#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install everything ftramp needs to build, test, demo and benchmark on a
# Debian 12 machine (x86_64 or arm64).  Idempotent: when every package is
# present it only runs dpkg-query and exits, so make can call it freely.
#
#   scripts/install-deps.sh          install what is missing (needs root)
#   scripts/install-deps.sh --check  exit 1 if something is missing, print it
set -euo pipefail

host_arch=$(dpkg --print-architecture)

# Host packages: the cross toolchain, qemu user mode, host-side libraries for
# the CLI (libelf for `ftramp list`, capstone for `ftramp dump`) and clang for
# the fuzzers, the clang-built selftests and the XRay peer benchmark.
# g++ (cross on x86): the C++ selftests that throw through trampolines.
host_pkgs=(
	make gcc clang llvm lld binutils python3 python3-docutils pkg-config libclang-rt-14-dev
	gdb-multiarch
	libelf-dev libdw-dev libcapstone-dev zlib1g-dev
	libbpf-dev
)
# arm64 target libraries (Debian multiarch on x86, plain on arm64).
# libbz2-dev: libbz2.a, which static libdw needs (selftests/static.mk;
# libelf.a, libdw.a, libz.a and liblzma.a come with the others).
target_pkgs=(libelf-dev libdw-dev zlib1g-dev libbz2-dev libclang-rt-14-dev)

if [ "$host_arch" != arm64 ]; then
	host_pkgs+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
		    binutils-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
	for p in "${target_pkgs[@]}"; do host_pkgs+=("$p:arm64"); done
else
	host_pkgs+=(g++ "${target_pkgs[@]}")
fi

# One dpkg-query for everything: "name:arch" of each installed package.
# Multi-Arch: same packages (libelf-dev...) are installed for both
# architectures, so a bare name is checked as name:<host arch> or name:all.
installed=" $(dpkg-query -W -f='${Package}:${Architecture}=${db:Status-Status} ' 2>/dev/null) "
missing=()
for p in "${host_pkgs[@]}"; do
	case $p in
	*:*)	[[ $installed == *" $p=installed "* ]] || missing+=("$p") ;;
	*)	[[ $installed == *" $p:$host_arch=installed "* ||
		   $installed == *" $p:all=installed "* ]] || missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "missing: ${missing[*]}"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ "$host_arch" != arm64 ] &&
   ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
