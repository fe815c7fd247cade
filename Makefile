# Everything a fresh machine needs is installed from here: Python 3.11+ and make are
# the only prerequisites.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= local
STACKS := $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml))
# Checkov pins many packages that clash with Pulumi's: it gets a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV      := $(CHECKOV_VENV)/bin/checkov

.PHONY: demo test venv docs clean scan

$(BIN)/kubeforge: pyproject.toml policies/requirements-crossguard-tests.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The policy pack's CrossGuard SDK, for the tests of its adapter only: it pins protobuf 5.29,
	# which kfp (a dev dependency) cannot share, so it comes without its dependencies here.
	# Under Pulumi the pack runs in its own virtualenv (policies/requirements.txt).
	$(BIN)/pip install --quiet --no-deps -r policies/requirements-crossguard-tests.txt
	@touch $@

venv: $(BIN)/kubeforge

$(CHECKOV): policies/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r policies/requirements-checkov.txt
	@touch $@

## demo: preview the default stack offline and render its Kubernetes objects to render/
demo: venv
	$(BIN)/kubeforge preview --stack $(STACK)
	$(BIN)/kubeforge render --stack $(STACK) --out render/$(STACK)

## test: run every test (creates the virtualenvs if needed), then render every stack and scan it with Checkov
test: venv $(CHECKOV)
	$(BIN)/python -m pytest -q
	@for stack in $(STACKS); do $(MAKE) --no-print-directory scan STACK=$$stack || exit 1; done

## scan: render a stack's Kubernetes objects to render/ and scan them with Checkov (.checkov.yaml)
scan: venv $(CHECKOV)
	$(BIN)/kubeforge render --stack $(STACK) --out render/$(STACK)
	$(CHECKOV) --config-file .checkov.yaml --directory render/$(STACK)

## docs: regenerate docs/CONFIG.md, docs/VERSIONS.md and the README's platform picture (tests fail when they are stale)
docs: venv
	$(BIN)/kubeforge docs config > docs/CONFIG.md
	$(BIN)/kubeforge docs versions > docs/VERSIONS.md
	$(BIN)/kubeforge graph --stack aws-prod | $(BIN)/python -c 'import pathlib, re, sys; g = sys.stdin.read(); \
	  r = pathlib.Path("README.md"); block = r"(<!-- kubeforge graph --stack aws-prod -->\n```mermaid\n).*?(```)"; \
	  r.write_text(re.sub(block, lambda m: m[1] + g + m[2], r.read_text(), flags=re.S))'

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) render *.egg-info
