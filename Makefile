# Open12315: `make run` starts the platform, `make test` runs every check. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: install run test lint typecheck pytest bench messages clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	PORT=$(PORT) $(BIN)/python manage.py serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

test: lint typecheck $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python manage.py bench

# Refresh the English catalogue after adding strings (needs GNU gettext: apt-get install gettext).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l en --no-obsolete \
		--ignore "var/*" --ignore ".venv/*" --ignore "tests/*" --ignore "static/*"
	$(BIN)/python manage.py compilemessages -l en --ignore ".venv/*"

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
