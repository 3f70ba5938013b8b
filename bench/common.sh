# Sourced by the end-to-end benchmark scripts: the release build ($bin), a scratch folder ($work)
# removed on exit, the machine they ran on, and the parts of a run's config they share.
./scripts/build.sh release >/dev/null
bin=build/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"

# The daemon section of run $1's config: results over ipc and into $work/$1.jsonl.
daemon_section() {  # name log_level
  cat <<YAML
daemon:
  metrics: 127.0.0.1:0
  publish: ipc://$work/$1.ipc
  output: $work/$1.jsonl
  log_level: $2
YAML
}

# W1's source: $events events over 10,000 keys, 1,000,000 events/s of event time, unthrottled.
w1_source() {
  cat <<YAML
sources:
  gen:
    kind: generator
    keys: 10000
    events_per_second: 1000000
    start: 1700000000000
    throttle: 0
    count: $events
    seed: 7
YAML
}

# Median and spread of the rates (events/s) on stdin, one per line.
stats() { sort -g | awk '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
  printf "median %.2f M/s  (min %.2f, max %.2f, spread %.1f%%)\n", m / 1e6, v[1] / 1e6, v[NR] / 1e6, 100 * (v[NR] - v[1]) / m }'; }
