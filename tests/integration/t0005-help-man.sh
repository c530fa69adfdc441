#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The man page and --help agree: every command has a subsection, every option is documented,
# and the man page documents no command that bpk does not have.
. "$(dirname "$0")/lib.sh"

: "${BPK_SOURCE_ROOT:?run through meson test, which sets BPK_SOURCE_ROOT}"
MAN=$BPK_SOURCE_ROOT/docs/man/bpk.1
[ -r "$MAN" ] || fail "no man page at $MAN"
cd "$SCRATCH"

# The roff source with its escapes taken out: fonts (\fB, \f(CW), \&, the common special
# characters, then every remaining backslash, so that \-\-type reads --type.
sed -e 's/\\f[BIRP]//g' -e 's/\\f([A-Z][A-Z]//g' -e 's/\\&//g' \
	-e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\(em/--/g' -e 's/\\//g' "$MAN" >man.src

# man_commands FILE: the commands that have a subsection in the COMMANDS section, one a line.
# A subsection is titled `.SS "bpk CMD"` (or `.SS CMD`).
man_commands() {
	awk '
		/^\.SH/ { in_cmds = ($0 ~ /^\.SH[ \t]+"?COMMANDS"?[ \t]*$/); next }
		in_cmds && /^\.SS/ {
			name = $0
			sub(/^\.SS[ \t]+/, "", name); gsub(/"/, "", name); sub(/^bpk[ \t]+/, "", name)
			sub(/[ \t]+$/, "", name)
			print name
		}' "$1"
}

# man_subsection CMD FILE: the source lines of CMD's subsection of COMMANDS.
man_subsection() {
	awk -v cmd="$1" '
		/^\.S[HS]/ && in_sec { exit }
		/^\.SH/ { in_cmds = ($0 ~ /^\.SH[ \t]+"?COMMANDS"?[ \t]*$/); next }
		in_cmds && /^\.SS/ {
			name = $0
			sub(/^\.SS[ \t]+/, "", name); gsub(/"/, "", name); sub(/^bpk[ \t]+/, "", name)
			sub(/[ \t]+$/, "", name)
			in_sec = (name == cmd)
			next
		}
		in_sec { print }' "$2"
}

# has_option OPT FILE: FILE mentions the long option OPT as a whole word.
has_option() {
	grep -Eq -- "(^|[^a-zA-Z0-9-])$1([^a-zA-Z0-9-]|\$)" "$2"
}

say "bpk --help lists the commands"
expect_code 0 "$BPK" --help
cp "$SCRATCH/out" main-help
commands=$(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\)  *[^ ].*$/\1/p' main-help)
[ -n "$commands" ] || fail "bpk --help lists no command"
for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' main-help | sort -u); do
	has_option "$opt" man.src || fail "bpk --help shows $opt, which bpk.1 does not mention"
done

man_commands "$MAN" >man-commands
[ -s man-commands ] || fail "bpk.1 has no subsection in its COMMANDS section"

for cmd in $commands; do
	say "bpk $cmd --help and its subsection of bpk.1"
	expect_code 0 "$BPK" "$cmd" --help
	cp "$SCRATCH/out" "help-$cmd"
	assert_grep "^usage: bpk $cmd( |\$)" "help-$cmd"
	# `bpk help CMD` is the same text.
	expect_code 0 "$BPK" help "$cmd"
	cmp -s "$SCRATCH/out" "help-$cmd" || fail "'bpk help $cmd' differs from 'bpk $cmd --help'"

	grep -qxF -- "$cmd" man-commands || fail "bpk.1 has no subsection for command '$cmd'"
	man_subsection "$cmd" man.src >"man-$cmd"
	[ -s "man-$cmd" ] || fail "the subsection of '$cmd' in bpk.1 is empty"
	opts=$(grep -oE -- '--[a-z][a-z0-9-]*' "help-$cmd" | sort -u)
	[ -n "$opts" ] || fail "'bpk $cmd --help' shows no long option (not even --help)"
	for opt in $opts; do
		has_option "$opt" "man-$cmd" ||
			fail "'bpk $cmd --help' shows $opt, which the '$cmd' subsection of bpk.1 does not document"
	done
done

say "every command bpk.1 documents exists"
while IFS= read -r cmd; do
	printf '%s\n' $commands | grep -qxF -- "$cmd" ||
		fail "bpk.1 documents command '$cmd', which 'bpk --help' does not list"
done <man-commands

# With groff, also compare what a reader sees: the page renders without warnings, and each
# usage line and option line of --help appears word for word in the command's subsection.
if ! command -v groff >/dev/null; then
	say "groff is not installed: the rendered page is not checked"
	exit 0
fi

say "bpk.1 renders without warnings"
groff -man -ww -z "$MAN" 2>groff-warnings || fail "groff cannot format bpk.1"
[ ! -s groff-warnings ] || { cat groff-warnings; fail "groff warns about bpk.1"; }

# Plain ASCII, no hyphenation, one line per paragraph.
groff -man -Tascii -P-cbou -rLL=5000n -rHY=0 "$MAN" 2>/dev/null >man.txt
[ -s man.txt ] || fail "groff rendered nothing"

# squeeze: collapse all white space to single spaces.
squeeze() {
	tr -s ' \t\n' '   ' | sed -e 's/^ //' -e 's/ $//'
}

# rendered_subsection CMD: the rendered text of CMD's subsection, squeezed.
rendered_subsection() {
	awk -v title="bpk $1" '
		in_sec && /^(   )?[^ ]/ { exit }
		{ line = $0; sub(/^ +/, "", line); sub(/ +$/, "", line) }
		/^   [^ ]/ && line == title { in_sec = 1; next }
		in_sec { print }' man.txt | squeeze
}

synopsis=$(sed -n 's/^usage: //p' main-help | head -n 1 | squeeze)
awk '/^SYNOPSIS/ { s = 1; next } /^[A-Z]/ { s = 0 } s' man.txt | squeeze >synopsis.txt
grep -qF -- "$synopsis" synopsis.txt || fail "the SYNOPSIS of bpk.1 does not show '$synopsis'"

for cmd in $commands; do
	say "the rendered '$cmd' subsection repeats the usage and option lines of --help"
	rendered_subsection "$cmd" >"rendered-$cmd"
	[ -s "rendered-$cmd" ] || fail "no rendered subsection 'bpk $cmd' in bpk.1"
	usage=$(sed -n 's/^usage: //p' "help-$cmd" | head -n 1 | squeeze)
	grep -qF -- "$usage" "rendered-$cmd" ||
		fail "the '$cmd' subsection of bpk.1 does not show the usage line '$usage'"
	grep -E '^ +-' "help-$cmd" >"options-$cmd" || fail "'bpk $cmd --help' has no option line"
	while IFS= read -r line; do
		want=$(printf '%s\n' "$line" | squeeze)
		grep -qF -- "$want" "rendered-$cmd" ||
			fail "the '$cmd' subsection of bpk.1 does not show the option line '$want'"
	done <"options-$cmd"
done
