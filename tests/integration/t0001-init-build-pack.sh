#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# init -> build -> pack -> inspect -> lint for every template type, and packing is deterministic.
. "$(dirname "$0")/lib.sh"

[ -r /sys/kernel/btf/vmlinux ] || skip "no /sys/kernel/btf/vmlinux: the templates need vmlinux.h"
command -v bpftool >/dev/null || skip "bpftool is not installed"

cd "$SCRATCH"
# type, the program the template defines, the ELF section, a helper it must call
while read -r type prog section helper; do
	say "template $type"
	name="t-$type"
	expect_code 0 "$BPK" init "$name" --type "$type" --author "Test <t@example.com>"
	[ -f "$name/bpk.json" ] && [ -f "$name/README.md" ] && [ -f "$name/tests/$name.json" ] ||
		fail "init left out a file"
	expect_code 0 "$BPK" build "$name"
	[ -f "$name/bpf/$name.o" ] || fail "build wrote no bpf/$name.o"

	expect_code 0 "$BPK" inspect -j "$name/bpf/$name.o"
	cp out inspect.json
	[ "$(json_get inspect.json 'j["programs"][0]["name"]')" = "$prog" ] || fail "program name"
	[ "$(json_get inspect.json 'j["programs"][0]["section"]')" = "$section" ] || fail "section"
	[ "$(json_get inspect.json '"'"$helper"'" in j["programs"][0]["helpers"]')" = True ] ||
		fail "$helper not among the helpers of $prog"
	[ "$(json_get inspect.json 'j["btf"]')" = True ] || fail "no BTF reported"
	[ "$(json_get inspect.json 'j["core_relos"] > 0')" = True ] || fail "no CO-RE relocation reported"
	[ "$(json_get inspect.json 'j["license"]')" = GPL ] || fail "license string"

	expect_code 0 "$BPK" lint "$name"
	# The scaffolded test vector passes in the kernel (root only: loading needs it).
	if [ "$(id -u)" -eq 0 ]; then
		expect_code 0 "$BPK" test "$name"
		assert_grep "^1 passed, 0 failed, 0 skipped" out
	fi
	expect_code 0 "$BPK" pack "$name"
	assert_grep "^wrote $name/$name-0.1.0.bpk" out
	pkg="$name/$name-0.1.0.bpk"
	expect_code 0 "$BPK" lint "$pkg"
	assert_grep "0 errors" err
	expect_code 0 "$BPK" inspect "$pkg"
	assert_grep "^package +$name 0.1.0" out
	assert_grep "^  $prog\$" out
	expect_code 0 "$BPK" inspect -j "$pkg"
	[ "$(json_get out 'j["manifest"]["programs"][0]["type"]')" != "" ] || fail "no derived type"
	[ "$(json_get out 'sorted(e["path"] for e in j["entries"])')" = \
		"['README.md', 'bpf/$name.o', 'bpk.json', 'tests/$name.json']" ] || fail "entries"

	# Determinism: the same inputs pack to the same bytes, whatever the files' times.
	first=$(sha256sum "$pkg" | cut -d' ' -f1)
	touch -d '2001-01-01' "$name"/bpf/*.o "$name/README.md"
	expect_code 0 "$BPK" pack "$name" -o "$SCRATCH/again.bpk"
	[ "$(sha256sum again.bpk | cut -d' ' -f1)" = "$first" ] || fail "pack is not deterministic"
done <<'TYPES'
xdp t_xdp_xdp xdp bpf_map_lookup_elem
tc t_tc_tc tc bpf_map_lookup_elem
tracepoint t_tracepoint_execve tracepoint/syscalls/sys_enter_execve bpf_get_current_pid_tgid
kprobe t_kprobe_unlinkat kprobe/do_unlinkat bpf_get_current_task
cgroup_skb t_cgroup_skb_egress cgroup_skb/egress bpf_map_lookup_elem
TYPES

say "init refuses a bad name, a bad type and a non-empty directory"
expect_code 2 "$BPK" init "Bad Name"
expect_code 2 "$BPK" init ok --type socket
expect_code 1 "$BPK" init t-xdp
assert_grep "is not empty" err

say "build passes the compiler's errors through"
"$BPK" init broken >/dev/null
echo 'this is not C;' >> broken/src/broken.bpf.c
expect_code 1 "$BPK" build broken
assert_grep "broken.bpf.c:[0-9]+:[0-9]+: error" err
[ ! -e broken/bpf/broken.o ] || fail "a failed build left an object"
