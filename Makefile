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

.PHONY: install demo test test-postgres test-e2e test-all test-matrix dist lint format bench messages clean services

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres,redis]'
	touch $(STAMP)

# Links in the demo's emails (unsubscribe, clicks) point at the demo's own address.
demo: export WAGTAILADMIN_BASE_URL ?= http://$(DEMO_HOST):$(DEMO_PORT)
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
	cd example_site && ./run_demo.sh ../$(PY) $(DEMO_HOST):$(DEMO_PORT)

# The whole suite on SQLite with the ORM broker (browser tests: make test-e2e).
test: $(STAMP)
	$(PY) -m pytest -m "not postgres and not e2e" $(PYTEST_ARGS)

# The same suite on PostgreSQL, with django-q2 and the cache on Redis.
test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(PY) -m pytest -m "not e2e and not foreign_site" $(PYTEST_ARGS)

# Browser tests in Debian's chromium (installed here if missing; never downloaded by Playwright).
test-e2e: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

test-all: test test-postgres test-e2e

# The SQLite suite on every supported Python x Wagtail x Django pair (noxfile.py).
test-matrix: $(STAMP)
	$(VENV)/bin/nox $(NOX_ARGS)

# Wheel and sdist in dist/, checked: twine, contents, and a clean virtualenv per
# bakerydemo-like site installing the wheel and passing `manage.py check`.
dist: $(STAMP)
	rm -rf dist build
	$(PY) -m build --outdir dist . > /dev/null
	$(VENV)/bin/twine check --strict dist/*
	$(PY) tests/install/check_dist.py dist

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark of bench/ against its baseline in one run (docs/performance.md), e.g.
# make bench BENCH_ARGS="--only pageview --quick"; PostgreSQL when DATABASE_URL is set
# (storage, segments and decay need it), Redis when BENCH_REDIS_URL is set.
bench: $(STAMP)
	@$(PY) -c 'import gunicorn' 2>/dev/null || $(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/run.py $(BENCH_ARGS)

# Extract the package's strings into the fr and pt catalogues and compile them
# (docs/development.md). Needs GNU gettext; installs Debian's if missing.
messages: $(STAMP)
	@command -v msgfmt >/dev/null 2>&1 || { \
		echo "GNU gettext is missing; installing Debian's gettext..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	} || { echo "Install GNU gettext (Debian/Ubuntu: apt-get install gettext) and retry."; exit 1; }
	mkdir -p wagtail_journey/locale
	cd wagtail_journey && ../$(PY) ../example_site/manage.py makemessages \
		-l fr -l pt --no-obsolete --add-location=file
	cd wagtail_journey && ../$(PY) ../example_site/manage.py compilemessages
	@grep -l '^#, fuzzy' wagtail_journey/locale/*/LC_MESSAGES/django.po 2>/dev/null | \
		sed 's/^/  fuzzy entries to review: /' || true

# PostgreSQL and Redis on 127.0.0.1 for `make test-postgres`: started if down
# (Debian's packages, as on CI's machine), then waited for.
services:
	@command -v pg_ctlcluster >/dev/null && command -v redis-server >/dev/null || { \
		echo "make services needs Debian's postgresql and redis-server packages" >&2; exit 1; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "Starting PostgreSQL..."; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
		echo "Starting Redis..."; mkdir -p /var/lib/redis /var/log/redis; \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; }
	@for i in $$(seq 30); do \
		pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 \
			&& exit 0; \
		sleep 1; \
	done; echo "PostgreSQL or Redis is not answering on 127.0.0.1" >&2; exit 1

clean:
	rm -rf $(VENV) build dist .nox *.egg-info example_site/db.sqlite3* .pytest_cache
