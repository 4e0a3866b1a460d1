# drstack: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AZURITE := .tools/node_modules/.bin/azurite
AZURITE_VERSION := 3.35.0
STACKS := seoul tokyo azure-pilot

.PHONY: install services preview test lint format drill demo bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# Real servers for the tests and the sandbox: MariaDB from Debian, Azurite from npm.
services: $(AZURITE)
	@command -v mariadbd >/dev/null 2>&1 || command -v /usr/sbin/mariadbd >/dev/null 2>&1 || { \
	  echo "installing MariaDB from Debian"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq mariadb-server mariadb-client >/dev/null; }

$(AZURITE):
	mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --silent azurite@$(AZURITE_VERSION)

preview: install
	@for s in $(STACKS); do [ -f Pulumi.$$s.yaml ] || continue; echo "=== drctl preview --stack $$s"; $(BIN)/drctl preview --stack $$s || exit 1; done

test: install services
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	flock /tmp/drstack-mypy.lock $(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

drill: install services
	$(BIN)/drctl drill --sandbox

demo: preview drill

bench: install services
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache build *.egg-info
