# Every target works from a fresh clone: each depends on `setup`, which builds
# .venv from the pinned lock files the first time (and again when they change).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run migrate test faults demo bench lint lock manifests clean

setup: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## A local platform keeps what it makes in .orgwork/ (ignored by git): its keys (the audit
## key pair among them) and the signed tree heads each service publishes, outside the database.
LOCAL_ENV := SECURITY_KEYS_DIR=$${SECURITY_KEYS_DIR:-$(CURDIR)/.orgwork/keys} \
	AUDIT_HEAD_SINK=$${AUDIT_HEAD_SINK:-$(CURDIR)/.orgwork/audit}

## make run: every service as its own process, migrations applied; Ctrl-C stops them.
## A local platform runs on the offset clock, which the demo moves forward (CLOCK=system to opt out).
## It makes the keys and the head sink's directory it lacks, and prints where the heads go.
run: setup
	CLOCK=$${CLOCK:-offset} $(LOCAL_ENV) $(BIN)/python -m shared.runtime.process.platform run

## make migrate: apply every service's migrations to DATABASE_URL.
migrate: setup
	$(BIN)/python -m shared.runtime.process.platform migrate

## make demo: the appointment under public watch, both paths, against the running
## platform (or one it starts itself); exits 0 when one is withheld and one appointed.
demo: setup
	$(LOCAL_ENV) $(BIN)/python -m services.scenarios

## make bench: every figure with its baselines (docs/BENCHMARKS.md); QUICK=1 for a smaller run.
## The eventsourcing library goes into .bench-venv only, never into the platform's environment.
BENCH_STAMP := .bench-venv/.installed

$(BENCH_STAMP): bench/requirements-eventsourcing.lock
	$(PYTHON) -m venv .bench-venv
	.bench-venv/bin/python -m pip install --quiet --upgrade pip
	.bench-venv/bin/python -m pip install --quiet -r bench/requirements-eventsourcing.lock
	touch $(BENCH_STAMP)

bench: setup $(BENCH_STAMP)
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

## make test: the whole suite, against the real PostgreSQL and RabbitMQ.
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make lint: ruff (lint and format), mypy on every Python file of the repository,
## and import-linter on the layers (pyproject.toml: [tool.importlinter]).
## make faults: the fault suite. It stops and restarts this machine's RabbitMQ and
## PostgreSQL, so it is not part of make test; it prints a table and exits 1 on any loss.
faults: setup
	$(BIN)/python -m tests.faults $(if $(ONLY),--only $(ONLY),)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services tests bench deploy
	$(BIN)/lint-imports

## make lock: re-pin the dependencies after editing requirements*.in.
lock: setup
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.lock requirements-dev.in

## make manifests: render k8s/<service>.yaml and docker-compose.yml from deploy/services.toml.
manifests: setup
	$(BIN)/python deploy/render.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
