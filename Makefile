# Two commands do all the set-up on a fresh machine:
#   make demo   – the app with demo data (web, worker, beat, sandboxes) on http://127.0.0.1:8000
#   make test   – ruff + the whole test suite on the real PostgreSQL and Redis
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DB_NAME ?= pms
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(DB_NAME)

.PHONY: demo test venv services lint db system-packages messages

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/dev.txt
	touch $@

venv: $(VENV)/.installed

services:
	bin/services

db: venv services
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(DB_NAME)'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres $(DB_NAME)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# Debian's Chromium (browser tests; no browser download) and gettext (German catalogue)
system-packages:
	@command -v chromium >/dev/null && command -v msgfmt >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gettext >/dev/null)

messages: venv system-packages
	DEBUG=1 $(PY) manage.py compilemessages -l de --ignore=.venv -v 0

test: venv services system-packages lint messages
	$(PY) -m pytest --create-db -p no:cacheprovider $(PYTEST_ARGS)

demo: export DEBUG = 1
demo: export SECRET_KEY = demo-insecure-secret-key
demo: export STRIPE_SANDBOX = 1
demo: export STRIPE_SANDBOX_PORT ?= 8420
demo: export STRIPE_API_BASE = http://127.0.0.1:$(STRIPE_SANDBOX_PORT)
demo: export SITE_URL ?= http://127.0.0.1:$(or $(PORT),8000)
demo: db messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_periodic_tasks
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Admin:      http://127.0.0.1:8000/admin/"
	@echo "  Logins:     admin / demo-admin-pass (staff, sees all)"
	@echo "              olivia / demo-owner-pass, max / demo-owner-pass (owners)"
	@echo "              cohost / demo-owner-pass (co-host of one of olivia's properties)"
	@echo ""
	PATH=$(VENV)/bin:$$PATH $(VENV)/bin/honcho start -f Procfile.demo
