#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A throwaway PostgreSQL server for the tests (DESIGN.md §5, §9: the same tests on both engines).
#
#   tools/pg.sh start DIR   initdb into DIR, listen on a unix socket in DIR and on 127.0.0.1 at a
#                           free port, create role and database "bpk", print the URL
#                           postgresql://bpk:PASSWORD@127.0.0.1:PORT/bpk on the last line
#   tools/pg.sh stop DIR    stop it (fast shutdown) and remove DIR
#
# initdb refuses to run as root, so the server runs as the "postgres" user (or "nobody" when
# there is none) and DIR is handed to that user. The role "bpk" may create databases, so each
# test can make its own (CREATE DATABASE through psql on the URL) and runs do not see each other.
set -eu

PG_BIN=${BPK_PG_BIN:-/usr/lib/postgresql/15/bin}

die() {
	echo "error: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: tools/pg.sh start|stop DIR"
cmd=$1
dir=$2

# Run a command as the server's user (the current one unless we are root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

pick_user() {
	PG_USER=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		if id postgres >/dev/null 2>&1; then
			PG_USER=postgres
		else
			PG_USER=nobody
		fi
	fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL in '$PG_BIN' (apt-get install postgresql)"
	command -v psql >/dev/null || die "psql is not installed (apt-get install postgresql-client)"
	[ ! -e "$dir/PG_VERSION" ] || die "'$dir' already holds a cluster"
	pick_user
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ "$(id -u)" -ne 0 ] || chown "$PG_USER" "$dir"
	chmod 700 "$dir"
	as_pg test -w "$dir" ||
		die "'$dir' cannot be written by user '$PG_USER' (check its parents' modes)"
	password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	# The data directory proper sits inside DIR, beside the socket and the log.
	as_pg mkdir -p "$dir/data" "$dir/sock"
	printf '%s\n' "$password" | as_pg sh -c "cat >'$dir/pwfile'"
	as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
		--auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	}
	rm -f "$dir/pwfile"
	# A free port can be taken between the probe and the bind: try a few.
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		# fsync=off: a test server; the crash tests kill bpk-repo, never PostgreSQL.
		opts="-c listen_addresses=127.0.0.1 -c port=$port"
		opts="$opts -c unix_socket_directories='$dir/sock' -c max_connections=200"
		opts="$opts -c fsync=off -c full_page_writes=off"
		if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" \
			start >/dev/null 2>&1; then
			echo "$port" >"$dir/port"
			break
		fi
		port=
	done
	[ -n "$port" ] || {
		tail -n 20 "$dir/server.log" >&2 || true
		die "PostgreSQL did not start"
	}
	as_pg psql -q -X -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$port" -U postgres -d postgres \
		-c "CREATE ROLE bpk LOGIN CREATEDB PASSWORD '$password'" \
		-c "CREATE DATABASE bpk OWNER bpk" >/dev/null ||
		die "cannot create the role and database"
	url="postgresql://bpk:$password@127.0.0.1:$port/bpk"
	psql -q -X -d "$url" -c 'SELECT 1' >/dev/null || die "cannot connect to '$url'"
	echo "$url"
}

stop() {
	[ -d "$dir" ] || return 0
	pick_user
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	fi
	# Only what start made: a mistaken DIR loses nothing else.
	rm -rf "$dir/data" "$dir/sock"
	rm -f "$dir/server.log" "$dir/initdb.log" "$dir/port" "$dir/pwfile"
	rmdir "$dir" 2>/dev/null || true
}

case $cmd in
start) start ;;
stop) stop ;;
*) die "usage: tools/pg.sh start|stop DIR" ;;
esac
