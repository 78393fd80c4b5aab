# Two commands for a fresh machine (see README.md): `make demo` and `make test`.
# Everything is installed from PyPI wheels into .venv: PyAV bundles FFmpeg, nothing compiles.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps 'face_recognition==1.3.0'
	@touch $@

demo: setup
	$(BIN)/monitor demo --out sample_videos/out

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/footage.py

clean:
	rm -rf $(VENV) sample_videos/out bench/out .pytest_cache
