# gradbook: one entry point for readers, authors and CI.
# `make serve` sets everything up and serves the site; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# First interpreter of that version that really runs (a pyenv shim for an inactive version does not).
find_python = $(firstword $(foreach p,python$(1) $(wildcard $(HOME)/.pyenv/versions/$(1)*/bin/python$(1)) /usr/bin/python$(1),$(shell $(p) -c 'print(1)' >/dev/null 2>&1 && echo $(p))))
PYTHON311 ?= $(call find_python,3.11)
PYTHON313 ?= $(call find_python,3.13)
VENV := .venv
PY := $(VENV)/bin/python
PYODIDE_VENV := .venv-pyodide
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONHASHSEED := 0

.PHONY: help setup web site pdf serve preview figures figures-quick test test-fast bench lint format browser-deps clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.stamp: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON311) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(PYODIDE_VENV)/.stamp: web/requirements-pyodide.txt
	test -x $(PYODIDE_VENV)/bin/python || $(PYTHON313) -m venv $(PYODIDE_VENV)
	$(PYODIDE_VENV)/bin/python -m pip install --quiet -r web/requirements-pyodide.txt
	touch $@

web/node_modules/.stamp: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.stamp $(PYODIDE_VENV)/.stamp web/node_modules/.stamp ## create the venvs and install npm packages

web: setup ## bundle the cells, copy Pyodide and KaTeX, minify the figures, subset the Chinese font, build the lite and gradbook wheels, precompile the Python the cells start with
	cd web && npm run --silent build
	cd web && node minify_figures.mjs ../figures ../build/svg
	$(PY) web/subset_font.py --out build/web/fonts
	$(PYODIDE_VENV)/bin/python web/pack_lite.py --out build/web/pyodide
	cd web && node precompile.mjs ../build/web/pyodide
	$(PY) web/pack_gradbook.py --out build/web/dist

site: web ## build both languages into site/ (English) and site/zh/ from the committed figures
	$(PY) -m gradbook.pages --out site

pdf: site browser-deps ## the whole book as one PDF per language: site/pdf/gradbook-en.pdf, -zh.pdf (Chromium)
	$(PY) -m gradbook.pdf --site site

serve: site ## build and serve the site on http://$(HOST):$(PORT) (COOP/COEP: Stop keeps variables)
	$(PY) -m gradbook.serve site --host $(HOST) --port $(PORT)

LANG_CONFIG = $(if $(filter zh,$(BOOK_LANG)),mkdocs.zh.yml,mkdocs.yml)
preview: web ## live-reloading preview of one language (BOOK_LANG=zh for Chinese; Stop restarts Python)
	$(VENV)/bin/mkdocs serve --strict -f $(LANG_CONFIG) -a $(HOST):$(PORT)

figures: $(VENV)/.stamp ## rerun the chapters whose inputs changed
	$(PY) -m gradbook.build

figures-quick: $(VENV)/.stamp ## the same code paths with few steps, into a scratch dir
	$(PY) -m gradbook.build --quick

browser-deps:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: web browser-deps ## run the whole test suite (unit, build, site, browser)
	$(PY) -m pytest -q -n 4 --dist loadfile  # 4 workers on 2 cores: the browser tests wait more than they compute (57% CPU with 2)

test-fast: $(VENV)/.stamp ## unit tests with the main venv only: no site, browser, Pyodide or chapter training
	$(PY) -m pytest -q -m "not site and not browser and not pyodide and not slow"

bench: web browser-deps ## measure speed and size; writes bench/*.json
	$(PY) -m bench

lint: $(VENV)/.stamp web/node_modules/.stamp ## ruff and Biome: lint and format check, Python and JavaScript
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd web && npx --no-install biome ci .

format: $(VENV)/.stamp web/node_modules/.stamp ## format and lint-fix Python (ruff) and JavaScript/CSS (Biome)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	cd web && npx --no-install biome check --write .

clean:
	rm -rf site build
