#!/usr/bin/env bash
# `make demo`'s last step: the web server and one django-q2 worker, stopped together.
# Usage: run_demo.sh PYTHON HOST:PORT   (from example_site/)
#
# Ctrl-C reaches every process of the terminal's group: qcluster stops its own
# workers on SIGINT. The trap then sends SIGTERM to the two main processes only:
# SIGTERM to qcluster's internal processes (as `kill 0` did) kills its sentinel
# and leaves qcluster waiting for it until killed.
python="$1"
address="$2"
"$python" manage.py qcluster &
q=$!
"$python" manage.py runserver --noreload "$address" &
w=$!
trap 'trap - EXIT INT TERM; kill -TERM "$q" "$w" 2>/dev/null; wait' EXIT INT TERM
wait -n
