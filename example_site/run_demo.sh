#!/usr/bin/env bash
# `make demo`'s last step: the web server and one django-q2 worker, stopped together.
# Usage: run_demo.sh PYTHON HOST:PORT   (from example_site/)
#
# Ctrl-C sends SIGINT to every process of the terminal's group: qcluster stops
# its own workers on it, and must get no second signal (its handler is not
# re-entrant: a SIGTERM while it handles the SIGINT can leave it waiting forever),
# nor may its internal processes get SIGTERM (as `kill 0` did: that kills its
# sentinel and leaves it hanging). runserver, a background job here, ignores
# SIGINT: it gets SIGTERM. When this script is stopped otherwise (SIGTERM, or
# one of the two exits), both main processes get SIGTERM. A cluster still
# stopping after 8 s (a busy machine, a task in flight) is killed with its
# group: the demo's state is in the database, and a task cut short runs again.
python="$1"
address="$2"
"$python" manage.py qcluster &
q=$!
"$python" manage.py runserver --noreload "$address" &
w=$!

# stop SIGNALLED...: send SIGTERM to those, then wait for both, at most 8 s.
stop() {
	trap - EXIT INT TERM
	kill -TERM "$@" 2>/dev/null
	for _ in $(seq 40); do
		kill -0 "$q" 2>/dev/null || kill -0 "$w" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL 0
}
trap 'stop "$w"' INT
trap 'stop "$q" "$w"' EXIT TERM
wait -n
