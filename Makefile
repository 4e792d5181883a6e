# pipelab — see README.md. Every target works from a fresh clone.
GO        ?= go
BIN       := bin/pipelab
OUT       ?= pipelab-out
FUZZTIME  ?= 100000x
STATICCHECK_VERSION := v0.8.2

.PHONY: build run test bench overhead fuzz lint matrix clean

build:
	$(GO) build -o $(BIN) ./cmd/pipelab

# The main job: profile every step of the post and write $(OUT)/report.md
# (replacing the results a previous make run left there).
run: build
	./$(BIN) ladder --replace --out $(OUT)

# Everything. Tests that need perf events or huge pages skip with a reason
# when the machine refuses them (PIPELAB_REQUIRE_PERF=1 turns skips into failures).
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 8m ./...

# Throughput of every mode (1GiB, 5 runs each) and the profiling benchmarks.
bench: build
	./$(BIN) run --mode all --bytes 1GiB --repeat 5
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./...

# What profiling costs, per mode (docs/measurements.md, "Profiling
# overhead"): the cpu and wall views and perf record -a against unprofiled transfers,
# interleaved, at 999 and 99 Hz, each as the machine idles and under the
# keep-cpus-awake request (4GiB transfers there, as awake ones are 4-6x
# shorter). ROUNDS rounds each; run it on a quiet machine.
ROUNDS ?= 7
overhead:
	@set -e; for args in "" "-overhead.awake -overhead.bytes 4GiB" "-overhead.freq 99" "-overhead.freq 99 -overhead.awake -overhead.bytes 4GiB"; do \
	  echo "BenchmarkOverhead -overhead.rounds $(ROUNDS) $$args"; \
	  $(GO) test -run '^$$' -bench Overhead -benchtime 1x -timeout 60m ./profile -args -overhead.rounds $(ROUNDS) $$args; \
	done

# Whether pipelab's profiles are the transfers' (docs/measurements.md,
# "Sampling fidelity"): per mode, pipelab's profile of a transfer against
# perf record's of the very same transfer, FIDELITY_RUNS transfers each;
# needs Debian's linux-perf. FIDELITY_FLAGS adds more, e.g. the witness and
# the reference ("-fidelity.witness -fidelity.ref-runs 20") or other
# phasings of pipelab's timers ("-fidelity.phasing spread,in-step").
FIDELITY_RUNS ?= 2
FIDELITY_FLAGS ?=
fidelity:
	$(GO) test -run '^$$' -bench Fidelity -benchtime 1x -timeout 60m ./profile -args -fidelity.runs $(FIDELITY_RUNS) $(FIDELITY_FLAGS)

# Every fuzz target for $(FUZZTIME) each: a count of executions (Nx), not
# a duration, because with a duration Go 1.26's fuzz coordinator can fail
# a target with a bare "context deadline exceeded" as the time runs out
# (golang/go#75804, fixed in Go 1.27); CI hit it once.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; \
	done

# Boot Debian's 6.1 and 6.12 cloud kernels, amd64 and arm64, under QEMU and
# run the end-to-end checks (package e2e) in each; writes docs/matrix.md and
# keeps each guest's console, files and ladder under $(MATRIX_OUT).
# MATRIX_FLAGS="--series 6.12 --arch amd64" boots one kernel (docs untouched).
MATRIX_OUT   ?= matrix-out
MATRIX_FLAGS ?=
matrix:
	$(GO) build -o bin/matrix ./cmd/matrix
	./bin/matrix --out $(MATRIX_OUT) $(MATRIX_FLAGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

clean:
	rm -rf bin $(OUT) $(MATRIX_OUT)
