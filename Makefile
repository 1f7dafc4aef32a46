# The README's two commands: `make run` and `make test`.
# VENV=/path/to/venv uses an existing virtualenv (installed into only when pyproject.toml is newer than its
# .installed stamp). With no DATABASE_URL the embedded PostgreSQL in var/pgdata starts on demand and stops
# when the last command using it ends (Ctrl-C or SIGTERM included); `make stop-db` stops a leftover one.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser run test lint format worker beat migrate demo stop-db collectstatic docker-steps clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

migrate: install
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py seed_demo

# Serves even when seeding meets something it cannot handle: it warns and the server starts anyway.
run: migrate
	@$(PY) manage.py seed_demo || echo "make run: WARNING: seeding the demo data failed (see above); serving the database as it is."
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# Stops the embedded PostgreSQL of this checkout if one is still running (FORCE=1: even while in use).
stop-db:
	$(PY) -m lims.embedded_db stop $(if $(FORCE),--force)

# Collects the static files the way production does (DEBUG off: hashed names and a manifest).
collectstatic: install
	DEBUG=0 SECRET_KEY=collectstatic-only $(PY) manage.py collectstatic --no-input --verbosity 0

# The Dockerfile's build steps, as far as a machine without Docker can run them: a clean virtualenv,
# `pip install -e .` (runtime dependencies only), collectstatic with production settings, gunicorn's config check.
DOCKER_STEPS_DIR ?= var/docker-steps
docker-steps:
	rm -rf $(DOCKER_STEPS_DIR)
	$(PYTHON) -m venv $(DOCKER_STEPS_DIR)/venv
	$(DOCKER_STEPS_DIR)/venv/bin/pip install --quiet --upgrade pip
	$(DOCKER_STEPS_DIR)/venv/bin/pip install --quiet -e .
	DEBUG=0 SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused@localhost/unused LIMS_VAR_DIR=$(DOCKER_STEPS_DIR)/var \
	  $(DOCKER_STEPS_DIR)/venv/bin/python manage.py collectstatic --no-input --verbosity 0
	test -f $(DOCKER_STEPS_DIR)/var/staticfiles/staticfiles.json
	SECRET_KEY=check DATABASE_URL=postgres://unused@localhost/unused LIMS_VAR_DIR=$(DOCKER_STEPS_DIR)/var \
	  $(DOCKER_STEPS_DIR)/venv/bin/gunicorn --check-config lims.wsgi:application
	@echo "docker-steps: the image's build steps pass in a clean virtualenv"

# Browser tests drive Debian's Chromium; install it when missing (needs root, as on CI).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install -y chromium' (browser tests are skipped without it)"; fi; \
	fi

# The whole suite in two processes (pytest-xdist; each has its own test database, test_<name>_gw0/1; a file's
# tests stay together; the files marked takes_minutes are handed out first). PYTEST_ARGS replaces that: `make test PYTEST_ARGS="tests/web -x"`.
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder --durations=25
test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	$(VENV)/bin/celery -A lims worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A lims beat --loglevel=info

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
