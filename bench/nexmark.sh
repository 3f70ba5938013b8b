#!/usr/bin/env bash
# NEXMark-style queries on rivuletd, fed by the generator's nexmark profile (persons, auctions and
# bids 1:3:46, hot auctions and bidders as in the NEXMark generator), each query alone:
#
#   Q5  hot items:   the auctions with the most bids,   hopping 10s/2s  (top: {n: 1, by: num})
#   Q7  highest bid: the bids at the highest price,     tumbling 10s    (top: {n: 1, by: price})
#   Q8  new users:   persons who opened an auction in the window they registered in, tumbling 10s
#                    (persons and sellers per window, joined on id = seller: examples/nexmark/q8.yaml)
#   Q11 user sessions: bids per bidder,                 session gap 10s
# (Q5, Q7, Q11: bids only, where event_type == 2)
#
# Each query runs RUNS times (default 5) over EVENTS events (default 20,000,000; 100,000 events/s of
# event time, so 200 s of auctions). Every run's results are checked: each bid is counted once per
# session containing it for Q11, Q5 and Q7 keep rows of every window, each window's all tied (the
# same count, the same price) and ranked 1. It prints the
# median and spread of events/s of wall time and of events per CPU-second (user + system time of
# the whole daemon: source, stages and publisher), next to Flink's published per-core figures
# (Q5 ~22 K/s, Q7 ~12 K/s, Q11 ~40 K/s per core): Flink cannot run here, so that is the
# comparison.
#
# usage: bench/nexmark.sh [RUNS] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
events="${2:-20000000}"
rate=100000
. bench/common.sh
echo "events per run: $events ($rate/s of event time), runs: $runs"

nexmark_source() {
  cat <<YAML
sources:
  nexmark:
    kind: generator
    profile: nexmark
    events_per_second: $rate
    start: 1700000000000
    count: $events
    seed: 7
YAML
}
write_config() {  # name pipeline-yaml
  cat >"$work/$1.yaml" <<YAML
$(daemon_section "$1" warn)
$(nexmark_source)
pipelines:
  $1:
    from: nexmark
    where: "event_type == 2"
$2
YAML
}
write_config q5 "    group_by: [auction]
    window: { hopping: { size: 10s, slide: 2s } }
    aggregates: { num: count() }
    top: { n: 1, by: num }"
write_config q7 "    group_by: [auction, bidder, price]
    window: { tumbling: 10s }
    aggregates: { bids: count() }
    top: { n: 1, by: price }"
write_config q11 "    group_by: [bidder]
    window: { session: { gap: 10s } }
    aggregates: { bids: count() }"

cat >"$work/q8.yaml" <<YAML
$(daemon_section q8 warn)
$(nexmark_source)
$(sed -n '/^pipelines:/,$p' examples/nexmark/q8.yaml)
YAML

# Bids among the events: 46 of every 50, after each cycle's person and 3 auctions.
bids=$(( events / 50 * 46 + ( events % 50 > 4 ? events % 50 - 4 : 0 ) ))
windows_10s=$(( (events * 1000 / rate + 9999) / 10000 ))
windows_2s=$(( (events * 1000 / rate + 1999) / 2000 + 4 ))

sum_of() { grep -o "\"$2\":[0-9]*" "$1" | awk -F: '{ s += $2 } END { printf "%d", s }'; }
fail() { echo "WRONG RESULTS: $*" >&2; exit 1; }
# A ranked query's output: rows in `windows` windows, each window's rows ranked 1 and tied on
# `field` (its value, or its key part).
ranked() {  # file field windows
  local w
  w=$(grep -o '"start":[0-9]*' "$1" | sort -u | wc -l)
  [ "$w" -eq "$3" ] || fail "$1 has rows in $w windows, want $3"
  grep -q '"rank":[^1]' "$1" && fail "$1 has a row not ranked 1"
  [ "$(grep -o "\"start\":[0-9]*\|\"$2\":[0-9]*" "$1" | paste - - | sort -u | cut -f1 | uniq -d | wc -l)" -eq 0 ] ||
    fail "$1 has a window whose rows differ in $2"
}
check() {  # query
  local f="$work/$1.jsonl"
  case "$1" in
    q5) ranked "$f" num "$windows_2s" ;;
    q11) [ "$(sum_of "$f" bids)" -eq "$bids" ] || fail "q11 counts $(sum_of "$f" bids), want $bids" ;;
    q7) ranked "$f" price "$windows_10s" ;;
    # Every row a person with a name, in a 10 s window; a person once per window.
    q8)
      [ "$(wc -l <"$f")" -gt 0 ] || fail "q8 has no rows"
      [ "$(grep -c '"name":"[A-Z][a-z]* [A-Z][a-z]*"' "$f")" -eq "$(wc -l <"$f")" ] || fail "q8 rows without a name"
      [ "$(grep -o '"start":[0-9]*,"end":[0-9]*,"key":{"id":[0-9]*}' "$f" | sort | uniq -d | wc -l)" -eq 0 ] ||
        fail "q8 has a person twice in a window" ;;
  esac
}

run() {  # query
  rm -f "$work/$1.jsonl"
  local timing
  timing=$( { TIMEFORMAT='%R %U %S'; time "$bin/daemon/rivuletd" --config "$work/$1.yaml"; } 2>&1 )
  check "$1"
  echo "$events $timing" | awk '{ printf "%.0f\n", $1 / $2 }' >>"$work/$1.wall"
  echo "$events $timing" | awk '{ printf "%.0f\n", $1 / ($3 + $4) }' >>"$work/$1.cpu"
  echo "$(wc -l <"$work/$1.jsonl")" >"$work/$1.results"
}

# Median and spread of the numbers in a file, one per line.
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
  printf "%.2f M/s (min %.2f, max %.2f)", m / 1e6, v[1] / 1e6, v[NR] / 1e6 }'; }
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Rounds of one run of each query, so the VM's slow spells fall on all three alike.
for q in q5 q7 q8 q11; do : >"$work/$q.wall"; : >"$work/$q.cpu"; done
for _ in $(seq "$runs"); do
  for q in q5 q7 q8 q11; do run "$q"; done
done

for q in q5:22100 q7:12300 q8:146100 q11:39700; do
  name=${q%%:*}
  flink=${q##*:}
  printf '%-4s %8s results | wall %s | per core %s | %.0fx Flink per core\n' \
    "${name^^}" "$(cat "$work/$name.results")" "$(stats "$work/$name.wall")" \
    "$(stats "$work/$name.cpu")" "$(echo "$(median "$work/$name.cpu") $flink" | awk '{ print $1 / $2 }')"
done
