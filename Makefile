# The two entry points of the README, and `make docs` (the documentation
# site). Each sets up .venv by itself (tools/setup_env.sh: idempotent, quick
# once the environment exists).
PY := .venv/bin/python
LINT_PATHS := projects tools tests configs

.PHONY: demo test test-fast lint env docs

demo:  ## the main job: the DistilPose story on generated data
	tools/setup_env.sh
	$(PY) tools/demo.py

test: lint  ## lint, then the test suite (what CI runs)
	$(PY) -m pytest -q

test-fast:  ## the suite without the slow end-to-end runs
	tools/setup_env.sh --with-tests
	$(PY) -m pytest -q -m "not slow"

lint:  ## flake8 and isort, configured in setup.cfg
	tools/setup_env.sh --with-tests
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)

env:
	tools/setup_env.sh --with-tests

docs:  ## the documentation site into site/ (MkDocs; warnings and broken links fail)
	tools/setup_env.sh
	$(PY) -m pip install -q -r requirements/docs.txt
	$(PY) -m mkdocs build --strict --site-dir site
