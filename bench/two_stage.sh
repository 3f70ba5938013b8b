#!/usr/bin/env bash
# A two-stage plan against one stage: W1 (per-key 1 s count, sum, min, max over 10,000 keys)
# alone; W1 and a second pipeline reading it that ranks the top 10 keys of each second by count
# (from: w1, window: upstream, top: {n: 10, by: count}), both published: the second stage's own
# cost; and the plan as one would write it, W1 internal (publish: false) and the top 10 published.
# The second pipeline runs on a stage tier of its own; what it costs the whole daemon is measured
# in events/s of wall time and per CPU-second (user + system of every thread).
#
# Each plan runs RUNS times (default 5) over EVENTS events (default 20,000,000), in turn, and
# every run's results are checked: W1 publishes one result per key and second, the top 10 at
# least 10 per second, ranked.
#
# usage: bench/two_stage.sh [RUNS] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
events="${2:-20000000}"
. bench/common.sh
echo "events per run: $events (1,000,000/s of event time over 10,000 keys), runs: $runs"

w1='    from: gen
    group_by: [key]
    window: { tumbling: 1s }
    aggregates: { count: count(), sum: sum(value), min: min(value), max: max(value) }'
cat >"$work/one.yaml" <<YAML
$(daemon_section one warn)
$(w1_source)
pipelines:
  w1:
$w1
YAML
top10='  top10:
    from: w1
    group_by: [key]
    window: upstream
    aggregates: { count: sum(count) }
    top: { n: 10, by: count }'
cat >"$work/two.yaml" <<YAML
$(daemon_section two warn)
$(w1_source)
pipelines:
  w1:
$w1
$top10
YAML
cat >"$work/internal.yaml" <<YAML
$(daemon_section internal warn)
$(w1_source)
pipelines:
  w1:
$w1
    publish: false
$top10
YAML

seconds=$(( (events + 999999) / 1000000 ))
fail() { echo "WRONG RESULTS: $*" >&2; exit 1; }
run() {  # plan
  rm -f "$work/$1.jsonl"
  local timing
  timing=$( { TIMEFORMAT='%R %U %S'; time "$bin/daemon/rivuletd" --config "$work/$1.yaml"; } 2>&1 )
  local w1 top
  w1=$(grep -c '"pipeline":"w1"' "$work/$1.jsonl" || true)
  top=$(grep -c '"pipeline":"top10"' "$work/$1.jsonl" || true)
  if [ "$1" = internal ]; then
    [ "$w1" -eq 0 ] || fail "w1 is internal but published $w1 results"
  else
    [ "$w1" -eq $(( seconds * 10000 )) ] || fail "w1 published $w1 results, want $(( seconds * 10000 ))"
  fi
  if [ "$1" != one ]; then
    [ "$top" -ge $(( seconds * 10 )) ] || fail "top10 published $top results, want >= $(( seconds * 10 ))"
    grep -q '"rank":1}' "$work/$1.jsonl" || fail "top10 results are not ranked"
  fi
  echo "$events $timing" | awk '{ printf "%.0f\n", $1 / $2 }' >>"$work/$1.wall"
  echo "$events $timing" | awk '{ printf "%.0f\n", $1 / ($3 + $4) }' >>"$work/$1.cpu"
}

for p in one two internal; do : >"$work/$p.wall"; : >"$work/$p.cpu"; done
for _ in $(seq "$runs"); do
  for p in one two internal; do run "$p"; done
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for p in one:"W1 alone               " two:"W1 + top 10/s of it     " internal:"W1 internal -> top 10/s"; do
  name=${p%%:*}
  printf '%s wall %s   per core %s\n' "${p#*:}" "$(stats <"$work/$name.wall")" "$(stats <"$work/$name.cpu")"
done
echo "$(median "$work/two.wall") $(median "$work/one.wall") $(median "$work/two.cpu") $(median "$work/one.cpu")" |
  awk '{ printf "the second stage: %+.1f%% wall throughput, %+.1f%% per core\n", 100 * ($1 / $2 - 1), 100 * ($3 / $4 - 1) }'
