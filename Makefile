# vipcare — make demo · make test · make bench · make lint
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PYTEST  = $(BIN)/pytest -p no:cacheprovider

.PHONY: demo serve test test-sqlite test-postgres bench lint messages clean

APP = $(VENV)/.installed-app
DEV = $(VENV)/.installed-dev

$(APP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV): $(APP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Start vipcare with demo data on the embedded SQLite database: http://127.0.0.1:8000/
demo: $(APP)
	$(BIN)/vipcare demo --if-empty
	$(BIN)/vipcare serve

serve: $(APP)
	$(BIN)/vipcare serve

## The whole suite, on SQLite and on a real PostgreSQL server started for the run
test: $(DEV)
	scripts/install-test-deps
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(DEV)
	$(PYTEST) $(ARGS)

test-postgres: $(DEV)
	scripts/with-postgres $(PYTEST) $(ARGS)

bench: $(DEV)
	$(BIN)/python benchmarks/run_all.py

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks

messages: $(DEV)
	cd src/vipcare && VIPCARE_DATA_DIR=$(CURDIR)/var ../../$(BIN)/vipcare makemessages -l zh_Hans --no-obsolete && VIPCARE_DATA_DIR=$(CURDIR)/var ../../$(BIN)/vipcare compilemessages

clean:
	rm -rf $(VENV) var
