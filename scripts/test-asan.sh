#!/usr/bin/env bash
# test-asan.sh — the whole vitest suite against an AddressSanitizer + UndefinedBehaviorSanitizer
# build of the addon, loaded into the ordinary `node` (npm run test:asan).
#
#   bash scripts/test-asan.sh                   # build build-asan/, run every test file
#   bash scripts/test-asan.sh test/x.test.ts    # only these files (any vitest arguments)
#   ASAN_SKIP_BUILD=1 bash scripts/test-asan.sh # reuse build-asan/ as it is
#
# The sanitized addon is built in build-asan/ from binding.gyp (sources, defines, flags) plus
# the sanitizer flags, so the normal build/ is never touched. It is selected through
# node-gyp-build's WEFT_PREBUILD variable (a directory whose build/Release wins over ours).
# node itself is not instrumented, so the ASan runtime is preloaded (it must come first);
# every process the tests start (vitest's forks, workers, spawned children) inherits the
# environment and so runs under it too. UBSan findings are fatal (-fno-sanitize-recover);
# leak detection is off (node and V8 keep plenty of memory alive until exit on purpose).
# Exits with vitest's status.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build-asan"
CXX="${CXX:-g++}"
cd "$ROOT"

if [ "${ASAN_SKIP_BUILD:-0}" != 1 ]; then
  mkdir -p "$OUT"
  # binding.gyp is JSON: re-root its sources at build-asan/ and add the sanitizer flags.
  node -e '
    const fs = require("fs");
    const gyp = JSON.parse(fs.readFileSync("binding.gyp", "utf8"));
    for (const t of gyp.targets) {
      t.sources = t.sources.map((s) => "../" + s);
      // include folders of our own (not the "<!(...)" command ones) move with the sources
      t.include_dirs = (t.include_dirs || []).map((d) => (d.startsWith("<") ? d : "../" + d));
      const san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                   "-fno-omit-frame-pointer", "-g"];
      t.cflags_cc = t.cflags_cc.map((f) => (f === "-O2" ? "-O1" : f)).concat(san);
      t.cflags = (t.cflags || []).concat(san);
      t.ldflags = (t.ldflags || []).concat(["-fsanitize=address,undefined"]);
    }
    fs.writeFileSync(process.argv[1], JSON.stringify(gyp, null, 2) + "\n");
  ' "$OUT/binding.gyp"
  echo '{ "name": "weft-asan-build", "private": true }' > "$OUT/package.json"
  # the same Node headers as the normal build (npm passes its nodedir config to scripts; read
  # it ourselves when run directly)
  nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
  gyp_args=(rebuild -j "${JOBS:-2}")
  case "$nodedir" in ""|undefined|null) ;; *) gyp_args+=(--nodedir="$nodedir") ;; esac
  (cd "$OUT" && "$ROOT/node_modules/.bin/node-gyp" "${gyp_args[@]}" >/dev/null)
  # The same file as a prebuild: tests that install the packed tarball and load prebuilds only
  # (PREBUILDS_ONLY=1) inherit WEFT_PREBUILD too, and get the sanitized addon there as well.
  plat="$(node -p 'process.platform + "-" + process.arch')"
  mkdir -p "$OUT/prebuilds/$plat"
  cp "$OUT/build/Release/weft.node" "$OUT/prebuilds/$plat/weft.napi.node"
  echo "test-asan: built $OUT/build/Release/weft.node"
fi
[ -d dist ] || "$ROOT/node_modules/.bin/tsc" -p tsconfig.json

ASAN_RT="$("$CXX" -print-file-name=libasan.so)"
[ -e "$ASAN_RT" ] || { echo "test-asan: no libasan.so for $CXX" >&2; exit 2; }
export WEFT_PREBUILD="$OUT"
# quarantine_size_mb: freed memory ASan holds back to catch use-after-free (default 256 MiB);
# smaller, so tests that measure RSS growth after churning a million objects stay meaningful.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:print_summary=1:detect_odr_violation=0:quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# sanity check: this node really loads the sanitized addon with the runtime preloaded
LD_PRELOAD="$ASAN_RT" node -e '
  const p = require("node-gyp-build").path(process.cwd());
  if (!p.startsWith(process.env.WEFT_PREBUILD)) { console.error("test-asan: loads " + p); process.exit(1); }
  require(p);
'
start=$(date +%s)
set +e
LD_PRELOAD="$ASAN_RT" node "$ROOT/node_modules/vitest/vitest.mjs" run "$@"
status=$?
set -e
echo "test-asan: vitest exited $status after $(( $(date +%s) - start )) s"
exit $status
