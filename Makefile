# Everything a fresh machine needs is installed from here: Python 3.11+ and make are
# the only prerequisites.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= local

.PHONY: demo test venv docs clean

$(BIN)/kubeforge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/kubeforge

## demo: preview the default stack offline and render its Kubernetes objects to render/
demo: venv
	$(BIN)/kubeforge preview --stack $(STACK)
	$(BIN)/kubeforge render --stack $(STACK) --out render/$(STACK)

## test: run every test (creates the virtualenv if needed)
test: venv
	$(BIN)/python -m pytest -q

## docs: regenerate docs/CONFIG.md and docs/VERSIONS.md (tests fail when they are stale)
docs: venv
	$(BIN)/kubeforge docs config > docs/CONFIG.md
	$(BIN)/kubeforge docs versions > docs/VERSIONS.md

clean:
	rm -rf $(VENV) render *.egg-info
