# Điểm Cầu: set-up and entry points. Every set-up step is an idempotent script named ensure_*,
# quick on a second run (stamps in .stamps/), so `make demo` and `make test` work on a fresh machine.
#
#   make demo    set up, initialise the demo data, and run the hub (Ctrl-C stops it)
#   make test    set up (with Chromium, PostgreSQL and Redis) and run the test suite: the tests that start hubs or
#                make system users alone, the rest first on TEST_WORKERS processes (pytest-xdist; 0: one process);
#                PYTEST_ARGS="-k foo" passes on (a phase that selects nothing is not a failure)
#   make cluster start a small cluster on this machine (root): PostgreSQL, Redis and nginx on a data host, API
#                hosts, worker hosts and the hub's host, each in a network namespace of its own, with the demo
#                province; prints the members' and the hub's addresses (Ctrl-C stops it; docs/cluster.md)
#   make bench   run the benchmarks
#   make clean   remove the local data (var/) and the set-up stamps

.DEFAULT_GOAL := help
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

# What runs the platform finds configurable-http-proxy in node_modules/.bin and the venv's commands
# (jupyterhub-singleuser) before anything else on PATH.
demo test cluster bench: export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
# A PostgreSQL or Redis that cannot be reached fails the run instead of skipping its tests (see tests/conftest.py).
test: export DIEMCAU_REQUIRE_POSTGRES := 1
test: export DIEMCAU_REQUIRE_REDIS := 1
# Likewise a missing nginx fails the nginx tests instead of skipping them (tests/nginx_front.py).
test: export DIEMCAU_REQUIRE_NGINX := 1

.PHONY: help setup setup-test demo test cluster bench clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

setup:
	bash scripts/ensure_system.sh demo
	bash scripts/ensure_venv.sh
	bash scripts/ensure_node.sh

setup-test:
	bash scripts/ensure_system.sh test
	bash scripts/ensure_venv.sh
	bash scripts/ensure_node.sh
	bash scripts/ensure_postgres.sh
	bash scripts/ensure_redis.sh

# exec: the recipe's shell gives way to `diemcau hub`, which waits for the hub and stops it cleanly on Ctrl-C.
demo: setup
	.venv/bin/diemcau init --demo
	exec .venv/bin/diemcau hub --demo-logins

test: setup-test
	.venv/bin/python -m pytest -n $(TEST_WORKERS) -m "not system_users" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	.venv/bin/python -m pytest -m system_users $(PYTEST_ARGS) || [ $$? -eq 5 ]

cluster: setup-test
	.venv/bin/python -m diemcau.devcluster

bench: setup
	.venv/bin/python bench/portal_weight.py
	.venv/bin/python bench/login_time.py

clean:
	rm -rf var .stamps
