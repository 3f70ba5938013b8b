#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan: the `fuzz` preset) and runs each for a bounded
# time from its seed corpus. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60); targets run $(nproc) at a time
#   TARGET   json_event csv line_framer expression config checkpoint (default: all)
# The seed corpora (fuzz/corpus/<target>/, crashes found earlier included) are copied to
# build/fuzz/corpus/, which keeps what a run finds; a failing input is written to
# build/fuzz/artifacts/ and its log printed. Exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json_event csv line_framer expression config checkpoint)

./scripts/setup.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

out=build/fuzz
mkdir -p "$out/artifacts" "$out/logs"
run_one() {
  local target="$1" seconds="$2" out="$3"
  mkdir -p "$out/corpus/$target"
  # timeout: a target that hangs, or ASan's report of a huge heap taking for ever, fails the run.
  if timeout --kill-after=10 $((seconds + 120)) "$out/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$out/artifacts/$target-" -print_final_stats=1 \
      "$out/corpus/$target" "fuzz/corpus/$target" >"$out/logs/$target.log" 2>&1; then
    echo "fuzz $target: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/logs/$target.log" |
      grep -o '[0-9]*$') runs in ${seconds} s"
  else
    echo "fuzz $target: FAILED (log: $out/logs/$target.log)"
    tail -n 60 "$out/logs/$target.log"
    return 1
  fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$out"
