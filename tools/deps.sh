#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian 12 packages bpk needs to build and test, only those missing.
set -eu

PACKAGES="
build-essential pkg-config meson ninja-build clang llvm lld libclang-rt-14-dev
libbpf-dev libelf-dev zlib1g-dev bpftool libxdp-dev xdp-tools
libssl-dev libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev libarchive-dev
libsqlite3-dev libpq-dev postgresql libcmark-dev libcmocka-dev
libgnutls28-dev
iproute2 iputils-ping python3 ca-certificates openssl curl
nginx-light wrk
chromium
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The web UI's browser test drives Chromium from Node.js (playwright-core from npm). A machine
# with its own Node.js (e.g. from NodeSource, which bundles npm) keeps it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q || echo "deps: apt-get update failed; trying the cached lists" >&2
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi
