#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Each lint rule fires on a package built to break it, with its stable id, and pack refuses.
. "$(dirname "$0")/lib.sh"

OBJS=$BPK_TEST_BPF_DIR
cd "$SCRATCH"

# new_pkg DIR OBJECT [LICENSE]: a minimal valid package around one test object.
new_pkg() {
	mkdir -p "$1/bpf" "$1/tests"
	cp "$OBJS/$2.o" "$1/bpf/$2.o"
	cat >"$1/bpk.json" <<JSON
{"bpk": 1, "name": "$1", "version": "1.0.0", "description": "lint test",
 "license": "${3:-GPL-2.0-only}", "authors": ["Test"], "platforms": ["linux"],
 "source": {"url": "https://example.com/x.git"}, "requires": {"kernel": ">=5.15"}}
JSON
	printf '# %s\n\nA package made to test one lint rule. It does nothing useful at all: it counts packets\nper protocol and passes each one on, which is all a lint test needs.\n' "$1" >"$1/README.md"
	echo '{"program": "x", "cases": []}' >"$1/tests/t.json"
}

# lint_has DIR ID: `bpk lint DIR` fails and reports ID.
lint_has() {
	expect_code 1 "$BPK" lint "$1"
	assert_grep "^error $2 " err
	expect_code 1 "$BPK" lint -j "$1"
	[ "$(json_get out '"'"$2"'" in [d["id"] for d in j["diagnostics"]]')" = True ] ||
		fail "-j output lacks $2"
	expect_code 1 "$BPK" pack "$1"
	assert_grep "^error $2 " err
	ls "$1"/*.bpk >/dev/null 2>&1 && fail "pack wrote a package despite $2"
	return 0
}

say "a clean package has no error"
new_pkg clean xdp_counter
expect_code 0 "$BPK" lint clean
assert_grep "clean: 0 errors, 0 warnings" err

say "E001 manifest-syntax"
new_pkg e001 xdp_counter && echo '{"bpk": 1,' >e001/bpk.json && lint_has e001 E001
say "E002 manifest-field names the field"
new_pkg e002 xdp_counter && sed -i 's/"1.0.0"/"1.0"/' e002/bpk.json && lint_has e002 E002
assert_grep "'version': \"1.0\" is not SemVer 2.0" err
say "E003 missing-readme"
new_pkg e003 xdp_counter && rm e003/README.md && lint_has e003 E003
say "E004 missing-license"
new_pkg e004 xdp_counter "GPL-2.0-only OR BSD-2-Clause" && lint_has e004 E004
cp e004/README.md e004/LICENSE && expect_code 0 "$BPK" lint e004
say "E005 no-objects"
new_pkg e005 xdp_counter && rm e005/bpf/*.o && lint_has e005 E005
say "E009 gpl-helper-license"
new_pkg e009 proprietary_printk && lint_has e009 E009
assert_grep "calls GPL-only helper bpf_trace_printk" err
say "E010 windows-unsupported"
new_pkg e010 cgroup_skb && sed -i 's/"platforms": \["linux"\]/"platforms": ["linux", "windows"]/' e010/bpk.json
lint_has e010 E010
say "E011 unknown-section"
new_pkg e011 bogus_section && lint_has e011 E011
assert_grep "bogus/thing" err
say "E012 bad-object"
new_pkg e012 xdp_counter && cp /bin/true e012/bpf/true.o && lint_has e012 E012
assert_grep "EM_BPF" err

say "E006/E007/E008: a packed manifest goes stale when the objects change"
new_pkg stale xdp_counter
expect_code 0 "$BPK" pack stale --update-manifest
expect_code 0 "$BPK" lint stale
cp "$OBJS/tc_classifier.o" stale/bpf/xdp_counter.o
expect_code 1 "$BPK" lint stale
assert_grep "^error E006 " err
assert_grep "^error E008 " err
say "a tampered package is refused when opened"
new_pkg tamper xdp_counter && expect_code 0 "$BPK" pack tamper -o tamper.bpk
mkdir x && tar -xzf tamper.bpk -C x && echo extra >>x/README.md &&
	(cd x && tar --format=ustar -czf ../tampered.bpk bpk.json README.md bpf/*.o tests/*.json)
expect_code 1 "$BPK" lint tampered.bpk
assert_grep "E008" err
assert_grep "README.md" err

say "warnings: W003 no-tests, W004 no-source, W006 no-kernel-requirement"
new_pkg warn xdp_counter
rm -r warn/tests
echo '{"bpk": 1, "name": "warn", "version": "1.0.0", "description": "d", "license": "GPL-2.0-only", "authors": ["T"], "platforms": ["linux"]}' >warn/bpk.json
expect_code 0 "$BPK" lint warn
for id in W003 W004 W006; do assert_grep "^warning $id " err; done
expect_code 1 "$BPK" lint --strict warn
