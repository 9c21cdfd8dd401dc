# The two entry points of the README. Each sets up .venv by itself
# (tools/setup_env.sh: idempotent, quick once the environment exists).
PY := .venv/bin/python

.PHONY: demo test test-fast env

demo:  ## the main job: the DistilPose story on generated data
	tools/setup_env.sh
	$(PY) tools/demo.py

test:  ## the test suite (what CI runs)
	tools/setup_env.sh --with-tests
	$(PY) -m pytest -q

test-fast:  ## the suite without the slow end-to-end runs
	tools/setup_env.sh --with-tests
	$(PY) -m pytest -q -m "not slow"

env:
	tools/setup_env.sh --with-tests
