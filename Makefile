# wagtail_journey: every set-up step lives here so a fresh machine needs only
# `make demo` or `make test`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := cd example_site && ../$(PY) manage.py
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/wagtail_journey
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: install demo test test-postgres test-e2e test-all lint format bench messages clean services

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres,redis]'
	touch $(STAMP)

demo: $(STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) journey_schedules
	$(MANAGE) load_demo --with-admin
	@echo ""
	@echo "  wagtail_journey demo: http://$(DEMO_HOST):$(DEMO_PORT)/"
	@echo "  Wagtail admin:        http://$(DEMO_HOST):$(DEMO_PORT)/admin/  (login: admin / journey-demo)"
	@echo "  Sent email is written to example_site/sent_mail/. Ctrl-C stops the site and the worker."
	@echo ""
	cd example_site && bash -c 'trap "trap - EXIT INT TERM; kill 0" EXIT INT TERM; \
		../$(PY) manage.py qcluster & \
		../$(PY) manage.py runserver --noreload $(DEMO_HOST):$(DEMO_PORT) & \
		wait'

# The whole suite on SQLite with the ORM broker (browser tests: make test-e2e).
test: $(STAMP)
	$(PY) -m pytest -m "not postgres and not e2e" $(PYTEST_ARGS)

# The same suite on PostgreSQL, with django-q2 and the cache on Redis.
test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

# Browser tests in Debian's chromium (installed here if missing; never downloaded by Playwright).
test-e2e: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

test-all: test test-postgres test-e2e

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# Extract and compile the fr and pt translations of the package.
messages: $(STAMP)
	cd wagtail_journey && ../$(PY) ../example_site/manage.py makemessages -l fr -l pt --no-obsolete
	cd wagtail_journey && ../$(PY) ../example_site/manage.py compilemessages

services:
	@pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log

clean:
	rm -rf $(VENV) build *.egg-info example_site/db.sqlite3* .pytest_cache
