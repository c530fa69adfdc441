#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The web UI without a browser: every page of a real bpk-repo fetched with curl, its content,
# escaping, yanked versions, a private feed, 404s and which paths the UI leaves to the API.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web-lib.sh"

command -v curl >/dev/null || fail "curl is needed"

# page PATH STATUS [CURL ARGS...]: GET PATH into page.html, headers into page.hdr; want STATUS.
page() {
	path=$1
	want=$2
	shift 2
	got=$(curl -s -D "$SCRATCH/page.hdr" -o "$SCRATCH/page.html" -w '%{http_code}' "$@" \
		"$BASE$path")
	if [ "$got" != "$want" ]; then
		cat "$SCRATCH/page.html"
		fail "GET $path answered $got, expected $want"
	fi
}

html_page() {
	page "$@"
	assert_grep '^Content-Type: text/html; charset=utf-8' page.hdr
	assert_grep "^Content-Security-Policy: default-src 'none'" page.hdr
	assert_fgrep '<!DOCTYPE html>' page.html
	assert_fgrep '</html>' page.html
}

say "a repository with two signed packages, a yanked version and a private feed"
web_repo_start
[[ $ROOT_KEYID =~ ^[0-9a-f]{64}$ ]] || fail "root key id '$ROOT_KEYID'"

say "the home page: search box, description, root key id, the packages"
html_page / 200
assert_fgrep '<form class="searchbox" action="/search" method="get"' page.html
assert_fgrep '<input type="search" name="q"' page.html
assert_fgrep "<code class=\"keyid\" id=\"root-keyid\">$ROOT_KEYID</code>" page.html
assert_fgrep "bpk repo add main $BASE --key $ROOT_KEYID" page.html
assert_fgrep 'href="/packages/pktcount"' page.html
assert_fgrep 'href="/packages/tcfilter"' page.html
assert_no_grep 'acme/secret' page.html
assert_fgrep 'Browse all 2 packages' page.html
assert_fgrep 'href="/static/bpk.css?v=' page.html
curl -sI "$BASE/" >"$SCRATCH/head" || fail "HEAD / failed"
assert_grep '^HTTP/1.1 200' head

say "the stylesheet"
page /static/bpk.css 200
assert_grep '^Content-Type: text/css' page.hdr
assert_fgrep '.pkg-layout' page.html

say "search: results with version, description (escaped), types and tags"
html_page '/search?q=pktcount' 200
assert_fgrep 'Packages matching &ldquo;pktcount&rdquo;' page.html
assert_fgrep '<a class="name" href="/packages/pktcount">pktcount</a>' page.html
assert_fgrep '</a> <span class="version">1.0.0</span>' page.html
assert_fgrep 'counts packets &lt;b&gt;per&lt;/b&gt; length &amp; &quot;passes&quot; them' page.html
assert_no_grep '<b>per</b>' page.html
assert_fgrep 'href="/search?type=xdp">xdp</a>' page.html
assert_fgrep 'href="/search?tag=counter">counter</a>' page.html
assert_fgrep 'value="pktcount"' page.html
assert_no_grep 'tcfilter' page.html

say "search: filters by type, tag and kernel"
html_page '/search?type=sched_cls' 200
assert_fgrep 'href="/packages/tcfilter"' page.html
assert_no_grep 'href="/packages/pktcount"' page.html
html_page '/search?tag=counter' 200
assert_fgrep 'href="/packages/pktcount"' page.html
assert_no_grep 'href="/packages/tcfilter"' page.html
html_page '/search?kernel=5.15.0' 200
assert_fgrep 'href="/packages/pktcount"' page.html
assert_no_grep 'href="/packages/tcfilter"' page.html
# The filter form sends its empty fields: they mean "any".
html_page '/search?q=&type=&tag=&kernel=' 200
assert_fgrep '2 packages &middot; 1 to 2' page.html

say "search: nothing found, paging links, a hostile query"
html_page '/search?q=nosuchpackage' 200
assert_fgrep 'No packages match.' page.html
html_page '/search?skip=1' 200
assert_fgrep '2 packages &middot; 2 to 2' page.html
assert_fgrep '<a rel="prev" href="/search">' page.html
html_page '/search?q=count+packets&skip=1' 200
assert_fgrep '<a rel="prev" href="/search?q=count%20packets">' page.html
assert_fgrep 'No more packages: 1 match in all.' page.html
html_page '/search?q=%3Cscript%3E%22x' 200
assert_fgrep 'value="&lt;script&gt;&quot;x"' page.html
assert_no_grep '<script' page.html
html_page '/search?skip=x' 400

say "the package page shows the latest version that is not yanked"
html_page /packages/pktcount 200
assert_fgrep '<h1 id="package-name">pktcount <span class="version">1.0.0</span></h1>' page.html
assert_fgrep 'counts packets &lt;b&gt;per&lt;/b&gt; length &amp; &quot;passes&quot; them' page.html

say "the README is rendered, without its raw HTML or javascript: links"
assert_fgrep '<h1>Packet counter</h1>' page.html
assert_fgrep '<strong>XDP</strong>' page.html
assert_fgrep '<!-- raw HTML omitted -->' page.html
assert_no_grep 'alert\("readme"\)' page.html
assert_no_grep 'javascript:' page.html

say "programs, maps, capabilities, kernel requirements, details"
assert_fgrep '<code>xdp_count</code>' page.html
assert_fgrep '<td><code>xdp</code></td><td>xdp</td><td>xdp</td><td>none</td>' page.html
assert_fgrep '<li><code>bpf_map_lookup_elem</code></li>' page.html
assert_fgrep '<li><code>pkts_by_len</code></li>' page.html
assert_fgrep '<tr><td><code>pkts_by_len</code></td><td>hash</td><td class="num">4</td>' page.html
assert_fgrep '1024</td><td>yes</td><td>packet counts by &lt;length&gt;</td>' page.html
assert_fgrep '<code>last_seen</code></td><td>percpu_array</td>' page.html
assert_fgrep '<code>filter-packets</code></td><td>decides the fate of packets' page.html
assert_fgrep 'Declared by the author: filter-packets' page.html
assert_fgrep '<dt>Kernel</dt><dd><code>&gt;=5.15</code></dd>' page.html
assert_fgrep '<dt>BTF</dt><dd>required</dd>' page.html
assert_fgrep '<dt>Architectures</dt><dd>x86_64</dd>' page.html
assert_fgrep '<dt>License</dt><dd>GPL-2.0-only</dd>' page.html
assert_fgrep '<dt>Authors</dt><dd>Ada &lt;ada@example.com&gt;</dd>' page.html
assert_fgrep 'href="https://example.com/xdp_counter.git"' page.html

say "signers, verification, versions with the yanked one marked, install and fetch"
assert_fgrep "<code class=\"keyid\">$KEYID</code></td><td>ed25519</td>" page.html
assert_grep '(badge verified">verified|badge failed">failed|not verified here)' page.html
assert_fgrep '<li data-yanked="true"><span><del><a href="/packages/pktcount/1.1.0">' page.html
assert_fgrep '1.1.0</a></del> <span class="badge yanked">yanked</span>' page.html
assert_fgrep 'class="current" aria-current="page"><span><a href="/packages/pktcount/1.0.0"' page.html
assert_fgrep '<code id="install-command">bpk install pktcount@1.0.0</code>' page.html
assert_fgrep '<code id="fetch-command">bpk fetch pktcount@1.0.0</code>' page.html
assert_fgrep 'href="/v1/packages/pktcount/1.0.0/package.bpk"' page.html

say "a yanked version's own page says so"
html_page /packages/pktcount/1.1.0 200
assert_fgrep '"version">1.1.0</span> <span class="badge yanked">yanked</span></h1>' page.html
assert_fgrep 'This version was yanked' page.html
assert_fgrep 'The latest version is <a href="/packages/pktcount/1.0.0">1.0.0</a>' page.html

say "a package without declared capabilities or maps config"
html_page /packages/tcfilter/0.3.0 200
assert_fgrep '<dt>Kernel</dt><dd><code>&gt;=6.6</code></dd>' page.html
assert_fgrep '<dt>BTF</dt><dd>not stated</dd>' page.html
assert_fgrep 'The author declared no capability list.' page.html

say "a private feed's package is a 404 page without its read token"
html_page /packages/acme/secret 404
assert_no_grep 'a private package' page.html
html_page /packages/acme/secret/1.0.0 404
html_page '/search?q=secret' 200
assert_fgrep 'No packages match.' page.html
html_page /packages/acme/secret 200 -H "Authorization: Bearer $READ_TOKEN"
assert_fgrep '<h1 id="package-name">acme/secret <span class="version">1.0.0</span>' page.html
assert_fgrep '</span> <span class="badge private">feed acme</span></h1>' page.html
assert_fgrep 'bpk install acme/secret@1.0.0' page.html
assert_grep '^Cache-Control: private, no-store' page.hdr
html_page '/search?q=secret' 200 -H "Authorization: Bearer $READ_TOKEN"
assert_fgrep 'href="/packages/acme/secret"' page.html

say "unknown packages and versions are HTML 404 pages"
html_page /packages/nosuch 404
assert_fgrep '<h1>Not found</h1>' page.html
html_page /packages/pktcount/9.9.9 404
html_page /packages/a/b/c 404
html_page /packages/ 404
html_page '/packages/%3Cscript%3E' 404
assert_no_grep '<script' page.html

say "paths the UI does not own keep the API's JSON answers"
page /nosuch 404
assert_grep '^Content-Type: application/json' page.hdr
assert_fgrep '"not_found"' page.html
page / 404 -X POST
assert_grep '^Content-Type: application/json' page.hdr
page /v1/packages/pktcount 200
assert_grep '^Content-Type: application/json' page.hdr

say "pages are counted in /metrics"
page /metrics 200
n=$(sed -n 's/^bpk_repo_web_pages_total \([0-9]*\).*/\1/p' page.html)
[ -n "$n" ] && [ "$n" -ge 20 ] || fail "bpk_repo_web_pages_total is '$n'"
