#!/usr/bin/env bash
# test-portable.sh — the whole vitest suite against the addon built with the portable parking
# backend (park/parker_portable.cc: mutex + condition variable buckets instead of futex), the
# one every platform without a known address-wait primitive gets (npm run test:portable).
#
#   bash scripts/test-portable.sh                    # build build-portable/, run every test file
#   bash scripts/test-portable.sh test/x.test.ts     # only these files (any vitest arguments)
#   PORTABLE_SKIP_BUILD=1 bash scripts/test-portable.sh   # reuse build-portable/ as it is
#   PORTABLE_BUILD_ONLY=1 bash scripts/test-portable.sh   # build (and check) it, run nothing
#
# The addon is built in build-portable/ from binding.gyp (sources, defines, flags, conditions)
# with the gyp variable weft_parker=portable (what WEFT_PARKER=portable gives a normal build),
# so the normal build/ is never touched. It is selected through node-gyp-build's WEFT_PREBUILD
# variable (a directory whose build/Release wins over ours), which every process the tests
# start inherits; the same file is also put in build-portable/prebuilds/ for the tests that
# install the packed tarball and load prebuilds only. Benchmarks run on it the same way
# (bench/run.js writes bench/results/latest.md: keep the native backend's copy first):
#   PORTABLE_BUILD_ONLY=1 bash scripts/test-portable.sh
#   WEFT_PREBUILD=$PWD/build-portable node bench/run.js
# Exits with vitest's status.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build-portable"
cd "$ROOT"

if [ "${PORTABLE_SKIP_BUILD:-0}" != 1 ]; then
  t0=$(date +%s)
  mkdir -p "$OUT"
  # binding.gyp is JSON: re-root its sources and our own include folder at build-portable/.
  node -e '
    const fs = require("fs");
    const gyp = JSON.parse(fs.readFileSync("binding.gyp", "utf8"));
    for (const t of gyp.targets) {
      t.sources = t.sources.map((s) => "../" + s);
      t.include_dirs = (t.include_dirs || []).map((d) => (d.startsWith("<") ? d : "../" + d));
    }
    fs.writeFileSync(process.argv[1], JSON.stringify(gyp, null, 2) + "\n");
  ' "$OUT/binding.gyp"
  echo '{ "name": "weft-portable-build", "private": true }' > "$OUT/package.json"
  nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
  gyp_args=(rebuild -j "${JOBS:-2}")
  case "$nodedir" in ""|undefined|null) ;; *) gyp_args+=(--nodedir="$nodedir") ;; esac
  (cd "$OUT" && WEFT_PARKER=portable "$ROOT/node_modules/.bin/node-gyp" "${gyp_args[@]}" >/dev/null)
  plat="$(node -p 'process.platform + "-" + process.arch')"
  mkdir -p "$OUT/prebuilds/$plat"
  cp "$OUT/build/Release/weft.node" "$OUT/prebuilds/$plat/weft.napi.node"
  echo "test-portable: built $OUT/build/Release/weft.node in $(( $(date +%s) - t0 )) s"
fi
# The build really has the portable backend (its parking-lot symbols) and not futex's.
if command -v nm >/dev/null 2>&1; then
  syms="$(nm -C "$OUT/build/Release/weft.node")"
  if ! grep -q "bucket_for" <<<"$syms" || [ "$(grep -c 'parker_backend' <<<"$syms")" -ne 1 ]; then
    echo "test-portable: $OUT/build/Release/weft.node is not a portable-backend build" >&2
    exit 2
  fi
fi
[ "${PORTABLE_BUILD_ONLY:-0}" = 1 ] && exit 0
[ -d dist ] || "$ROOT/node_modules/.bin/tsc" -p tsconfig.json

export WEFT_PREBUILD="$OUT"
node -e '
  const p = require("node-gyp-build").path(process.cwd());
  if (!p.startsWith(process.env.WEFT_PREBUILD)) { console.error("test-portable: loads " + p); process.exit(1); }
  require(p);
'
start=$(date +%s)
set +e
node "$ROOT/node_modules/vitest/vitest.mjs" run "$@"
status=$?
set -e
echo "test-portable: vitest exited $status after $(( $(date +%s) - start )) s"
exit $status
