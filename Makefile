# Fieldline: `make run` serves the product with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev migrate demo lint check messages clean audit

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --no-input -v 0

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	@echo ""
	@echo "Fieldline is starting on http://$(HOST):$(PORT)/"
	@echo "  Admin:      http://$(HOST):$(PORT)/admin/      (wang / demo-pass-123: manager; exec / demo-pass-123: executive)"
	@echo "  Dashboard:  http://$(HOST):$(PORT)/dashboard/"
	@echo "  API docs:   http://$(HOST):$(PORT)/api/v1/docs"
	@echo "  Websocket:  ws://$(HOST):$(PORT)/ws/v1/stream"
	@echo "  SMS, in another terminal:"
	@echo "    $(PY) manage.py sms +8613800000001 \"SOLD CS75 LFV3A28K5L3012345\""
	@echo "    $(PY) manage.py sms +8613800000020 \"SHIP PO-1001 SF SF1234567 ETA +2\""
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .

check: install-dev
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .

test: check
	$(PY) -m pytest -n 2 -q

# Known vulnerabilities in the pinned requirements (needs PyPI's JSON API or OSV; .ci/run reports whether it could).
audit: install-dev
	$(VENV)/bin/pip-audit --strict --timeout 15 -r requirements.txt

messages: install-dev
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) fieldline.sqlite3 fieldline.sqlite3-* staticfiles
