# Every target works from a fresh clone: each depends on `setup`, which builds
# .venv from the pinned lock files the first time (and again when they change).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup tools browser-tools run migrate test faults demo bench lint lock manifests clean

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

## make migrate: apply every service's migrations to DATABASE_URL, make each service's runtime role
## (orgwork_<service>, NOLOGIN when new) and grant it its rights (docs/DATABASE.md); declare the queues.
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

## make tools: what the deployment tests check with, apart from the platform's environment:
## checkov in .tools-venv (its pins clash with ours), promtool from Debian's prometheus package.
## (kubectl with kustomize and kubernetes-validate come with requirements-dev.lock.)
TOOLS_STAMP := .tools-venv/.installed

$(TOOLS_STAMP): deploy/requirements-checkov.lock
	$(PYTHON) -m venv .tools-venv
	.tools-venv/bin/python -m pip install --quiet --upgrade pip
	.tools-venv/bin/python -m pip install --quiet -r deploy/requirements-checkov.lock
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)
	@command -v promtool >/dev/null || { \
	  echo "promtool is missing: installing Debian's prometheus package (its daemon is not started)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; }

## The browser tests' tools: Debian's chromium and chromedriver (never a downloaded browser), and
## axe-core from the npm registry, pinned in tests/browser/package-lock.json.
BROWSER_STAMP := tests/browser/node_modules/.installed

$(BROWSER_STAMP): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $(BROWSER_STAMP)

BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-zenhei

browser-tools: $(BROWSER_STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=zh | grep -q . || { \
	  echo "installing Debian's $(BROWSER_PACKAGES) (a Chinese font, so that pages render as readers see them)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }; }

## make test: the whole suite, against the real PostgreSQL and RabbitMQ, the browser tests in Chromium.
test: setup tools browser-tools
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

## make manifests: render k8s/ (kustomize base and overlays) and docker-compose.yml (deploy/manifests).
manifests: setup
	$(BIN)/python -m deploy.manifests

clean:
	rm -rf $(VENV) .tools-venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
