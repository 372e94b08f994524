# Vigil: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

MODULES := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
BINARIES := vigil-ingest vigil-review vigilctl vigil-firehose
GOTEST_FLAGS ?= -count=1 -timeout 30m
export GOFLAGS ?= -buildvcs=false

# Tests reach the local stack through these; override the VIGIL_PG_* and
# VIGIL_KAFKA_* settings of deploy/local/lib.sh to move it.
VIGIL_PG_PORT ?= 5432
VIGIL_KAFKA_PORT ?= 9092
export TEST_DATABASE_URL ?= postgres://vigil:vigil@127.0.0.1:$(VIGIL_PG_PORT)/vigil?sslmode=disable
export TEST_KAFKA_BROKERS ?= 127.0.0.1:$(VIGIL_KAFKA_PORT)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: build
build: ## build every binary into bin/
	@mkdir -p bin
	go build -o bin/vigil-ingest ./services/ingest/cmd/vigil-ingest
	go build -o bin/vigil-review ./services/review/cmd/vigil-review
	go build -o bin/vigilctl ./services/vigilctl/cmd/vigilctl
	go build -o bin/vigil-firehose ./services/firehose/cmd/vigil-firehose

.PHONY: up
up: ## start the local stack (PostgreSQL and Kafka on loopback), installing what is missing
	bash deploy/local/stack.sh up

.PHONY: down
down: ## stop the local stack
	bash deploy/local/stack.sh down

.PHONY: status
status: ## say whether the local stack is up
	bash deploy/local/stack.sh status

.PHONY: demo
demo: up build ## run the whole pipeline with generated posts and print the review URL
	bash deploy/local/demo.sh start

.PHONY: demo-down
demo-down: ## stop the demo services (the stack keeps running; make down stops it)
	bash deploy/local/demo.sh stop

.PHONY: browser
browser: ## install Debian's Chromium for the browser tests if missing
	bash deploy/local/chromium.sh

.PHONY: promtool
promtool: ## fetch Prometheus's promtool (from Debian's package) for the alerting-rule tests
	bash deploy/local/promtool.sh

.PHONY: test
test: up browser promtool ## run every module's tests, integration tests included, against the local stack and Chromium
	@rc=0; for m in $(MODULES); do \
		echo "=== go test $$m"; \
		(cd $$m && VIGIL_INTEGRATION=require go test $(GOTEST_FLAGS) ./...) || rc=1; \
	done; exit $$rc

.PHONY: vet
vet: ## go vet and gofmt every module
	@for m in $(MODULES); do (cd $$m && go vet ./...); done
	@test -z "$$(gofmt -l services migrations)" || { gofmt -l services migrations; exit 1; }

.PHONY: bench
bench: up ## run the side-by-side benchmarks and print BENCH lines
	@for m in $(MODULES); do \
		(cd $$m && VIGIL_BENCH=1 go test -p 1 -count=1 -timeout 60m -run '^TestBench' -v ./... 2>&1) ; \
	done | grep --line-buffered -E '^(BENCH |--- FAIL|FAIL|panic:)' || true

.PHONY: clean
clean: ## remove build output (not the local stack's data; see make down)
	rm -rf bin
