# baton: `make demo` and `make test` do all set-up they need (Debian packages, npm, addon, agent, image).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Debian packages the build, the guest image and the tests use. chromium renders the status
# page in its tests (headless). resource-agents gives the Pacemaker agent's shell library and
# ocf-tester (which lints meta-data with libxml2-utils' xmllint); shellcheck checks the agent and
# the sample scripts, which read JSON with jq.
APT_PACKAGES := qemu-system-x86 qemu-utils busybox-static libjansson-dev cpio build-essential \
	python3 kmod zstd xz-utils ca-certificates e2fsprogs mmdebstrap chromium \
	resource-agents libxml2-utils shellcheck jq
STAMPS := .make
NODE_MIN_MAJOR := 20
# Build the addon against the installed Node's headers (no download) when they are there.
NODE_PREFIX := $(shell dirname "$$(dirname "$$(command -v node)")")
NODEDIR_FLAG := $(if $(wildcard $(NODE_PREFIX)/include/node/common.gypi),--nodedir=$(NODE_PREFIX))

TS_SOURCES := $(shell find src -name '*.ts' 2>/dev/null)
NATIVE_SOURCES := binding.gyp $(wildcard native/src/*.cc native/src/*.h)
AGENT_SOURCES := guest-agent/Makefile $(wildcard guest-agent/src/*.c guest-agent/src/*.h)
AGENT_PKG_SOURCES := $(wildcard guest-agent/pkg/*) guest-agent/README.md
DEBIAN_IMAGE_INPUTS := $(shell find images/debian -type f 2>/dev/null)
KVD_SOURCES := images/apps/Makefile $(wildcard images/apps/kvd/*.c images/apps/kvd/*.h)
IMAGE_INPUTS := $(wildcard images/build.sh images/lib/* images/kernel.lock images/modules.list images/kernel-config.required) \
	$(shell find images/rootfs -type f 2>/dev/null) guest-agent/out/baton-agent

NATIVE_ADDON := build/Release/baton_native.node
AGENT := guest-agent/out/baton-agent
KVD := images/apps/out/kvd
IMAGE := images/out/initramfs.cpio.gz
AGENT_VERSION := $(shell sed -n 's/^\#define AGENT_VERSION "\(.*\)"$$/\1/p' guest-agent/src/agent.h)
AGENT_DEB := guest-agent/out/baton-agent_$(AGENT_VERSION)_amd64.deb
DEBIAN_IMAGE := images/out/debian/base.qcow2
DIST := dist/cli/main.js

.PHONY: setup build images test test-unit test-integration lint demo bench qmp-transcripts clean check-node qemu-user \
	check-agent check-kvd check-native

## setup: Debian packages (apt-get), npm packages (npm ci) and QEMU's own user; skips what is already there.
setup: check-node $(STAMPS)/apt node_modules/.package-lock.json qemu-user

check-node:
	@command -v node >/dev/null || { echo "Node.js $(NODE_MIN_MAJOR) is missing: install Debian's nodejs package or Node $(NODE_MIN_MAJOR) from nodejs.org" >&2; exit 1; }
	@major=$$(node -p 'process.versions.node.split(".")[0]'); \
	  [ "$$major" -ge $(NODE_MIN_MAJOR) ] || { echo "Node.js $$major is too old: baton needs Node $(NODE_MIN_MAJOR) or newer" >&2; exit 1; }

$(STAMPS)/apt: Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "setup: installing packages needs root (run as root or: sudo apt-get install" $$missing")" >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "setup: Debian packages present"; fi
	@mkdir -p $(STAMPS) && touch $@

# QEMU runs as this unprivileged system user when the daemon is root (src/vm/qemu-user.ts).
QEMU_USER := baton-qemu
qemu-user:
	@if id -u $(QEMU_USER) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" -eq 0 ]; then \
	  echo "setup: creating the system user $(QEMU_USER) for QEMU"; \
	  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $(QEMU_USER); \
	else echo "setup: no user $(QEMU_USER) (needs root to create): QEMU will run as $$(id -un)"; fi

node_modules/.package-lock.json: package.json package-lock.json
	@echo "setup: npm ci"
	npm ci --no-audit --no-fund
	@touch $@

## build: the native addon, the TypeScript output and the guest agent.
build: setup $(NATIVE_ADDON) $(DIST) $(AGENT)

# npm ci builds the addon itself (binding.gyp at the package root runs node-gyp rebuild), so
# a fresh npm ci is no reason to build it again.
$(NATIVE_ADDON): $(NATIVE_SOURCES) | node_modules/.package-lock.json
	@echo "build: native addon"
	@mkdir -p $(STAMPS)
	@npx --no-install node-gyp rebuild $(NODEDIR_FLAG) > $(STAMPS)/node-gyp.log 2>&1 || { cat $(STAMPS)/node-gyp.log; exit 1; }

$(DIST): $(TS_SOURCES) tsconfig.json tsconfig.build.json node_modules/.package-lock.json
	@echo "build: TypeScript"
	npx --no-install tsc -p tsconfig.build.json
	@touch $@

$(AGENT): $(AGENT_SOURCES) $(STAMPS)/apt
	@echo "build: guest agent"
	$(MAKE) -s -C guest-agent

$(AGENT_DEB): $(AGENT) $(AGENT_PKG_SOURCES)
	@echo "build: guest agent package"
	$(MAKE) -s -C guest-agent deb

## images: the guest kernel and initramfs (images/out/), and the Debian 12 guest (images/out/debian/).
images: setup $(IMAGE) $(DEBIAN_IMAGE)

$(KVD): $(KVD_SOURCES) $(STAMPS)/apt
	@echo "build: demo app kvd"
	$(MAKE) -s -C images/apps

$(IMAGE): $(IMAGE_INPUTS) $(AGENT) $(KVD)
	images/build.sh

# The script itself decides whether its inputs changed (a content hash, like images/build.sh).
$(DEBIAN_IMAGE): $(DEBIAN_IMAGE_INPUTS) $(AGENT_DEB)
	images/debian/build.sh

## lint: biome (TS) and the type checker.
lint: setup
	npx --no-install biome check .
	npx --no-install tsc -p tsconfig.json --noEmit

## test: everything, ending with the vitest summary (unit, then integration on real guests).
# The images, the lint and the C tests build and run side by side (-j3): the image builds keep the
# cores busy while the agent's tests mostly wait on their child processes. -Oline keeps each output
# line whole.
test: build
	$(MAKE) -s -j3 -Oline images lint check-agent check-kvd check-native
	npx --no-install vitest run --reporter=verbose

# Each C suite after the artefact the image builds share, so no two makes build it in one folder.
check-agent: $(AGENT_DEB)
	$(MAKE) -s -C guest-agent test deb-check

check-kvd: $(KVD)
	$(MAKE) -s -C images/apps test

check-native: $(NATIVE_ADDON)
	$(MAKE) -s -C native test

test-unit: build
	npx --no-install vitest run --project unit --project unit-mocked

test-integration: build images
	npx --no-install vitest run --project integration

## demo: the main job: the pair under client traffic through an app crash, a crash loop and a guest panic.
demo: build images
	node bin/baton.js demo

clean:
	rm -rf dist build images/out $(STAMPS)
	$(MAKE) -s -C guest-agent clean
	$(MAKE) -s -C images/apps clean

## bench: recovery by phase for four faults against a cold restart, memory against a static full-size
## standby, scaling and overhead, on real guests; writes bench/results/<date>.json, .md and .svg.
## BENCH_ARGS passes options to `baton bench` (e.g. BENCH_ARGS="--runs 3 --scaling-runs 2").
BENCH_ARGS ?=
bench: build images
	node bin/baton.js bench $(BENCH_ARGS)

## qmp-transcripts: re-record the QEMU transcripts the unit tests replay (test/fixtures/qmp/).
qmp-transcripts: build images
	npx --no-install tsx scripts/record-qmp-transcripts.ts
