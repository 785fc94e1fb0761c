# The README's two commands are `make demo` and `make test`; both set up
# this machine first (Debian, as root).
GO ?= go

# What the tests and the demo use: Java and ZooKeeper (the servers), sshd and
# iproute2 (namespace hosts), nftables (partitions), sudo and dpkg-dev (the
# VM-like hosts' logins and offline apt repository), logback (the Apache-layout
# release the tarball test assembles), python3-kazoo (the Python roles), tmux
# (the full-screen test of `zkctl watch`).
PACKAGES = default-jre-headless zookeeper openssh-server iproute2 nftables sudo dpkg-dev liblogback-java python3 python3-kazoo tmux

.PHONY: setup build demo test vet lint bench clean net-2s

setup:
	@if ! command -v java >/dev/null || [ ! -f /usr/share/java/zookeeper.jar ] || [ ! -x /usr/sbin/sshd ] || ! command -v ip >/dev/null \
		|| ! command -v nft >/dev/null || ! command -v sudo >/dev/null || ! command -v dpkg-scanpackages >/dev/null \
		|| [ ! -f /usr/share/java/logback-classic.jar ] || [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import kazoo' 2>/dev/null \
		|| ! command -v tmux >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(PACKAGES); \
	fi
	$(GO) mod download

build:
	$(GO) build -o zkctl ./cmd/zkctl

# The main job: the three-server ensemble on this machine, then every scenario.
demo: setup build
	./zkctl deploy
	./zkctl reset -y
	./zkctl status
	./zkctl scenario all --report docs/report.md
	@# The network scenarios need hosts with their own addresses: as root,
	@# three network-namespace hosts made the way the tests make them.
	@if [ "$$(id -u)" = 0 ]; then \
		ZKCTL_DEMO_REPORT=$(CURDIR)/docs/report-network.md $(GO) test -count=1 -timeout 20m -run '^TestDemoNetwork$$' -v ./scenario; \
	else \
		echo "skipped the network scenarios: they need root to make network-namespace hosts"; \
	fi

# Beside the suite (minutes, as root): master-partition, worker-partition
# and zk-leader-partition on three network-namespace hosts at ZooKeeper's
# default tickTime of 2 s with a 6 s session timeout, where a cut-off
# server notices after syncLimit x tickTime = 20 s. Report: docs/report-2s-tick.md.
net-2s: setup
	ZKCTL_DEMO_REPORT=$(CURDIR)/docs/report-2s-tick.md ZKCTL_DEMO_TICK=2s ZKCTL_DEMO_SESSION=6s \
		ZKCTL_DEMO_SCENARIOS="master-partition worker-partition zk-leader-partition" \
		$(GO) test -count=1 -timeout 40m -run '^TestDemoNetwork$$' -v ./scenario

vet:
	$(GO) vet ./...

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The fuzz target runs first, for a bounded time, so that the last lines
# are the whole suite's. Then two test packages run at once (TESTP): their
# labs cannot collide (README "Tests"). The slowest packages are named
# first so that they start first; ./... adds the others once.
TESTP ?= 2
TESTPKGS = ./scenario ./roles ./deploy ./...
test: setup vet
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 15s ./deploy/inventory
	$(GO) test -p $(TESTP) -timeout 40m -count=1 $(TESTPKGS)

bench: build
	./zkctl bench

clean:
	rm -rf zkctl .zkctl
