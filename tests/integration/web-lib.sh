# SPDX-License-Identifier: BSD-2-Clause
# The web UI tests' repository (t0034, t0035): a real bpk-repo on 127.0.0.1 with signed packages,
# a yanked version and a private feed. Source after lib.sh, then call web_repo_start.

# web_pkg DIR NAME OBJECT VERSION DESCRIPTION EXTRA: a package source directory; EXTRA is more
# manifest members, starting with a comma.
web_pkg() {
	mkdir -p "$1/bpf"
	cp "$BPK_TEST_BPF_DIR/$3.o" "$1/bpf/"
	cat >"$1/bpk.json" <<JSON
{"bpk": 1, "name": "$2", "version": "$4", "description": "$5",
 "license": "GPL-2.0-only", "authors": ["Ada <ada@example.com>"], "platforms": ["linux"],
 "source": {"url": "https://example.com/$3.git"}$6}
JSON
	printf '# %s\n\nA package of the web UI tests.\n' "$2" >"$1/README.md"
}

# web_build DIR OUT.bpk: pack and sign with the author's key.
web_build() {
	expect_code 0 "$BPK" pack "$1" -o "$2"
	expect_code 0 "$BPK" sign "$2" --key "$SCRATCH/author.pem"
}

# web_put FILE.bpk TOKEN: publish, expecting 201.
web_put() {
	code=$(curl -s -o "$SCRATCH/put.out" -w '%{http_code}' -X PUT --data-binary "@$1" \
		-H "Authorization: Bearer $2" "$BASE/v1/packages")
	[ "$code" = 201 ] || { cat "$SCRATCH/put.out"; fail "publishing '$1' answered $code"; }
}

# Sets BASE (http://127.0.0.1:PORT), KEYID (the packages' signing key), ROOT_KEYID,
# READ_TOKEN (a read token of the private feed 'acme'). lib.sh's repo_start runs the server.
web_repo_start() {
	[ -x "$BPK_REPO" ] || fail "no bpk-repo at '$BPK_REPO'"
	repo_engine_init
	cd "$SCRATCH"
	expect_code 0 "$BPK" key gen -o author
	KEYID=$(tail -n 1 out)
	data=$SCRATCH/data
	expect_code 0 bpk_repo init --data "$data"
	expect_code 0 bpk_repo feed trust public author.pub --data "$data"
	expect_code 0 bpk_repo feed create acme --private --data "$data"
	expect_code 0 bpk_repo feed trust acme author.pub --data "$data"
	expect_code 0 bpk_repo token create --feed public --scope push --data "$data"
	push=$(tail -n 1 out)
	expect_code 0 bpk_repo token create --feed public --scope yank --data "$data"
	yank=$(tail -n 1 out)
	expect_code 0 bpk_repo token create --feed acme --scope push --data "$data"
	acme_push=$(tail -n 1 out)
	expect_code 0 bpk_repo token create --feed acme --scope read --data "$data"
	READ_TOKEN=$(tail -n 1 out)

	repo_start "$data"
	BASE=$REPO_URL
	curl -sf -o "$SCRATCH/root.json" "$BASE/v1/" || fail "GET /v1/ failed"
	ROOT_KEYID=$(json_get "$SCRATCH/root.json" 'j["root_keyid"]')

	# pktcount: HTML in its description and README, a config map, declared capabilities.
	maps='"maps": [{"name": "pkts_by_len", "type": "hash", "key_size": 4, "value_size": 8,
	  "max_entries": 1024, "config": true, "description": "packet counts by <length>"},
	 {"name": "last_seen", "type": "percpu_array", "key_size": 4, "value_size": 8,
	  "max_entries": 4}]'
	for v in 1.0.0 1.1.0; do
		web_pkg "pkt-$v" pktcount xdp_counter "$v" \
			'counts packets <b>per</b> length & \"passes\" them' \
			", \"tags\": [\"counter\", \"xdp\"], \"capabilities\": [\"filter-packets\"],
			 \"requires\": {\"kernel\": \">=5.15\", \"btf\": true,
			 \"arch\": [\"x86_64\"]}, $maps"
		cat >"pkt-$v/README.md" <<'MD'
# Packet counter

Counts packets by length at **XDP** and passes every one of them on.

<script>alert("readme")</script>

```
bpk install pktcount
```

A [link that must not run](javascript:alert(1)).
MD
		web_build "pkt-$v" "pkt-$v.bpk"
		web_put "pkt-$v.bpk" "$push"
	done
	web_pkg tc tcfilter tc_classifier 0.3.0 'classifies traffic at tc' \
		', "tags": ["tc"], "requires": {"kernel": ">=6.6"}'
	web_build tc tc.bpk
	web_put tc.bpk "$push"
	web_pkg secret acme/secret xdp_echo 1.0.0 'a private package' ''
	web_build secret secret.bpk
	web_put secret.bpk "$acme_push"

	code=$(curl -s -o "$SCRATCH/yank.out" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $yank" "$BASE/v1/packages/pktcount/1.1.0/yank")
	[ "$code" = 200 ] || { cat "$SCRATCH/yank.out"; fail "yank answered $code"; }
}
