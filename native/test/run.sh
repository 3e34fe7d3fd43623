#!/usr/bin/env bash
# run.sh — build the native core (no Node headers) with the stress tests under ThreadSanitizer
# and under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on), each against two
# parking backends (park/parker.h): the platform's own ("native": futex on Linux) and the
# portable parking lot (-DWEFT_PARKER_PORTABLE); then run every test case in its own process
# under each of these builds.
#
#   bash native/test/run.sh              # everything (npm run test:native)
#   bash native/test/run.sh NAME...      # only these test cases
#   STRESS_SCALE=10 bash native/test/run.sh   # soak: 10x the iterations
#   STRESS_SEED=123 ...                  # reproduce a seed (printed on failure)
#   SANITIZERS="tsan" ...                # only one sanitizer (tsan, asan)
#   PARKERS="native" ...                 # only one backend (native, portable)
#   CORE_DIR=/path/to/native ...         # test another copy of native/ (its core/ folder)
#   CORE_SOURCES="shared.cc chan/channel.cc ..."  # core files to build (default: all of core/)
#   JOBS=4 ...                           # parallel compile jobs (default: number of CPUs)
#
# Exits non-zero on a build failure, a failed check, a hang (watchdog) or any sanitizer
# report. The last line is "N passed, M failed", counting test cases x (sanitizer, backend)
# builds.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# CORE_DIR: the native tree whose core/ is tested (default: native/, next to this directory).
CORE_DIR="$(cd "${CORE_DIR:-$HERE/..}" && pwd)"
OUT="$HERE/out"
CXX="${CXX:-g++}"
SANITIZERS="${SANITIZERS:-tsan asan}"
PARKERS="${PARKERS:-native portable}"
mkdir -p "$OUT"

# The core is the folder native/core/: Node-free by rule. A Node, V8 or libuv header there is
# a build failure here (the addon's glue lives in native/node/ and is never linked into the tests).
if grep -rnE '#include *[<"]((napi|node_api|node|uv|v8)\.h|node/)' "$CORE_DIR/core"; then
  echo "native/core/ must not include Node-API, V8, libuv or native/node/ headers (above)"
  echo "0 passed, 1 failed"
  exit 1
fi

# Build from a snapshot of the sources, so that files edited while the build runs cannot mix
# two versions of a header into one binary. (Reports therefore show paths under out/src/.)
SRC="$OUT/src"
rm -rf "$SRC"
mkdir -p "$SRC/test"
cp -r "$CORE_DIR/core" "$SRC/core"
cp "$HERE"/*.h "$HERE"/*.cc "$SRC/test/"
if [ -n "${CORE_SOURCES:-}" ]; then  # override: space-separated paths under core/
  CORE_SRCS=()
  for f in $CORE_SOURCES; do CORE_SRCS+=("$SRC/core/$f"); done
else
  mapfile -t CORE_SRCS < <(find "$SRC/core" -name '*.cc' | sort)
fi
mapfile -t CORE_HDRS < <(find "$SRC/core" -name '*.h' | sort)
TEST_SRCS=("$SRC/test"/*.cc)
# -DWEFT_STRESS_HOOKS: the core widens a few race windows that are nanoseconds wide in a
# release build (ring.cc: a batch receiver between its claim and its frees), so these tests
# reach the interleavings that a preempted thread reaches in production.
BASE_FLAGS=(-std=c++20 -Wall -Wextra -O1 -g -pthread -fno-omit-frame-pointer -DWEFT_STRESS_HOOKS)

flags_for() {
  case "$1" in
    # -Wno-tsan: the ring's seq_cst fences order head/tail loads only (values are published by
    # the slot stamps' release/acquire, which TSan does model), so TSan not modelling
    # atomic_thread_fence does not matter here.
    tsan) echo "-fsanitize=thread -Wno-tsan" ;;
    asan) echo "-fsanitize=address,undefined -fno-sanitize-recover=all" ;;
  esac
}

# Sanitizer reports are fatal; caller-supplied options come last and win.
export TSAN_OPTIONS="halt_on_error=1 abort_on_error=0 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="halt_on_error=1 abort_on_error=0 exitcode=67 detect_leaks=1 detect_stack_use_after_return=1 check_initialization_order=1 strict_init_order=1 ${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 ${UBSAN_OPTIONS:-}"
: "${STRESS_SEED:=$(date +%s%N)}"
export STRESS_SEED

start=$(date +%s)

# ---- build -------------------------------------------------------------------------------
# A build is skipped when its inputs (sources, headers, flags, compiler) are unchanged.
inputs_hash() {
  {
    "$CXX" --version
    echo "${BASE_FLAGS[*]} $(flags_for "$1") parkers: $PARKERS"
    cat "${CORE_HDRS[@]}" "${CORE_SRCS[@]}" "$SRC/test"/*.h "${TEST_SRCS[@]}"
  } | sha256sum | cut -d' ' -f1
}
# Every (sanitizer, source) pair is one compile job; JOBS of them run at once (default: the
# number of CPUs), slowest first (UBSan makes the asan objects the expensive ones), then each
# variant is linked. Only the backend files (core/park/parker_*.cc, the only includers of
# park/backend.h) depend on the backend: they are compiled once per backend into
# obj-SAN/PARKER/, everything else once per sanitizer, and stress-SAN-PARKER links the two.
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
parker_flags() { [ "$1" = portable ] && echo "-DWEFT_PARKER_PORTABLE"; }
is_backend_src() { case "$1" in */core/park/parker_*.cc) return 0 ;; *) return 1 ;; esac; }
to_build=()
for san in $SANITIZERS; do
  hash="$(inputs_hash "$san")"
  fresh=1
  for parker in $PARKERS; do
    [ -x "$OUT/stress-$san-$parker" ] || fresh=0
  done
  if [ "$fresh" = 1 ] && [ "$(cat "$OUT/stress-$san.hash" 2>/dev/null)" = "$hash" ]; then
    continue
  fi
  rm -rf "$OUT/stress-$san"-* "$OUT/stress-$san.hash" "$OUT/obj-$san"
  mkdir -p "$OUT/obj-$san"
  for parker in $PARKERS; do mkdir -p "$OUT/obj-$san/$parker"; done
  echo "$hash" >"$OUT/obj-$san/pending.hash"
  to_build+=("$san")
done
jobs_list=()
for san in $(printf '%s\n' "${to_build[@]}" | sort); do  # asan before tsan
  for src in "${TEST_SRCS[@]}" "${CORE_SRCS[@]}"; do
    if is_backend_src "$src"; then
      for parker in $PARKERS; do jobs_list+=("$san $parker $src"); done
    else
      jobs_list+=("$san - $src")
    fi
  done
done
compile_one() {  # san parker(- for common) src
  local obj dir="$OUT/obj-$1"
  [ "$2" != - ] && dir="$dir/$2"
  local rel="${3#"$SRC"/}"
  obj="$dir/${rel//\//_}"
  obj="${obj%.cc}.o"
  # shellcheck disable=SC2046
  "$CXX" "${BASE_FLAGS[@]}" $(flags_for "$1") $(parker_flags "$2") -I"$SRC" -c "$3" -o "$obj" \
    >"$obj.log" 2>&1
}
build_failed=0
running=0
for job in "${jobs_list[@]}"; do
  # shellcheck disable=SC2086
  compile_one $job &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || build_failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || build_failed=1
  running=$((running - 1))
done
for san in "${to_build[@]}"; do
  for parker in $PARKERS; do
    if [ "$build_failed" -eq 0 ]; then
      # shellcheck disable=SC2046
      "$CXX" "${BASE_FLAGS[@]}" $(flags_for "$san") "$OUT/obj-$san"/*.o "$OUT/obj-$san/$parker"/*.o \
        -o "$OUT/stress-$san-$parker" >"$OUT/obj-$san/$parker/link.log" 2>&1 || build_failed=1
    fi
  done
  logs="$(cat "$OUT/obj-$san"/*.log "$OUT/obj-$san"/*/*.log 2>/dev/null)"
  if [ -n "$logs" ]; then
    echo "compiler output ($san):"
    echo "$logs"
  fi
  [ "$build_failed" -eq 0 ] && mv "$OUT/obj-$san/pending.hash" "$OUT/stress-$san.hash"
done
if [ "$build_failed" -ne 0 ]; then
  echo "BUILD FAILED"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "core: $(cd "$SRC" && find core -name '*.cc' | sort | tr '\n' ' ')"
echo "built in $(( $(date +%s) - start )) s (STRESS_SCALE=${STRESS_SCALE:-1} STRESS_SEED=$STRESS_SEED)"

# ---- run ---------------------------------------------------------------------------------
passed=0
failed=0
failures=()
# The backend each variant must report (test parker_backend_selected).
native_backend() {
  case "$(uname -s)" in
    Linux) echo futex ;;
    *) echo "" ;;  # macOS: os_sync or ulock, decided at run time; not checked
  esac
}
for san in $SANITIZERS; do
  for parker in $PARKERS; do
    bin="$OUT/stress-$san-$parker"
    variant="$san/$parker"
    if [ "$parker" = portable ]; then
      export WEFT_EXPECT_PARKER=portable
    else
      WEFT_EXPECT_PARKER="$(native_backend)"
      export WEFT_EXPECT_PARKER
    fi
    if [ "$#" -gt 0 ]; then names=("$@"); else mapfile -t names < <("$bin" --list); fi
    for name in "${names[@]}"; do
      log="$OUT/$san-$parker-$name.log"
      t0=$(date +%s%N)
      "$bin" "$name" >"$log" 2>&1
      rc=$?
      ms=$(( ($(date +%s%N) - t0) / 1000000 ))
      if [ "$rc" -eq 0 ] && grep -q "^PASS $name " "$log" && ! grep -qE "Sanitizer|runtime error:" "$log"; then
        passed=$((passed + 1))
        printf '  ok    %-14s %-40s %6d ms\n' "$variant" "$name" "$ms"
      else
        failed=$((failed + 1))
        failures+=("$variant/$name")
        printf '  FAIL  %-14s %-40s %6d ms (exit %d)\n' "$variant" "$name" "$ms" "$rc"
        sed 's/^/        | /' "$log" | head -n 80
      fi
    done
  done
done

echo "total $(( $(date +%s) - start )) s"
if [ "$failed" -ne 0 ]; then
  echo "failed: ${failures[*]} (logs in $OUT; STRESS_SEED=$STRESS_SEED)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
