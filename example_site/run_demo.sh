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
# one of the two exits), both main processes get SIGTERM.
python="$1"
address="$2"
"$python" manage.py qcluster &
q=$!
"$python" manage.py runserver --noreload "$address" &
w=$!
trap 'trap - EXIT INT TERM; kill -TERM "$w" 2>/dev/null; wait' INT
trap 'trap - EXIT INT TERM; kill -TERM "$q" "$w" 2>/dev/null; wait' EXIT TERM
wait -n
