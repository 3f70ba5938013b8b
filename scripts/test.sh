#!/usr/bin/env bash
# Builds and runs the whole test suite. Usage: scripts/test.sh [all|release|asan|tsan|fuzz]
#   release  every test, optimised build
#   asan     every test under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan     the concurrency tests (ctest label "concurrency") under ThreadSanitizer
#   fuzz     every libFuzzer target for 60 s under ASan+UBSan (scripts/fuzz.sh)
#   all      format check, then the four passes above (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
./scripts/setup.sh

format_check() {
  local bad=()
  while IFS= read -r f; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done < <(git ls-files '*.h' '*.cc' 2>/dev/null || find . -path ./build -prune -o \( -name '*.h' -o -name '*.cc' \) -print)
  if [ ${#bad[@]} -gt 0 ]; then
    echo "not clang-formatted: ${bad[*]}" >&2
    return 1
  fi
  echo "format: ok"
}

# Builds what the pass runs (the tests and the binaries they start; for tsan the concurrency
# tests alone, benchmarks never), with warnings as errors, then runs it.
run() {
  local preset="$1" target=rivulet_tests
  [ "$preset" = tsan ] && target=rivulet_concurrency_tests
  echo "=== $preset: build"
  cmake --preset "$preset" -DRIVULET_WERROR=ON >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)" --target "$target"
  echo "=== $preset: test"
  ctest --preset "$preset" -j "$(nproc)"
}

case "$mode" in
  release|asan|tsan) run "$mode" ;;
  fuzz) ./scripts/fuzz.sh 60 ;;
  all)
    format_check
    run release
    run asan
    run tsan
    ./scripts/fuzz.sh 60
    ;;
  *) echo "usage: $0 [all|release|asan|tsan|fuzz]" >&2; exit 2 ;;
esac
