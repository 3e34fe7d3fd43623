#!/usr/bin/env bash
# run.sh — build the native core (no Node headers) with the stress tests twice, once under
# ThreadSanitizer and once under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer
# on), then run every test case in its own process under both.
#
#   bash native/test/run.sh              # everything (npm run test:native)
#   bash native/test/run.sh NAME...      # only these test cases
#   STRESS_SCALE=10 bash native/test/run.sh   # soak: 10x the iterations
#   STRESS_SEED=123 ...                  # reproduce a seed (printed on failure)
#   SANITIZERS="tsan" ...                # only one build (tsan, asan)
#   CORE_DIR=/path/to/core ...           # test another copy of the core sources
#
# Exits non-zero on a build failure, a failed check, a hang (watchdog) or any sanitizer
# report. The last line is "N passed, M failed", counting test cases x sanitizer builds.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# CORE_DIR: the core sources to test (default: native/, next to this directory).
CORE_DIR="$(cd "${CORE_DIR:-$HERE/..}" && pwd)"
OUT="$HERE/out"
CXX="${CXX:-g++}"
SANITIZERS="${SANITIZERS:-tsan asan}"
mkdir -p "$OUT"

CORE_SRCS=("$CORE_DIR/registry.cc" "$CORE_DIR/parker.cc" "$CORE_DIR/channel.cc" "$CORE_DIR/select.cc")
TEST_SRCS=("$HERE"/*.cc)
BASE_FLAGS=(-std=c++20 -Wall -Wextra -O1 -g -pthread -fno-omit-frame-pointer)

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
export LSAN_OPTIONS="exitcode=68 ${LSAN_OPTIONS:-}"
: "${STRESS_SEED:=$(date +%s%N)}"
export STRESS_SEED

start=$(date +%s)

# ---- build (both variants in parallel: this machine has 2 cores) -------------------------
# A build is skipped when its inputs (sources, headers, flags, compiler) are unchanged.
inputs_hash() {
  {
    "$CXX" --version
    echo "${BASE_FLAGS[*]} $(flags_for "$1")"
    cat "$CORE_DIR"/*.h "${CORE_SRCS[@]}" "$HERE"/*.h "${TEST_SRCS[@]}"
  } | sha256sum | cut -d' ' -f1
}
pids=()
sans=()
for san in $SANITIZERS; do
  hash="$(inputs_hash "$san")"
  if [ -x "$OUT/stress-$san" ] && [ "$(cat "$OUT/stress-$san.hash" 2>/dev/null)" = "$hash" ]; then
    continue
  fi
  rm -f "$OUT/stress-$san" "$OUT/stress-$san.hash"
  (
    # shellcheck disable=SC2046
    "$CXX" "${BASE_FLAGS[@]}" $(flags_for "$san") -I"$CORE_DIR" \
      "${CORE_SRCS[@]}" "${TEST_SRCS[@]}" -o "$OUT/stress-$san" >"$OUT/build-$san.log" 2>&1 &&
      echo "$hash" >"$OUT/stress-$san.hash"
  ) &
  pids+=($!)
  sans+=("$san")
done
build_failed=0
for i in "${!sans[@]}"; do
  san="${sans[$i]}"
  if ! wait "${pids[$i]}"; then
    echo "BUILD FAILED ($san):"
    cat "$OUT/build-$san.log"
    build_failed=1
  elif [ -s "$OUT/build-$san.log" ]; then
    echo "build warnings ($san):"
    cat "$OUT/build-$san.log"
  fi
done
if [ "$build_failed" -ne 0 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
echo "built in $(( $(date +%s) - start )) s (STRESS_SCALE=${STRESS_SCALE:-1} STRESS_SEED=$STRESS_SEED)"

# ---- run ---------------------------------------------------------------------------------
passed=0
failed=0
failures=()
for san in $SANITIZERS; do
  bin="$OUT/stress-$san"
  if [ "$#" -gt 0 ]; then names=("$@"); else mapfile -t names < <("$bin" --list); fi
  for name in "${names[@]}"; do
    log="$OUT/$san-$name.log"
    t0=$(date +%s%N)
    "$bin" "$name" >"$log" 2>&1
    rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$rc" -eq 0 ] && grep -q "^PASS $name " "$log" && ! grep -q "Sanitizer" "$log"; then
      passed=$((passed + 1))
      printf '  ok    %-5s %-40s %6d ms\n' "$san" "$name" "$ms"
    else
      failed=$((failed + 1))
      failures+=("$san/$name")
      printf '  FAIL  %-5s %-40s %6d ms (exit %d)\n' "$san" "$name" "$ms" "$rc"
      sed 's/^/        | /' "$log" | head -n 80
    fi
  done
done

echo "total $(( $(date +%s) - start )) s"
if [ "$failed" -ne 0 ]; then
  echo "failed: ${failures[*]} (logs in $OUT; STRESS_SEED=$STRESS_SEED)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
