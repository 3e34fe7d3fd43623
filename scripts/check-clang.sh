#!/usr/bin/env bash
# check-clang.sh — the native sources compile warning-free as standard C++20 (no GNU-only
# constructs) with clang++ and g++: `-std=c++20 -Wall -Wextra -pedantic -Werror`, syntax only
# (npm run check:clang). The core (native/core/) is checked with every parking backend this
# host can compile: the platform's own and WEFT_PARKER_PORTABLE; the Node-API glue
# (native/node/) against the Node headers (as system headers: V8's own warnings are not ours).
# When the cross compilers are installed, the core is also checked for Windows
# (x86_64-w64-mingw32-g++-posix: the WaitOnAddress backend and the Win32 calls) — a syntax
# check of the Windows code paths, not a substitute for the MSVC build in CI.
#
#   bash scripts/check-clang.sh        # exits non-zero on any warning; last line "N passed, M failed"
#   JOBS=4 bash scripts/check-clang.sh # files compiled at once (default: number of CPUs)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"  # files compiled at once
FLAGS=(-std=c++20 -Wall -Wextra -pedantic -Werror -fsyntax-only -Inative)
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
case "$nodedir" in ""|undefined|null) nodedir="" ;; esac
NODE_INC=""
for d in "${nodedir:+$nodedir/include/node}" /usr/include/node /usr/local/include/node \
         "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
  if [ -n "$d" ] && [ -f "$d/node_api.h" ]; then NODE_INC="$d"; break; fi
done
NAPI_INC="$(node -p "require('node-addon-api').include_dir")"
mapfile -t CORE < <(find native/core -name '*.cc' | sort)
mapfile -t GLUE < <(find native/node -name '*.cc' | sort)
mapfile -t BACKENDS < <(find native/core/park -name 'parker_*.cc' | sort)

passed=0
failed=0
check() {  # label compiler flags... -- files...
  local label="$1" cxx="$2"
  shift 2
  local args=() files=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  files=("$@")
  if ! command -v "$cxx" >/dev/null 2>&1; then
    printf '  skip  %-34s (%s not installed)\n' "$label" "$cxx"
    return
  fi
  local out t0
  t0=$(date +%s)
  out="$(printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$JOBS" "$cxx" "${args[@]}" 2>&1)"
  if [ -z "$out" ]; then
    passed=$((passed + 1))
    printf '  ok    %-34s %3d files %4d s\n' "$label" "${#files[@]}" "$(( $(date +%s) - t0 ))"
  else
    failed=$((failed + 1))
    printf '  FAIL  %-34s\n' "$label"
    sed 's/^/        | /' <<<"$out" | head -n 60
  fi
}

for cxx in clang++ g++; do
  check "$cxx core (native backend)" "$cxx" "${FLAGS[@]}" -- "${CORE[@]}"
  check "$cxx core backends (portable)" "$cxx" "${FLAGS[@]}" -DWEFT_PARKER_PORTABLE -- "${BACKENDS[@]}"
  if [ -n "$NODE_INC" ]; then
    check "$cxx node glue" "$cxx" "${FLAGS[@]}" -isystem "$NODE_INC" -isystem "$NAPI_INC" \
      -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -- "${GLUE[@]}"
  else
    echo "  skip  $cxx node glue (no Node headers found)"
  fi
done
# Windows code paths (parker_windows.cc, ring.cc's GlobalMemoryStatusEx, addon.cc's module pin).
WIN_JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"  # files compiled at once
WIN_FLAGS=(-std=c++20 -Wall -Wextra -Werror -fsyntax-only -Inative -D_WIN32_WINNT=0x0A00)
check "mingw core (WaitOnAddress)" x86_64-w64-mingw32-g++-posix "${WIN_FLAGS[@]}" -- "${CORE[@]}"
if [ -n "$NODE_INC" ]; then
  check "mingw node glue" x86_64-w64-mingw32-g++-posix "${WIN_FLAGS[@]}" -isystem "$NODE_INC" \
    -isystem "$NAPI_INC" -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -- "${GLUE[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
