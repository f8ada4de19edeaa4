# tracetape - top-level build.  `make help` lists the targets.
#
# Two binaries keep the dependencies honest:
#   build/tracetape         analyzer + entry point: libc and libzstd only
#   build/tracetape-record  recorder: libbpf, libelf, zlib, zstd, BPF skeleton

VERSION    := 0.1.0
BUILD      ?= build
CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
PREFIX     ?= /usr/local
DESTDIR    ?=
SAN        ?=

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) $(SAN) -MMD -MP \
            -DTT_VERSION='"$(VERSION)"' -I. -Iformat -Ibpf -I$(BUILD)/bpf
LDFLAGS  += $(SAN)

FORMAT_SRC := $(wildcard format/*.c)
REPLAY_SRC := $(wildcard replay/*.c)
RECORD_SRC := $(wildcard record/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
BENCH_SRC  := $(wildcard bench/*.c)
TOOL_SRC   := $(wildcard tests/e2e/*.c)

FORMAT_OBJ := $(FORMAT_SRC:%.c=$(BUILD)/obj/%.o)
REPLAY_OBJ := $(REPLAY_SRC:%.c=$(BUILD)/obj/%.o)
REPLAY_LIB := $(filter-out $(BUILD)/obj/replay/main.o,$(REPLAY_OBJ))
RECORD_OBJ := $(RECORD_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
TOOL_BIN   := $(TOOL_SRC:tests/e2e/%.c=$(BUILD)/tests/%)

LIBTAPE    := $(BUILD)/libtape.a
SKEL       := $(BUILD)/bpf/tracetape.skel.h
VMLINUX    := $(BUILD)/bpf/vmlinux.h
RECORD_LIBS := -lbpf -lelf -lz -lzstd -lpthread

.PHONY: all help deps check-tools test unit e2e asan fuzz fuzz-smoke bench \
        install static format clean demo vm-test

all: $(BUILD)/tracetape $(BUILD)/tracetape-record $(TOOL_BIN)

help:
	@echo "make            build build/tracetape and build/tracetape-record"
	@echo "make demo       replay a bundled sample tape (the main job; no root)"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make test       unit tests, then end-to-end tests (these need root)"
	@echo "make unit       unit tests only (no root)"
	@echo "make asan       unit tests built with ASan+UBSan"
	@echo "make vm-test    record and check on Debian's 6.1 kernel under QEMU (root)"
	@echo "make fuzz-smoke 60 s libFuzzer run of the tape reader"
	@echo "make bench      benchmarks that print figures"
	@echo "make static     a static build/tracetape-record"
	@echo "make install PREFIX=/usr/local DESTDIR="
	@echo "make format     clang-format every source file"

deps:
	bash tools/install-deps.sh

# Name the Debian package for any tool or library the build misses.
check-tools:
	@bash tools/check-tools.sh

# ---- format library ------------------------------------------------
$(LIBTAPE): $(FORMAT_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c | check-tools
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# ---- analyzer ------------------------------------------------------
$(BUILD)/tracetape: $(REPLAY_OBJ) $(LIBTAPE)
	$(CC) $(LDFLAGS) -o $@ $^ -lzstd -lm

# ---- BPF -----------------------------------------------------------
$(VMLINUX):
	@mkdir -p $(dir $@)
	@test -r /sys/kernel/btf/vmlinux || { echo "error: /sys/kernel/btf/vmlinux missing: this kernel has no BTF; build on a kernel with CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/tracetape.bpf.o: bpf/tracetape.bpf.c bpf/tt_events.h $(wildcard bpf/*.h) $(VMLINUX)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-I$(BUILD)/bpf -Ibpf -c $< -o $@

$(SKEL): $(BUILD)/bpf/tracetape.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(RECORD_OBJ): $(SKEL)

# ---- recorder ------------------------------------------------------
$(BUILD)/tracetape-record: $(RECORD_OBJ) $(LIBTAPE)
	$(CC) $(LDFLAGS) -o $@ $^ $(RECORD_LIBS)

static: $(RECORD_OBJ) $(LIBTAPE)
	$(CC) -static $(LDFLAGS) -o $(BUILD)/tracetape-record-static $^ $(RECORD_LIBS)
	@echo "built $(BUILD)/tracetape-record-static"

# ---- tests ---------------------------------------------------------
$(BUILD)/tests/test_%: tests/unit/test_%.c $(REPLAY_LIB) $(LIBTAPE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Ireplay -o $@ $^ $(LDFLAGS) -lcmocka -lzstd -lm

# the recorder's redaction is plain C with no BPF: unit-tested directly
$(BUILD)/tests/test_redact: tests/unit/test_redact.c record/redact.c $(REPLAY_LIB) $(LIBTAPE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Ireplay -Irecord -o $@ $^ $(LDFLAGS) -lcmocka -lzstd -lm

$(BUILD)/tests/%: tests/e2e/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

unit: $(UNIT_BIN) $(BUILD)/tracetape
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; \
	 if [ $$fail -ne 0 ]; then echo "unit tests FAILED"; exit 1; fi; echo "unit tests passed"

e2e: all
	bash tests/e2e/run.sh $(BUILD)
	bash tests/e2e/analyses.sh $(BUILD)

test: unit e2e

# The recorder on a second kernel (Debian's 6.1 under QEMU; root).
vm-test: all
	bash tests/vm/run.sh $(BUILD)

demo: $(BUILD)/tracetape
	bash tools/demo.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CC=clang SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" unit

# ---- fuzzing -------------------------------------------------------
$(BUILD)/fuzz/fuzz_reader: tests/fuzz/fuzz_reader.c $(FORMAT_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -Iformat -Ibpf \
		-fsanitize=fuzzer,address,undefined -o $@ $^ -lzstd

fuzz: $(BUILD)/fuzz/fuzz_reader

fuzz-smoke: $(BUILD)/fuzz/fuzz_reader
	bash tests/fuzz/smoke.sh $(BUILD) 60

# ---- benchmarks ----------------------------------------------------
$(BUILD)/bench/%: bench/%.c $(REPLAY_LIB) $(LIBTAPE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ireplay -o $@ $^ $(LDFLAGS) -lzstd -lm

bench: all $(BENCH_BIN)
	bash bench/run.sh $(BUILD)

# ---- install -------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/tracetape \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/tracetape $(DESTDIR)$(PREFIX)/bin/tracetape
	install -m 0755 $(BUILD)/tracetape-record $(DESTDIR)$(PREFIX)/bin/tracetape-record
	install -m 0644 docs/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
