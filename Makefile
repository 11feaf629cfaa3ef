# mediad: `make run` starts the daemon, `make test` runs every suite.
# Both work on a fresh Debian machine (as root, or with sudo for the apt packages).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= conf/mediad.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

# Real peers the interop suites drive: command -> Debian package (nginx: the caching edge;
# systemd-analyze: verifies conf/mediad.service; the browser e2e journey runs in Chromium,
# Firefox ESR and WebKitGTK, whose MiniBrowser WebKitWebDriver starts on an Xvfb display).
TEST_TOOLS := ffmpeg:ffmpeg ffprobe:ffmpeg srt-live-transmit:srt-tools \
	gst-launch-1.0:gstreamer1.0-tools chromium:chromium node:nodejs npm:npm \
	redis-server:redis-server nginx:nginx systemd-analyze:systemd prometheus:prometheus \
	firefox-esr:firefox-esr WebKitWebDriver:webkit2gtk-driver Xvfb:xvfb
# GStreamer: a peer of its own, and WebKitGTK's media stack (with GL and Mesa's software
# renderer, which it only recommends).
GST_PACKAGES := gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
	gstreamer1.0-gl libgl1-mesa-dri
BENCH_PACKAGES := nginx libnginx-mod-rtmp

.PHONY: run test lint test-deps bench-deps player dist clean

run: $(VENV)/.installed player
	@mkdir -p var
	@$(BIN)/mediad --config $(CONFIG) streams --reveal
	exec $(BIN)/mediad --config $(CONFIG) serve

# hls.js and playwright-core (driving Debian's chromium, never a downloaded browser).
HLSJS := tests/interop/hlsjs

# pytest on two workers: every interop test on one of them, one at a time in the serial order,
# the unit tests beside them (tests/conftest.py); the run takes about as long as the interop tests.
test: $(VENV)/.installed-test test-deps $(HLSJS)/node_modules/.installed player
	cd player-web && npx vitest run
	$(BIN)/python -m pytest -q -ra --durations=40 -n 2 --dist loadgroup

lint: $(VENV)/.installed-test
	$(BIN)/ruff check mediad ingest packager bench tests
	$(BIN)/mypy

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

$(HLSJS)/node_modules/.installed: $(HLSJS)/package.json $(HLSJS)/package-lock.json | test-deps
	cd $(HLSJS) && npm ci --no-audit --no-fund
	@touch $@

# Installs only what is missing, so a second `make test` costs nothing.
test-deps:
	@missing=""; \
	for pair in $(TEST_TOOLS); do \
		command -v "$${pair%%:*}" >/dev/null || [ -x "/usr/sbin/$${pair%%:*}" ] || \
			missing="$$missing $${pair#*:}"; \
	done; \
	for pkg in $(GST_PACKAGES); do \
		dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing test peers:$$missing"; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	fi

bench-deps: test-deps
	@missing=""; for pkg in $(BENCH_PACKAGES); do \
		dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	fi

# The web player, built into mediad/static (package data: a wheel needs no Node). It needs
# Node.js 20.19 or newer; npm ci runs again only when the lock file changed.
player: player-web/node_modules/.installed
	cd player-web && npm run build

player-web/node_modules/.installed: player-web/package.json player-web/package-lock.json
	@command -v npm >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends nodejs npm; }
	cd player-web && npm ci --no-audit --no-fund
	@touch $@

# The wheel and sdist a self-hoster installs (pip install dist/mediad-*.whl): the built
# player inside, so the machine that runs mediad needs no Node.
dist: $(VENV)/.installed-test player
	$(BIN)/python -m build --outdir dist

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache build dist
