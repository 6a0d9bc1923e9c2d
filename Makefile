# The two commands a new machine needs (see README): `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
LOCAL := DJANGO_DEBUG=true

.PHONY: demo test venv venv-dev lint check audit serve seed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

## Run the app on SQLite with Celery eager and the seed data, at http://localhost:8000
demo: venv
	$(LOCAL) $(PY) manage.py migrate --noinput
	$(LOCAL) $(PY) manage.py load_seed_data
	$(LOCAL) $(PY) manage.py runserver 127.0.0.1:8000

## Install the test dependencies and run the suite (PostgreSQL and Redis when reachable)
test: venv-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check: venv-dev
	$(LOCAL) $(PY) manage.py check
	$(LOCAL) $(PY) manage.py makemigrations --check --dry-run
	$(LOCAL) $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  DJANGO_ALLOWED_HOSTS=evidence.example.org $(PY) manage.py check --deploy --fail-level WARNING

## Check every installed dependency against known vulnerabilities (needs PyPI's JSON API, so not in .ci/run)
audit: venv-dev
	@$(PY) -c "import django, urllib.request; urllib.request.urlopen(f'https://pypi.org/pypi/django/{django.__version__}/json', timeout=15)" 2>/dev/null || { \
	  echo "make audit: PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) is not reachable from this machine, so no dependency can be audited. Run it where PyPI is reachable." >&2; exit 1; }
	$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off
