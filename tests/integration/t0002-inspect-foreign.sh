#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Inspection works on objects bpk did not build: Debian's xdp-tools objects and test programs.
. "$(dirname "$0")/lib.sh"

XDP_TOOLS_DIR=/usr/lib/x86_64-linux-gnu/bpf
ls "$XDP_TOOLS_DIR"/*.o >/dev/null 2>&1 || skip "xdp-tools objects are not installed in $XDP_TOOLS_DIR"

cd "$SCRATCH"
for obj in "$XDP_TOOLS_DIR"/*.o; do
	expect_code 0 "$BPK" inspect "$obj"
	assert_grep "^sha256 +$(sha256sum "$obj" | cut -d' ' -f1)\$" out
	expect_code 0 "$BPK" inspect -j "$obj"
	json_get out 'len(j["programs"])' >/dev/null
done

say "xdpfilt_alw_all.o: one XDP program, its maps, BTF"
expect_code 0 "$BPK" inspect -j "$XDP_TOOLS_DIR/xdpfilt_alw_all.o"
[ "$(json_get out 'j["programs"][0]["type"]')" = xdp ] || fail "type"
[ "$(json_get out 'j["btf"]')" = True ] || fail "btf"
[ "$(json_get out '"bpf_map_lookup_elem" in j["programs"][0]["helpers"]')" = True ] || fail "helpers"

say "xdp-dispatcher.o is reported with its program"
expect_code 0 "$BPK" inspect -j "$XDP_TOOLS_DIR/xdp-dispatcher.o"
[ "$(json_get out 'j["programs"][0]["name"]')" = xdp_dispatcher ] || fail "dispatcher name"
