#!/usr/bin/env bash
# `make demo`'s last step: the web server and one django-q2 worker, stopped together.
# Usage: run_demo.sh PYTHON HOST:PORT   (from example_site/)
#
# Ctrl-C reaches every process of the terminal's group: qcluster stops its own
# workers on SIGINT. The trap then sends SIGTERM to the two main processes only:
# SIGTERM to qcluster's internal processes (as `kill 0` did) kills its sentinel
# and leaves qcluster waiting for it until killed. A cluster still stopping
# after 8 s (a busy machine, a task in flight) is killed with its whole group:
# the demo's state is in the database, and a task cut short is run again.
python="$1"
address="$2"
"$python" manage.py qcluster &
q=$!
"$python" manage.py runserver --noreload "$address" &
w=$!
stop() {
	trap - EXIT INT TERM
	kill -TERM "$q" "$w" 2>/dev/null
	for _ in $(seq 40); do
		kill -0 "$q" 2>/dev/null || kill -0 "$w" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL 0
}
trap stop EXIT INT TERM
wait -n
