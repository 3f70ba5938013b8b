#!/usr/bin/env bash
# What checkpoints cost: rivuletd end to end on W1 (bench/e2e.sh: generator, 10,000 keys, tumbling
# 1s, count/sum/min/max) plus a sketch pipeline (p99 and count_distinct per key over 10 s), without
# checkpoints and with one every INTERVAL (default 1s), in alternating runs. Prints events/s (median and spread),
# and for the checkpointed runs the size of a checkpoint and the time from its request to the
# file being durable (median over all checkpoints of all runs), from the daemon's debug log.
#
# usage: bench/checkpoint.sh [RUNS] [EVENTS] [INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
events="${2:-20000000}"
interval="${3:-1s}"
. bench/common.sh
echo "events per run: $events, runs: $runs, checkpoint interval: $interval"

write_config() {  # name [checkpoint line]
  cat >"$work/$1.yaml" <<YAML
$(daemon_section "$1" debug)
$2
$(w1_source)
pipelines:
  w1:
    from: gen
    group_by: [key]
    window: { tumbling: 1s }
    aggregates:
      count: count()
      sum: sum(value)
      min: min(value)
      max: max(value)
  sketches:
    from: gen
    group_by: [key]
    window: { tumbling: 10s }
    aggregates:
      p99: quantile(value, 0.99)
      distinct: count_distinct(value)
YAML
}
write_config plain ""
write_config checkpointed "  checkpoint: { dir: $work/state, interval: $interval }"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

seconds_of_event_time=$(( (events + 999999) / 1000000 ))
want_results=$(( seconds_of_event_time * 10000 + (seconds_of_event_time + 9) / 10 * 10000 ))

run() {  # name
  rm -rf "$work/$1.jsonl" "$work/state"
  local t0 t1 lines
  t0=$(date +%s%N)
  "$bin/daemon/rivuletd" --config "$work/$1.yaml" 2>"$work/$1.log"
  t1=$(date +%s%N)
  lines=$(wc -l <"$work/$1.jsonl")
  if [ "$lines" -ne "$want_results" ]; then
    echo "WRONG RESULTS in $1: $lines results (want $want_results)" >&2
    exit 1
  fi
  echo "$events $t0 $t1" | awk '{ printf "%.0f\n", $1 / (($3 - $2) / 1e9) }' >>"$work/$1.rates"
  # "checkpoint N written: B bytes in D ms; stages paused up to P ms"
  grep -o 'written: [0-9]* bytes in [0-9.]* ms; stages paused up to [0-9.]* ms' "$work/$1.log" \
    >>"$work/$1.checkpoints" || true
}

: >"$work/plain.rates"; : >"$work/checkpointed.rates"; : >"$work/checkpointed.checkpoints"
for _ in $(seq "$runs"); do
  run plain
  run checkpointed
done
echo "no checkpoints         : $(stats <"$work/plain.rates")"
echo "checkpoint every $interval : $(stats <"$work/checkpointed.rates")"
awk -v a="$(median <"$work/checkpointed.rates")" -v b="$(median <"$work/plain.rates")" \
  'BEGIN { printf "with / without        : %.1f%%\n", 100 * a / b }'
count=$(wc -l <"$work/checkpointed.checkpoints")
size=$(awk '{ print $2 }' "$work/checkpointed.checkpoints" | median)
took=$(awk '{ print $5 }' "$work/checkpointed.checkpoints" | median)
paused=$(awk '{ print $11 }' "$work/checkpointed.checkpoints" | median)
longest=$(awk '{ print $11 }' "$work/checkpointed.checkpoints" | sort -g | tail -1)
echo "checkpoints: $count written; median size $(awk -v s="$size" 'BEGIN { printf "%.2f MB", s / 1e6 }'), median request-to-durable $took ms"
echo "longest stage pause per checkpoint: median $paused ms, max $longest ms"
