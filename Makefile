# The two commands a fresh clone needs: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PORT ?= 8000
# The suite runs on one pytest-xdist worker per core (`make test TEST_WORKERS=0` runs it in one process).
TEST_WORKERS ?= auto
VAR := $(or $(TGB_VAR_DIR),$(CURDIR)/var)
# The write path and the rules of who may do what are type-checked (mypy with django-stubs).
TYPED = $(wildcard */services/ */services.py */permissions.py) governance/subjects.py

.PHONY: run test lint format bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

# For `make run` only (the test suite sets its own):
# links in e-mails and iCal feeds follow the port the portal is served on;
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
# the record's name stays what a local run has always signed as, whatever port serves it (the
# log key in var/ is named by it);
run: export LOG_ORIGIN ?= 127.0.0.1:8000/audit
# the demo's e-mails go to files under var/mail/, not over the logins in the terminal;
run: export EMAIL_URL ?= filemail:///$(VAR)/mail
# static files under hashed names, gzipped, cached for a year by the browser (whitenoise):
# plotly's 4.8 MB are fetched once, compressed, and never again until they change.
run: export STATIC_MANIFEST ?= 1
# the worker and beat log warnings only: at INFO, beat's 2-second schedule and the demo's
# notifications printed 200 lines a minute and pushed the logins off the screen;
run: export CELERY_LOG_LEVEL ?= WARNING
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo --if-empty --no-logins
	$(BIN)/python manage.py local_witnesses
	@echo
	@echo "  TGB portal: $(SITE_URL)/   (Ctrl-C stops the web server, worker, beat and both witnesses)"
	@echo "  The record's cosigned checkpoint: $(SITE_URL)/transparency/checkpoint"
	@echo "  E-mails the portal sends are written to $(VAR)/mail/"
	@$(BIN)/python manage.py seed_demo --logins
	@echo
	LOG_WITNESSES="$(VAR)/witnesses" PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: venv node_modules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy $(TYPED)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# axe-core, which the browser tests inject into every page they visit (package-lock.json pins it).
node_modules: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# `make bench` runs every benchmark; `make bench B=vote` one of them.
bench: venv
	$(BIN)/python -m bench $(B)

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .ruff_cache .hypothesis test-artifacts
