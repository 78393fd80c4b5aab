# Two commands for a fresh machine (see README.md): `make demo` and `make test`.
# Everything is installed from PyPI wheels into .venv: PyAV bundles FFmpeg, nothing compiles.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup browser testdata conformance-deps conformance demo test bench audit clean

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

# More real faces for the tests: tests/test_images of face_recognition 1.3.0's source distribution
# on PyPI (the same Obama and Biden, other photos, and Obama's photo cut through the face).
FACES_SDIST := tests/.data/face_recognition-1.3.0.tar.gz
testdata: tests/.data/face_recognition/.unpacked
tests/.data/face_recognition/.unpacked:
	@mkdir -p tests/.data/face_recognition
	@$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: 'face_recognition==1.3.0' -d tests/.data 2>/dev/null || \
	  echo "could not fetch face_recognition 1.3.0's source from PyPI: the tests of its photos will skip (and fail in CI)"
	@[ -f $(FACES_SDIST) ] && tar xzf $(FACES_SDIST) -C tests/.data/face_recognition --strip-components=3 \
	  face_recognition-1.3.0/tests/test_images && touch $@ || true

# ADL's LRS conformance suite (MIT, ../shared/xapi-conformance): copied out of shared/ (read-only
# in CI) into tests/.data/xapi-conformance and its npm dependencies installed there. `make
# conformance` runs it against a started server and prints pass / fail per part; the pytest test
# tests/conformance/test_conformance.py runs it in `make test`.
conformance-deps: setup
	@$(BIN)/python tests/conformance/run.py --install-only || \
	  echo "could not install the conformance suite's npm dependencies: its test will skip (and fail in CI)"

conformance: conformance-deps
	$(BIN)/python tests/conformance/run.py

demo: setup
	$(BIN)/monitor demo --out sample_videos/out

# The main suite first, in two processes (pytest-xdist; a test file stays in one process, so the
# tests sharing a Redis database stay in order), then the long runs marked `slow` (chaos, soak,
# scale-out, schemathesis, the demo through the API) one at a time, as they time what they do:
# both always run, each with its own timing and summary. The slowest tests are listed after each
# part: the main part must stay under 15 minutes in CI, and the list says what to move to `slow`.
test: setup browser testdata conformance-deps
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile --durations=25
	$(BIN)/python -m pytest -m slow --durations=10

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
