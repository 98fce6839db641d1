# Two entry points for a fresh machine (see README.md):
#   make book   install everything into .venv and build the website, English in _build/html and Korean
#               in _build/html/ko
#   make test   install, then run every test: unit tests, the Korean catalogs' check, every notebook under
#               nbval, the book build with warnings as errors, the site checks (offline assets, links, a
#               headless browser, both editions), and every chapter in two more environments: Colab's
#               versions and the lowest supported ones
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Quiet progress bars in executed notebooks and logs.
export AECOURSE_QUIET := 1
export PYTHONUNBUFFERED := 1

.PHONY: install book unit i18n nbval student-check site browser-deps test clean student bench colab-env min-env

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# -W -n --keep-going: a notebook that raises, a broken reference or any Sphinx warning fails the build.
# MPLBACKEND=Agg on purpose: the kernels inherit it, as on many servers, and the site check then proves
# that every chapter still shows all its figures (aecourse.setup switches a kernel to inline figures).
# Two editions from one execution: the English build runs every notebook into the execution cache
# (emptied first, so nothing stale is reused) and the Korean build (_build/html/ko) reads it.
book: install
	rm -rf _build/html _build/.doctrees _build/.jupyter_cache _build/ko
	@t0=$$(date +%s) && set -x && MPLBACKEND=Agg $(BIN)/jupyter-book build . -W -n --keep-going && \
	  t1=$$(date +%s) && MPLBACKEND=Agg $(BIN)/python tools/i18n.py build && { set +x; } 2>/dev/null && \
	  echo "build times: English edition (executes every chapter) $$((t1 - t0)) s, Korean edition $$(( $$(date +%s) - t1 )) s"
	$(BIN)/python tools/check_site.py _build/html

unit: install
	$(BIN)/python -m pytest tests --ignore=tests/website -q -n 2 -m "not book"

# The Korean edition in step with the English one: no catalog out of date, no message untranslated or
# fuzzy, no role, formula, code or link lost in a translation, no Korean notebook stale.
i18n: install
	$(BIN)/python tools/i18n.py check

# Every chapter's generated student copy, executed: it may fail only at its exercise stubs.
student-check: install
	$(BIN)/python -m pytest tests/test_instructor.py -q -n 2 -m book

# Every chapter, English and Korean (the Korean notebooks have the same code cells, tested in
# tests/test_i18n.py). Each notebook stays on one worker (--dist loadfile): its cells share one kernel.
nbval: install
	$(BIN)/python -m pytest --nbval-lax book locales/ko/book -q -n 2 --dist loadfile

browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "The browser test needs Debian's chromium: sudo apt-get install -y chromium"; exit 1; fi; }

site: install browser-deps
	$(BIN)/linkchecker --no-status --no-warnings _build/html/index.html
	$(BIN)/python -m pytest tests/website -q

# Each builds its own venv under _build/envs, installs aecourse there from a clone of this repository with
# the setup cell's own install line, fails if pip's plan changes a preinstalled package (allow-list in
# tools/envs.py), and executes every chapter in _toc.yml with nbval. See tools/envs.py.
colab-env: install
	$(BIN)/python tools/envs.py colab

min-env: install
	$(BIN)/python tools/envs.py minimum

test: unit i18n nbval student-check book site colab-env min-env

student: install
	$(BIN)/python -m aecourse.instructor student book --out student
	$(BIN)/python -m aecourse.instructor student locales/ko/book --out student/ko

bench: install
	$(BIN)/python bench/chapters.py

clean:
	rm -rf _build student graded
