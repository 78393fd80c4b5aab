# Two commands for a fresh machine (see README.md): `make demo` and `make test`.
# Everything is installed from PyPI wheels into .venv: PyAV bundles FFmpeg, nothing compiles.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup browser demo test bench audit clean

setup: $(VENV)/.installed

# Debian's Chromium and CJK fonts for the browser tests of the pages (Playwright drives it; no
# browser is downloaded). Needs root and Debian's package index, as on this project's machines.
BROWSER_PACKAGES := chromium fonts-noto-cjk
browser:
	@command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/opentype/noto ] || \
	  apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null || \
	  (apt-get update -q >/dev/null && apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null) || \
	  echo "could not install $(BROWSER_PACKAGES): the browser tests will skip (and fail in CI)"
	@[ -f node_modules/axe-core/axe.min.js ] || npm install --no-audit --no-fund --silent || \
	  echo "could not install axe-core from npm: the accessibility checks will skip (and fail in CI)"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps 'face_recognition==1.3.0'
	@touch $@

demo: setup
	$(BIN)/monitor demo --out sample_videos/out

test: setup browser
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/footage.py

# Known vulnerabilities of the installed dependencies. --strict: a package that could not be
# checked is a failure, not a pass (on this project's machines PyPI's per-version JSON, which
# pip-audit reads, answers 404 through the registry proxy, and OSV is unreachable).
audit: setup
	$(BIN)/pip install -q pip-audit
	$(BIN)/pip-audit --strict --progress-spinner off

clean:
	rm -rf $(VENV) sample_videos/out bench/out .pytest_cache node_modules tests/artifacts
