# PresenceRegistration: every task a developer or CI runs. `make` lists them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
BENCH ?= full
CHAOS ?= full

.DEFAULT_GOAL := help
.PHONY: help install run test lint typecheck format migrations-check prometheus-check worker beat serve bench chaos examples ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required (Spyne 2.14 does not import on 3.12+)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# The node-soap client of the interoperability test (tests/soap_gateway/test_node_soap_client.py),
# installed from its lock file when npm is on PATH; without it that test is skipped.
NODE_CLIENT := tests/soap_gateway/node_client
NODE_STAMP := $(NODE_CLIENT)/node_modules/.installed

$(NODE_STAMP): $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund
	touch $@

# The Node.js example (examples/node), installed from its lock file for `make examples`.
EXAMPLES_NODE := examples/node
EXAMPLES_NODE_STAMP := $(EXAMPLES_NODE)/node_modules/.installed

$(EXAMPLES_NODE_STAMP): $(EXAMPLES_NODE)/package-lock.json
	cd $(EXAMPLES_NODE) && npm ci --no-audit --no-fund
	touch $@

install: $(STAMP) $(if $(shell command -v npm),$(NODE_STAMP)) ## create .venv and install the pinned dependencies; with npm on PATH also the node-soap test client (npm ci, needs the npm registry)

run: install ## start the service on the embedded default (SQLite, in-process tasks, demo data) in sandbox mode (docs/sandbox.md)
	env -u DATABASE_URL -u CELERY_BROKER_URL DJANGO_DEBUG=1 SANDBOX_MODE=1 $(BIN)/python manage.py migrate --no-input
	env -u DATABASE_URL -u CELERY_BROKER_URL DJANGO_DEBUG=1 SANDBOX_MODE=1 $(BIN)/python manage.py seed_demo --if-empty
	@# The sweeps run beside the server (no beat on the embedded default) and stop with it.
	env -u DATABASE_URL -u CELERY_BROKER_URL DJANGO_DEBUG=1 SANDBOX_MODE=1 sh -c '$(BIN)/python manage.py run_sweeps & \
		trap "kill $$! 2>/dev/null" EXIT INT TERM; $(BIN)/python manage.py runserver $(HOST):$(PORT)'


test: install ## run the whole suite: embedded default, then PostgreSQL + Redis
	BIN=$(BIN) scripts/test.sh

lint: install ## ruff (lint + format check), mypy, and the import contracts (import-linter: the layers of docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-logo

typecheck: install ## mypy only
	$(BIN)/mypy .

format: install ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install ## fail if a model change has no migration
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run

prometheus-check: ## promtool: the Prometheus configuration, the alert rules and their unit tests (deploy/prometheus, docs/operations.md)
	cd deploy/prometheus && promtool check config prometheus.yml && promtool check rules alerts.yml && promtool test rules alerts_test.yml

worker: install ## a Celery worker (needs DATABASE_URL and CELERY_BROKER_URL)
	$(BIN)/celery -A config worker -l INFO

beat: install ## the Celery beat scheduler: run exactly one per deployment
	$(BIN)/celery -A config beat -l INFO

serve: install ## production on one machine: migrate, then gunicorn, a Celery worker, one beat; needs DATABASE_URL, CELERY_BROKER_URL, DJANGO_SECRET_KEY, NISS_HASH_KEY; refuses SANDBOX_MODE unless ALLOW_SANDBOX_IN_PRODUCTION=1 (docs/deploy.md)
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

examples: install $(if $(shell command -v npm),$(EXAMPLES_NODE_STAMP)) ## run every example (examples/) and the conformance kit against a throw-away demo server (scripts/run_examples.sh)
	BIN=$(BIN) scripts/run_examples.sh

bench: install ## every benchmark, one table; a full run that passes rewrites docs/performance.md (BENCH=short: CI's quick run, docs left alone)
	scripts/services.sh
	$(BIN)/python bench/run_all.py $(if $(filter short,$(BENCH)),--short,)

chaos: install ## scripted faults under load; fails on a lost or duplicated registration (CHAOS=short)
	scripts/services.sh
	$(BIN)/python chaos/run.py $(if $(filter short,$(CHAOS)),--short,)

ci: lint migrations-check prometheus-check test examples ## lint, migrations-check, prometheus-check, test, examples; .ci/run also installs and starts the services, runs scripts/check_deploy.py before the tests and short bench and chaos runs after
