# Two commands do all the set-up on a fresh machine:
#   make demo   – the app with demo data (web, worker, beat, sandboxes) on http://127.0.0.1:$(PORT) (8000)
#   make test   – ruff + the whole test suite on the real PostgreSQL and Redis
# and one runs any management command in the demo's environment:
#   make manage ARGS="reconcile"
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DB_NAME ?= pms
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(DB_NAME)

# The demo: where the web answers, where the Stripe sandbox listens, the file its settings are
# written to (empty: none) so that `.venv/bin/python manage.py ...` in another shell agrees with it.
PORT ?= 8000
STRIPE_SANDBOX_PORT ?= 8420
ENV_FILE ?= .env
SEED_ARGS ?=
ENV_MARKER := \# Written by make demo
DEMO_SETTINGS := \
  DEBUG=1 \
  SECRET_KEY=demo-insecure-secret-key \
  DATABASE_URL=$(DATABASE_URL) \
  SITE_URL=http://127.0.0.1:$(PORT) \
  SANDBOX_ENABLED=1 \
  STRIPE_SANDBOX=1 \
  STRIPE_SANDBOX_PORT=$(STRIPE_SANDBOX_PORT) \
  STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_SANDBOX_PORT) \
  CELERY_QUEUE=$(DB_NAME) \
  CACHE_KEY_PREFIX=$(DB_NAME) \
  CHANNEL_REDIS_PREFIX=$(DB_NAME):channels
DEMO_ENV := env $(DEMO_SETTINGS)

.PHONY: demo test venv demo-venv services lint db browser messages manage demo-env demo-ports

# The demo installs requirements/demo.txt; the tests add requirements/dev.txt.
$(VENV)/.installed-demo: requirements/base.txt requirements/demo.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/demo.txt
	touch $@

$(VENV)/.installed: requirements/base.txt requirements/demo.txt requirements/dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/dev.txt
	touch $@ $(VENV)/.installed-demo

demo-venv: $(VENV)/.installed-demo
venv: $(VENV)/.installed

services:
	bin/services

db: demo-venv services
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(DB_NAME)'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres $(DB_NAME)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# Compiled German messages: Babel (pure Python), so neither the demo nor the tests need gettext.
messages: demo-venv
	$(PY) locale/compile.py

# Debian's Chromium drives the browser tests (no browser download); only `make test` needs it.
browser:
	@command -v chromium >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: venv services browser lint messages
	$(PY) -m pytest --create-db -p no:cacheprovider $(PYTEST_ARGS)

# Refuse to start on a port that is taken (the web would otherwise fail and the links point nowhere).
demo-ports: demo-venv
	@for p in $(PORT) $(STRIPE_SANDBOX_PORT); do \
	  $(PY) -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" $$p 2>/dev/null \
	  || { echo "Port $$p on 127.0.0.1 is in use: stop what runs there, or choose others:" \
	            "make demo PORT=8001 STRIPE_SANDBOX_PORT=8421"; exit 1; }; \
	done

# Write the demo's settings to $(ENV_FILE) (manage.py reads .env), unless that file is someone else's.
demo-env:
	@if [ -n "$(ENV_FILE)" ]; then \
	  if [ ! -e "$(ENV_FILE)" ] || head -1 "$(ENV_FILE)" | grep -q "^$(ENV_MARKER)"; then \
	    { echo "$(ENV_MARKER) (it rewrites this file while this line stays first; delete the line to keep your own)"; \
	      for kv in $(DEMO_SETTINGS); do echo "$$kv"; done; } > "$(ENV_FILE)"; \
	  else echo "$(ENV_FILE) was not written by make demo: left as it is"; fi; \
	fi

demo: demo-ports db messages demo-env
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py setup_periodic_tasks -v 0
	$(DEMO_ENV) $(PY) manage.py seed_demo $(SEED_ARGS)
	@echo ""
	@echo "  Guest pages: http://127.0.0.1:$(PORT)/"
	@echo "  Admin:       http://127.0.0.1:$(PORT)/admin/"
	@echo "  Logins:      admin / demo-admin-pass (staff, sees all)"
	@echo "               olivia / demo-owner-pass, max / demo-owner-pass (owners)"
	@echo "               cohost / demo-owner-pass (co-host of one of olivia's properties)"
	@echo "  Commands:    .venv/bin/python manage.py <command>   (reads $(or $(ENV_FILE),no .env file))"
	@echo "               or: make manage ARGS=\"<command>\""
	@echo ""
	$(DEMO_ENV) WEB_PORT=$(PORT) PATH=$(VENV)/bin:$$PATH $(VENV)/bin/honcho start -e /dev/null -f Procfile.demo

# Any management command with the demo's settings, e.g. make manage ARGS="reconcile": those of the last
# `make demo` (its .env), unless DB_NAME / PORT / STRIPE_SANDBOX_PORT are given here.
MANAGE_READS_ENV_FILE := $(if $(filter command,$(origin DB_NAME) $(origin PORT) $(origin STRIPE_SANDBOX_PORT)),,yes)
manage: demo-venv
	@if [ -n "$(MANAGE_READS_ENV_FILE)" ] && [ -n "$(ENV_FILE)" ] && head -1 "$(ENV_FILE)" 2>/dev/null | grep -q "^$(ENV_MARKER)"; 	then env -u DATABASE_URL $(PY) manage.py $(ARGS); 	else $(DEMO_ENV) $(PY) manage.py $(ARGS); fi
