// Property tests of WindowOperator and SessionOperator against brute-force references: random
// out-of-order streams with random tumbling, hopping and session windows, lateness, emit modes
// and watermarks; the references keep every raw event and recompute every window and every
// aggregate from them. The sketch aggregates are checked against their guarantees:
// count_distinct and top_k exactly (a window holds at most 60 distinct values, which both count
// exactly), quantile as numpy's linear interpolation up to 64 values and within the sketch's
// relative accuracy of the exact lower quantile beyond.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "config/config.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/hash.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/value_slot.h"
#include "pipeline/sketches/quantile_sketch.h"
#include "pipeline/windows/session_operator.h"
#include "pipeline/windows/window_operator.h"
#include "tests/support/draws.h"
#include "tests/support/plans.h"
#include "tests/support/random_events.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using testutil::Field;
using testutil::Step;
using testutil::StreamKeys;

constexpr int kCases = 200;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

constexpr int kNumberFields = 3;  // f0..f2, then the categories c0, c1

struct Event {
  std::int64_t time;
  int key;
  std::vector<Field> fields;  // f0..f2, c0, c1
  // What the operator reads: the value slots in the plan's order, then top_k's item bytes.
  std::vector<double> record;
  std::int64_t watermark_at_arrival;
  bool late = false;
  bool refused = false;  // a new key for a slice already holding max_keys keys
};

// Feeds the steps of case `c` to `op`: each watermark through `advance`, each event through add(),
// checked against the event's expected outcome and then shown to `seen`; at the end of the steps
// the end of input, if the case has one, and the flush. Returns the events the operator found
// late.
template <typename C>
std::size_t feed(const C& c, Operator& op, ResultSink& sink,
                 const std::function<void(std::int64_t)>& advance,
                 const std::function<void(const Event&)>& seen = {}) {
  const StreamKeys keys(c.keys, c.long_keys, c.colliding_hashes);
  std::size_t late = 0;
  for (const Step& s : c.steps) {
    if (s.kind == Step::kWatermark) {
      advance(s.watermark);
      continue;
    }
    const Event& e = c.events[s.event];
    const AddResult added =
        op.add(e.time, keys.hashes[e.key], keys.encoded[e.key], e.record.data());
    const AddResult want = e.late      ? AddResult::kLate
                           : e.refused ? AddResult::kRefused
                                       : AddResult::kAdded;
    EXPECT_EQ(static_cast<int>(added), static_cast<int>(want))
        << "event " << s.event << " at " << e.time;
    late += added == AddResult::kLate;
    if (seen) seen(e);
  }
  if (c.end_of_input) advance(kMaxTime);
  op.flush(c.flush_kind, sink);
  return late;
}

struct Case {
  std::uint64_t seed;
  config::Config config;
  PipelinePlan plan;
  int keys;
  bool colliding_hashes;  // hash = key % 3: many keys share a hash
  bool long_keys;         // keys over 16 bytes, compared byte by byte
  std::vector<Event> events;
  std::vector<Step> steps;
  bool end_of_input;  // advanceWatermark(kMaxTime) before flushing
  ResultKind flush_kind;

  std::string describe() const {
    std::ostringstream s;
    s << "seed=" << seed << " size=" << plan.size << " slide=" << plan.slide
      << " slice=" << plan.slice << " lateness=" << plan.allowed_lateness << " keys=" << keys
      << " events=" << events.size() << " colliding=" << colliding_hashes
      << " long_keys=" << long_keys << " max_keys=" << plan.max_keys
      << " emit=" << (plan.emit_updates ? "updates" : "final") << " end_of_input=" << end_of_input
      << " flush=" << (flush_kind == ResultKind::kFinal ? "final" : "partial");
    return s.str();
  }
};

// An event's fields f0..f2 (numbers; with exact_values multiples of 1/8, so sums are exact in any
// order) and c0, c1 (categories).
std::vector<Field> randomFields(double null_probability, bool exact_values, int categories,
                                testutil::Draws& draws) {
  return testutil::randomFields(kNumberFields, null_probability, categories, draws, [&] {
    return exact_values ? static_cast<double>(draws.uniform(-800, 800)) / 8 : draws.real(-1e3, 1e3);
  });
}

// How a case draws its events, alike for windows and sessions.
struct EventDraws {
  std::int64_t span;              // the window size or the session gap
  std::int64_t delay = 0;         // of the watermark behind the largest time so far
  std::int64_t max_disorder = 0;  // how far an event's time may fall behind the clock
  double advance_probability = 0;
  double null_probability = 0;
  bool exact_values = false;  // multiples of 1/8: sums exact in any order
  // Distinct values of a category field: with both types at most 60, so that count_distinct
  // (exact to 64) and top_k (64 counters or more) are exact.
  int categories = 1;
  std::int64_t max_time = kMinTime;
  std::int64_t watermark = kMinTime;
};

// Appends to `c` an event of a random key at `clock` or up to max_disorder before it, then maybe
// a watermark step: the largest time less the delay, rarely a jump ahead (empty windows are
// passed) or a step back (ignored).
template <typename Case>
void addEvent(std::int64_t clock, EventDraws& d, testutil::Draws& draws, Case& c) {
  Event e;
  e.time = clock - (draws.chance(0.5) ? 0 : draws.uniform(0, d.max_disorder));
  e.key = static_cast<int>(draws.uniform(0, c.keys - 1));
  e.fields = randomFields(d.null_probability, d.exact_values, d.categories, draws);
  e.record = testutil::recordOf(c.plan, e.fields, kNumberFields);
  e.watermark_at_arrival = d.watermark;
  d.max_time = std::max(d.max_time, e.time);
  c.steps.push_back({Step::kEvent, c.events.size(), 0});
  c.events.push_back(std::move(e));
  if (draws.chance(d.advance_probability)) {
    std::int64_t w = d.max_time - d.delay;
    if (draws.chance(0.01)) w = d.max_time + draws.uniform(0, 3 * d.span);
    if (draws.chance(0.03)) w = w - draws.uniform(0, 2 * d.span);
    c.steps.push_back({Step::kWatermark, 0, w});
    d.watermark = std::max(d.watermark, w);
  }
}

Case makeCase(std::uint64_t seed) {
  testutil::Draws draws(seed);

  Case c;
  c.seed = seed;
  const std::int64_t unit = draws.uniform(1, 7);
  const std::int64_t size_units = draws.uniform(1, 20);
  const std::int64_t size = unit * size_units;
  const std::int64_t slide = draws.chance(0.3) ? size : unit * draws.uniform(1, size_units);

  config::PipelineConfig pipeline = testutil::keyedPipeline();
  pipeline.window.kind =
      slide == size ? config::WindowKind::kTumbling : config::WindowKind::kHopping;
  pipeline.window.size = size;
  pipeline.window.slide = slide;
  pipeline.allowed_lateness = draws.chance(0.35) ? 0 : draws.uniform(0, 2 * size);
  const int fields = static_cast<int>(draws.uniform(1, kNumberFields));
  const int aggregates = static_cast<int>(draws.uniform(1, 9));
  for (int k = 0; k < aggregates; ++k) {
    const auto kind =
        static_cast<AggregateKind>(draws.uniform(0, static_cast<int>(AggregateKind::kTopK)));
    pipeline.aggregates.push_back(testutil::randomAggregate(kind, k, fields, draws.engine()));
  }
  c.config = testutil::configWith(pipeline);
  // Crowded cases: one or two keys and twenty times the events per window, so that quantiles see
  // more than 64 values and the sketch answers past its exact mode.
  const bool crowded = draws.chance(0.25);
  c.keys = static_cast<int>(crowded ? draws.uniform(1, 2) : draws.uniform(1, 50));
  if (draws.chance(0.25)) c.config.pipelines[0].max_keys = draws.uniform(1, c.keys);
  c.config.pipelines[0].emit_updates = draws.chance(0.3);
  c.plan = compilePipeline(c.config, 0);

  c.colliding_hashes = draws.chance(0.2);
  c.long_keys = draws.chance(0.2);
  EventDraws stream{.span = size};
  stream.delay = draws.uniform(0, 3 * size);
  stream.max_disorder = draws.chance(0.2) ? 0 : draws.uniform(0, 4 * size);
  stream.advance_probability = draws.real(0.01, 0.3);
  stream.null_probability = draws.chance(0.3) ? 0.0 : 0.15;
  stream.exact_values = draws.chance(0.5);
  stream.categories = static_cast<int>(draws.uniform(1, 30));
  const auto events =
      static_cast<std::size_t>(crowded ? draws.uniform(1000, 4000) : draws.uniform(1, 1200));
  std::int64_t clock = draws.uniform(-60 * size, 60 * size);
  for (std::size_t i = 0; i < events; ++i) {
    if (!crowded || draws.chance(0.05)) clock += draws.uniform(0, 2) * draws.uniform(0, unit);
    addEvent(clock, stream, draws, c);
  }
  c.end_of_input = draws.chance(0.25);
  c.flush_kind = draws.chance(0.5) ? ResultKind::kFinal : ResultKind::kPartial;
  return c;
}

// ---- the reference ----

std::int64_t lastWindowStart(const PipelinePlan& p, std::int64_t t) {
  return floorDiv(t, p.slide) * p.slide;
}
std::int64_t firstWindowStart(const PipelinePlan& p, std::int64_t t) {
  return floorDiv(t - p.size, p.slide) * p.slide + p.slide;
}
// When a window fires (its final result), and when it closes to late events for good.
std::int64_t fireTime(const PipelinePlan& p, std::int64_t start) {
  return start + p.size + p.fire_delay;
}
std::int64_t closeTime(const PipelinePlan& p, std::int64_t start) {
  return start + p.size + p.allowed_lateness;
}

// One aggregate's result: a number or null, or for top_k the JSON of its result.
struct Value {
  std::optional<double> number;
  std::string json{};                 // top_k only: "[[item,count],...]" or "null"
  std::optional<double> within = {};  // a reference quantile of at most 64 values: the rounding
                                      // it may differ by
};
using Values = std::vector<Value>;

struct Result {
  std::size_t phase;  // index of the advanceWatermark call that fired it; calls = flush
  ResultKind kind;
  Values values;
};
using Results = std::map<std::pair<std::int64_t, std::string>, Result>;  // (start, key)

// emit updates: one message per late event and fired window containing it, in emission order.
struct Update {
  std::size_t phase;  // advanceWatermark calls before the event arrived
  std::int64_t start;
  std::string key;
  Values values;
};

// The result of `spec` over `events` (in arrival order), computed the obvious way.
Value aggregate(const config::AggregateSpec& spec, const std::vector<const Event*>& events) {
  if (spec.kind == AggregateKind::kCount) return {static_cast<double>(events.size())};
  // The events with a value, and their values, in arrival order.
  std::vector<const Event*> with;
  std::vector<double> values;
  for (const Event* e : events) {
    const Field& f = e->fields[testutil::fieldIndex(spec.field, kNumberFields)];
    if (f.null) continue;
    with.push_back(e);
    values.push_back(f.number);
  }
  const std::size_t n = values.size();
  switch (spec.kind) {
    case AggregateKind::kCount:
      break;
    case AggregateKind::kCountIf:
      return {static_cast<double>(std::count(values.begin(), values.end(), 1.0))};
    case AggregateKind::kSum:
    case AggregateKind::kAvg: {
      if (n == 0) return {};
      double sum = 0;
      for (const double v : values) sum += v;
      return {spec.kind == AggregateKind::kSum ? sum : sum / static_cast<double>(n)};
    }
    case AggregateKind::kMin:
      if (n == 0) return {};
      return {*std::min_element(values.begin(), values.end())};
    case AggregateKind::kMax:
      if (n == 0) return {};
      return {*std::max_element(values.begin(), values.end())};
    // Ties in time: first keeps the earliest added, last takes the latest added.
    case AggregateKind::kFirst:
    case AggregateKind::kLast: {
      std::optional<std::size_t> at;
      for (std::size_t i = 0; i < n; ++i) {
        if (!at || (spec.kind == AggregateKind::kFirst ? with[i]->time < with[*at]->time
                                                       : with[i]->time >= with[*at]->time)) {
          at = i;
        }
      }
      if (!at) return {};
      return {values[*at]};
    }
    // Two passes, textbook sample variance: the mean, then the squared deviations from it.
    case AggregateKind::kStddev:
    case AggregateKind::kVariance: {
      if (n < 2) return {};
      double sum = 0;
      for (const double v : values) sum += v;
      const double mean = sum / static_cast<double>(n);
      double squares = 0;
      for (const double v : values) squares += (v - mean) * (v - mean);
      const double variance = squares / static_cast<double>(n - 1);
      return {spec.kind == AggregateKind::kVariance ? variance : std::sqrt(variance)};
    }
    // Up to 64 values numpy's linear interpolation, as numpy computes it; beyond, the lower
    // quantile, with the sketch's rank convention (pipeline/sketches/quantile_sketch.h).
    case AggregateKind::kQuantile: {
      if (n == 0) return {};
      std::sort(values.begin(), values.end());
      const double h = spec.quantile * static_cast<double>(n - 1);
      const auto r = static_cast<std::size_t>(h);
      if (n > QuantileSketch::kExactLimit) return {values[r]};
      const double a = values[r];
      const double b = values[std::min(r + 1, n - 1)];
      const double t = h - static_cast<double>(r);
      const double numpy = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
      return {numpy, "", 1e-12 * std::max(std::abs(a), std::abs(b))};
    }
    case AggregateKind::kCountDistinct: {
      std::set<std::string> distinct;
      for (const Event* e : with)
        distinct.insert(e->fields[testutil::fieldIndex(spec.field, kNumberFields)].item());
      return {static_cast<double>(distinct.size())};
    }
    // Largest count first, ties by the item's bytes (type, then text).
    case AggregateKind::kTopK: {
      if (n == 0) return {std::nullopt, "null"};
      std::map<std::string, std::int64_t> counts;
      for (const Event* e : with)
        ++counts[e->fields[testutil::fieldIndex(spec.field, kNumberFields)].item()];
      std::vector<std::pair<std::string, std::int64_t>> top(counts.begin(), counts.end());
      std::stable_sort(top.begin(), top.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      top.resize(std::min<std::size_t>(top.size(), static_cast<std::size_t>(spec.k)));
      std::string json = "[";
      for (const auto& [item, count] : top) {
        if (json.size() > 1) json += ',';
        const std::string text = item.substr(1);
        json +=
            "[" +
            (static_cast<KeyPartType>(item[0]) == KeyPartType::kString ? '"' + text + '"' : text) +
            "," + std::to_string(count) + "]";
      }
      return {std::nullopt, json + "]"};
    }
  }
  return {};
}

Values aggregate(const PipelinePlan& plan, const std::vector<const Event*>& events) {
  Values out;
  for (const config::AggregateSpec& spec : plan.aggregates) out.push_back(aggregate(spec, events));
  return out;
}

// How much of the interesting ground the random cases covered, summed over all cases, so a
// generator that stopped producing (say) late events would be noticed.
struct Coverage {
  std::size_t results = 0;
  std::size_t by_watermark = 0;  // results fired by a watermark, not by the flush
  std::size_t partial = 0;       // results flushed as partial
  std::size_t late = 0;          // events dropped
  std::size_t refused = 0;       // events of keys past max_keys
  std::size_t partly_late = 0;   // events too late for some of their windows, not for all
  std::size_t hopping_cases = 0;
  std::size_t merged_results = 0;  // results of windows spanning more than one slice
  std::size_t updates = 0;         // update messages of emit updates
  // Non-trivial sketch results: a quantile of several values, a top_k or count_distinct of
  // several distinct ones, in a window of merged slices or an update.
  std::size_t quantiles = 0;
  std::size_t bucketed_quantiles = 0;  // of those, of more than 64 values: the DDSketch's answer
  std::size_t distinct_counts = 0;
  std::size_t top_ks = 0;
};

Results reference(Case& c, std::size_t& late, Coverage& coverage, std::vector<Update>& updates) {
  const PipelinePlan& p = c.plan;
  std::vector<std::int64_t> phase_watermarks;  // the watermark after each advance call
  std::int64_t watermark = kMinTime;
  for (const Step& s : c.steps) {
    if (s.kind == Step::kWatermark) {
      watermark = std::max(watermark, s.watermark);
      phase_watermarks.push_back(watermark);
    }
  }
  if (c.end_of_input) phase_watermarks.push_back(kMaxTime);

  // window start -> key -> contributing events, in arrival order: those in time for the final
  // result, and all of them (emit updates re-emits with those that came late too)
  std::map<std::int64_t, std::map<int, std::vector<const Event*>>> windows;
  std::map<std::int64_t, std::map<int, std::vector<const Event*>>> all;
  std::map<std::int64_t, std::set<int>> slice_keys;  // slice start -> keys admitted to it
  std::vector<std::size_t> arrival_phase(c.events.size());
  std::size_t phase = 0;
  for (const Step& s : c.steps) {
    if (s.kind == Step::kWatermark) {
      ++phase;
    } else {
      arrival_phase[s.event] = phase;
    }
  }
  late = 0;
  for (std::size_t i = 0; i < c.events.size(); ++i) {  // in arrival order
    Event& e = c.events[i];
    const std::int64_t last = lastWindowStart(p, e.time);
    e.late = closeTime(p, last) <= e.watermark_at_arrival;
    late += e.late;
    if (e.late) continue;
    std::set<int>& admitted = slice_keys[floorDiv(e.time, p.slice) * p.slice];
    e.refused = p.max_keys > 0 && !admitted.contains(e.key) && admitted.size() >= p.max_keys;
    if (e.refused) {
      ++coverage.refused;
      continue;
    }
    admitted.insert(e.key);
    for (std::int64_t s = firstWindowStart(p, e.time); s <= last; s += p.slide) {
      // The event counts in exactly the windows not yet closed at its arrival; in a window that
      // has fired (only with emit updates: else it fires when it closes) it makes an update.
      if (closeTime(p, s) <= e.watermark_at_arrival) {
        if (s == firstWindowStart(p, e.time)) ++coverage.partly_late;
        continue;
      }
      all[s][e.key].push_back(&e);
      if (fireTime(p, s) > e.watermark_at_arrival) {
        windows[s][e.key].push_back(&e);
      } else {
        updates.push_back(Update{arrival_phase[i], s, StreamKeys::encode(c.long_keys, e.key),
                                 aggregate(p, all[s][e.key])});
      }
    }
  }

  Results out;
  for (const auto& [start, keys] : windows) {
    const auto fired = std::find_if(phase_watermarks.begin(), phase_watermarks.end(),
                                    [&](std::int64_t w) { return w >= fireTime(p, start); });
    const std::size_t phase = static_cast<std::size_t>(fired - phase_watermarks.begin());
    const ResultKind kind = fired == phase_watermarks.end() ? c.flush_kind : ResultKind::kFinal;
    for (const auto& [key, events] : keys) {
      out[{start, StreamKeys::encode(c.long_keys, key)}] =
          Result{phase, kind, aggregate(p, events)};
    }
  }
  return out;
}

// (key, slice) entries the operator should hold: non-late events in slices that some unfired,
// unpassed window still needs.
class ReferenceState {
 public:
  explicit ReferenceState(const PipelinePlan& plan) : plan_(plan) {}
  void add(const Event& e) {
    if (!e.late && !e.refused) slices_[floorDiv(e.time, plan_.slice) * plan_.slice].insert(e.key);
  }
  void advance(std::int64_t watermark) {
    while (!slices_.empty() &&
           closeTime(plan_, lastWindowStart(plan_, slices_.begin()->first)) <= watermark) {
      slices_.erase(slices_.begin());
    }
  }
  std::size_t entries() const {
    std::size_t n = 0;
    for (const auto& [slice, keys] : slices_) n += keys.size();
    return n;
  }

 private:
  const PipelinePlan& plan_;
  std::map<std::int64_t, std::set<int>> slices_;
};

// ---- the operator under test ----

// Parses {"a0":1,"a1":null,"a2":[["s1",2]],...} as Aggregates::writeJson writes it.
Values parseValues(const PipelinePlan& plan, const std::string& json) {
  Values out;
  std::size_t at = 0;
  EXPECT_EQ(json[at++], '{') << json;
  for (std::size_t k = 0; k < plan.aggregates.size(); ++k) {
    const std::string name = "\"" + plan.aggregates[k].name + "\":";
    EXPECT_EQ(json.compare(at, name.size(), name), 0) << json;
    at += name.size();
    // The token ends at the first ',' or '}' outside brackets (top_k's strings hold neither).
    std::size_t token_end = at;
    for (int depth = 0; token_end < json.size(); ++token_end) {
      const char c = json[token_end];
      if (depth == 0 && (c == ',' || c == '}')) break;
      depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    }
    const std::string token = json.substr(at, token_end - at);
    at = token_end + 1;
    if (plan.aggregates[k].kind == AggregateKind::kTopK) {
      out.push_back({std::nullopt, token});
      continue;
    }
    if (token == "null") {
      out.emplace_back();
      continue;
    }
    char* parsed_end = nullptr;
    out.push_back({std::strtod(token.c_str(), &parsed_end)});
    EXPECT_EQ(parsed_end, token.c_str() + token.size()) << json;
    const AggregateKind kind = plan.aggregates[k].kind;
    if (kind == AggregateKind::kCount || kind == AggregateKind::kCountIf ||
        kind == AggregateKind::kCountDistinct) {
      EXPECT_EQ(token.find_first_not_of("0123456789"), std::string::npos) << json;
    }
  }
  EXPECT_EQ(at, json.size()) << json;
  return out;
}

class RecordingSink : public ResultSink {
 public:
  RecordingSink(const PipelinePlan& plan, const Aggregates& aggregates)
      : plan_(plan), aggregates_(aggregates) {}

  void onResult(const WindowResult& r) override {
    std::string json;
    JsonWriter writer(json);
    aggregates_.writeJson(r.state, *r.sketches, writer);
    EXPECT_EQ(r.end - r.start, plan_.size);
    if (r.kind == ResultKind::kUpdate) {
      updates.push_back(Update{phase, r.start, std::string(r.key), parseValues(plan_, json)});
      return;
    }
    const bool inserted = results
                              .emplace(std::pair{r.start, std::string(r.key)},
                                       Result{phase, r.kind, parseValues(plan_, json)})
                              .second;
    EXPECT_TRUE(inserted) << "window " << r.start << " emitted a key twice";
    ++pending_;
  }

  void onWindowEnd(std::int64_t start, std::int64_t end, std::size_t n) override {
    EXPECT_EQ(end - start, plan_.size);
    EXPECT_EQ(floorDiv(start, plan_.slide) * plan_.slide, start);
    EXPECT_EQ(n, pending_);
    EXPECT_GT(n, 0u);
    if (last_start_) {
      EXPECT_GT(start, *last_start_) << "windows fired out of order or twice";
    }
    last_start_ = start;
    last_window_results = n;
    pending_ = 0;
  }

  std::size_t phase = 0;
  Results results;
  std::vector<Update> updates;
  std::size_t last_window_results = 0;

 private:
  const PipelinePlan& plan_;
  const Aggregates& aggregates_;
  std::size_t pending_ = 0;
  std::optional<std::int64_t> last_start_;
};

void expectSameValue(AggregateKind kind, const Value& expected, const Value& actual,
                     const std::string& where) {
  if (kind == AggregateKind::kTopK) {
    EXPECT_EQ(expected.json, actual.json) << where;
    return;
  }
  ASSERT_EQ(expected.number.has_value(), actual.number.has_value()) << where;
  if (!expected.number) return;
  const double want = *expected.number;
  const double got = *actual.number;
  if (kind == AggregateKind::kSum || kind == AggregateKind::kAvg ||
      kind == AggregateKind::kStddev || kind == AggregateKind::kVariance) {
    EXPECT_LE(std::abs(want - got), 1e-9 * std::max(1.0, std::abs(want)))
        << where << " expected " << want << " got " << got;
  } else if (kind == AggregateKind::kQuantile && expected.within) {
    EXPECT_LE(std::abs(want - got), *expected.within)
        << where << " expected " << want << " got " << got;
  } else if (kind == AggregateKind::kQuantile) {
    // The sketch's guarantee, up to the rounding of a log and an exp.
    EXPECT_LE(std::abs(want - got),
              QuantileSketch::kDefaultRelativeAccuracy * (1 + 1e-9) * std::abs(want))
        << where << " expected " << want << " got " << got;
  } else {
    EXPECT_EQ(want, got) << where;
  }
}

void sketchCoverage(const PipelinePlan& plan, const Values& values, Coverage& coverage) {
  for (std::size_t k = 0; k < values.size(); ++k) {
    switch (plan.aggregates[k].kind) {
      case AggregateKind::kQuantile:
        coverage.quantiles += values[k].number.has_value();
        coverage.bucketed_quantiles += values[k].number && !values[k].within;
        break;
      case AggregateKind::kCountDistinct:
        coverage.distinct_counts += values[k].number > 1;
        break;
      case AggregateKind::kTopK:
        coverage.top_ks += values[k].json.find("],[") != std::string::npos;
        break;
      default:
        break;
    }
  }
}

// Calls of advanceWatermark in a case: a result with a lower phase was fired by one of them.
std::size_t watermarkCalls(const Case& c) {
  return static_cast<std::size_t>(
             std::count_if(c.steps.begin(), c.steps.end(),
                           [](const Step& s) { return s.kind == Step::kWatermark; })) +
         (c.end_of_input ? 1 : 0);
}

void runCase(std::uint64_t seed, Coverage& coverage) {
  Case c = makeCase(seed);
  SCOPED_TRACE(c.describe());
  std::size_t expected_late = 0;
  std::vector<Update> expected_updates;
  const Results expected = reference(c, expected_late, coverage, expected_updates);
  coverage.updates += expected_updates.size();
  coverage.late += expected_late;
  coverage.hopping_cases += c.plan.slide != c.plan.size;
  for (const auto& [where, result] : expected) {
    ++coverage.results;
    coverage.by_watermark += result.phase < watermarkCalls(c);
    coverage.partial += result.kind == ResultKind::kPartial;
    coverage.merged_results += c.plan.slice != c.plan.size;
    if (c.plan.slice != c.plan.size) sketchCoverage(c.plan, result.values, coverage);
  }
  for (const Update& u : expected_updates) sketchCoverage(c.plan, u.values, coverage);

  const PipelinePlan& plan = c.plan;
  const Aggregates aggregates(plan.aggregates, plan.value_index);
  RecordingSink sink(plan, aggregates);
  WindowOperator op(plan, aggregates, &sink);
  ReferenceState state(plan);

  const auto advance = [&](std::int64_t watermark) {
    const std::size_t before = sink.results.size();
    op.advanceWatermark(watermark, sink);
    if (sink.results.size() > before) {
      EXPECT_EQ(op.lastWindowKeys(), sink.last_window_results);
    }
    EXPECT_GE(op.watermark(), watermark);
    state.advance(op.watermark());
    EXPECT_EQ(op.stateEntries(), state.entries()) << "after watermark " << watermark;
    ++sink.phase;
  };
  const std::size_t late = feed(c, op, sink, advance, [&](const Event& e) { state.add(e); });
  EXPECT_EQ(op.stateEntries(), 0u);
  // Every state's sketches went back to the pool: fired slices, merged windows, updates.
  EXPECT_EQ(op.sketches().inUse(), 0u);
  EXPECT_EQ(late, expected_late);

  for (const auto& [where, want] : expected) {
    const auto got = sink.results.find(where);
    const std::string name =
        "window " + std::to_string(where.first) + " key " + where.second.substr(kKeyPartHeader);
    if (got == sink.results.end()) {
      ADD_FAILURE() << "missing result: " << name;
      continue;
    }
    EXPECT_EQ(got->second.phase, want.phase) << name << " fired at the wrong watermark";
    EXPECT_EQ(got->second.kind, want.kind) << name;
    ASSERT_EQ(got->second.values.size(), want.values.size());
    for (std::size_t k = 0; k < want.values.size(); ++k) {
      expectSameValue(plan.aggregates[k].kind, want.values[k], got->second.values[k],
                      name + " " + plan.aggregates[k].name);
    }
  }
  for (const auto& [where, result] : sink.results) {
    if (!expected.contains(where)) {
      ADD_FAILURE() << "unexpected result: window " << where.first << " key "
                    << where.second.substr(kKeyPartHeader);
    }
  }
  ASSERT_EQ(sink.updates.size(), expected_updates.size()) << "update messages";
  for (std::size_t u = 0; u < expected_updates.size(); ++u) {
    const Update& want = expected_updates[u];
    const Update& got = sink.updates[u];
    const std::string name = "update " + std::to_string(u) + ": window " +
                             std::to_string(want.start) + " key " + want.key.substr(kKeyPartHeader);
    EXPECT_EQ(got.start, want.start) << name;
    EXPECT_EQ(got.key, want.key) << name;
    EXPECT_EQ(got.phase, want.phase) << name;
    ASSERT_EQ(got.values.size(), want.values.size());
    for (std::size_t k = 0; k < want.values.size(); ++k) {
      expectSameValue(plan.aggregates[k].kind, want.values[k], got.values[k],
                      name + " " + plan.aggregates[k].name);
    }
  }
}

TEST(WindowPropertyTest, MatchesBruteForceReference) {
  Coverage coverage;
  for (int i = 0; i < kCases; ++i) {
    runCase(static_cast<std::uint64_t>(i) + 1, coverage);
    if (::testing::Test::HasFailure()) return;  // one failing case is enough to read
  }
  EXPECT_GT(coverage.results, 50'000u);
  EXPECT_GT(coverage.by_watermark, coverage.results / 2);
  EXPECT_GT(coverage.partial, 1000u);
  EXPECT_GT(coverage.late, 3000u);
  EXPECT_GT(coverage.partly_late, 1000u);
  EXPECT_GT(coverage.hopping_cases, 50u);
  EXPECT_GT(coverage.merged_results, 20'000u);
  EXPECT_GT(coverage.refused, 1000u);
  EXPECT_GT(coverage.updates, 1000u);
  EXPECT_GT(coverage.quantiles, 10'000u);
  EXPECT_GT(coverage.bucketed_quantiles, 100u);
  EXPECT_GT(coverage.distinct_counts, 5'000u);
  EXPECT_GT(coverage.top_ks, 5'000u);
  std::printf(
      "coverage: %zu results (%zu by watermark, %zu partial, %zu of merged slices), "
      "%zu late events, %zu partly late, %zu refused past max_keys, %zu updates, %zu hopping "
      "cases of %d; of merged slices or updates: %zu quantiles (%zu of more than 64 values), "
      "%zu distinct counts > 1, %zu top_k of several items\n",
      coverage.results, coverage.by_watermark, coverage.partial, coverage.merged_results,
      coverage.late, coverage.partly_late, coverage.refused, coverage.updates,
      coverage.hopping_cases, kCases, coverage.quantiles, coverage.bucketed_quantiles,
      coverage.distinct_counts, coverage.top_ks);
}

// ---- session windows ----

struct SessionCase {
  std::uint64_t seed;
  config::Config config;
  PipelinePlan plan;
  int keys;
  bool colliding_hashes;
  bool long_keys;
  std::vector<Event> events;
  std::vector<Step> steps;
  bool end_of_input;
  ResultKind flush_kind;

  std::string describe() const {
    std::ostringstream s;
    s << "seed=" << seed << " gap=" << plan.gap << " lateness=" << plan.allowed_lateness
      << " keys=" << keys << " events=" << events.size() << " colliding=" << colliding_hashes
      << " long_keys=" << long_keys << " max_keys=" << plan.max_keys
      << " emit=" << (plan.emit_updates ? "updates" : "final") << " end_of_input=" << end_of_input
      << " flush=" << (flush_kind == ResultKind::kFinal ? "final" : "partial");
    return s.str();
  }
};

SessionCase makeSessionCase(std::uint64_t seed) {
  testutil::Draws draws(seed);

  SessionCase c;
  c.seed = seed;
  const std::int64_t unit = draws.uniform(1, 7);
  const std::int64_t gap = unit * draws.uniform(1, 10);

  config::PipelineConfig pipeline = testutil::keyedPipeline();
  pipeline.window.kind = config::WindowKind::kSession;
  pipeline.window.size = gap;
  pipeline.allowed_lateness = draws.chance(0.35) ? 0 : draws.uniform(0, 3 * gap);
  pipeline.emit_updates = draws.chance(0.5);
  const int fields = static_cast<int>(draws.uniform(1, kNumberFields));
  const int aggregates = static_cast<int>(draws.uniform(1, 9));
  for (int k = 0; k < aggregates; ++k) {
    const auto kind =
        static_cast<AggregateKind>(draws.uniform(0, static_cast<int>(AggregateKind::kTopK)));
    pipeline.aggregates.push_back(testutil::randomAggregate(kind, k, fields, draws.engine()));
  }
  c.keys = static_cast<int>(draws.uniform(1, 30));
  if (draws.chance(0.25)) pipeline.max_keys = draws.uniform(1, c.keys);
  c.config = testutil::configWith(pipeline);
  c.plan = compilePipeline(c.config, 0);

  c.colliding_hashes = draws.chance(0.2);
  c.long_keys = draws.chance(0.2);
  // Each key's events come in bursts, so sessions open, grow, bridge and close.
  EventDraws stream{.span = gap};
  stream.delay = draws.uniform(0, 3 * gap);
  stream.max_disorder = draws.chance(0.2) ? 0 : draws.uniform(0, 3 * gap);
  stream.advance_probability = draws.real(0.01, 0.3);
  const double pause_probability = draws.real(0.0, 0.1);
  stream.null_probability = draws.chance(0.3) ? 0.0 : 0.15;
  stream.exact_values = draws.chance(0.5);
  stream.categories = static_cast<int>(draws.uniform(1, 30));
  const auto events = static_cast<std::size_t>(draws.uniform(1, 1200));
  std::int64_t clock = draws.uniform(-60 * gap, 60 * gap);
  for (std::size_t i = 0; i < events; ++i) {
    clock += draws.uniform(0, 2) * draws.uniform(0, unit);
    if (draws.chance(pause_probability)) clock += draws.uniform(gap, 4 * gap);
    addEvent(clock, stream, draws, c);
  }
  c.end_of_input = draws.chance(0.25);
  c.flush_kind = draws.chance(0.5) ? ResultKind::kFinal : ResultKind::kPartial;
  return c;
}

struct SessionResult {
  std::size_t phase;
  ResultKind kind;
  Values values;
};
// Keyed by (start, end, key): a key may close two sessions with one start, when a session fires
// and is freed and a later event that is itself too late joins a new session that still takes it,
// reaching back to the old start (as in Flink, where lateness is judged on the merged window).
using SessionId = std::tuple<std::int64_t, std::int64_t, std::string>;
using SessionResults = std::map<SessionId, SessionResult>;

struct SessionUpdate {
  std::size_t phase;
  std::int64_t start;
  std::int64_t end;
  std::string key;
  Values values;
};

struct SessionCoverage {
  std::size_t results = 0;
  std::size_t by_watermark = 0;
  std::size_t partial = 0;
  std::size_t late = 0;
  std::size_t refused = 0;
  std::size_t bridges = 0;      // events that merged two sessions
  std::size_t multi_event = 0;  // results of more than one event
  std::size_t updates = 0;
  std::size_t grown_updates = 0;  // updates of a session a late event extended
  std::size_t born_late = 0;      // sessions opened past their fire time (emit updates)
};

// The reference: a key's live sessions as plain lists of events. An event joins every session it
// is within gap of (merging them), else opens one; the groups are recomputed from the raw events
// rather than by the operator's list surgery.
struct ReferenceSession {
  std::vector<std::size_t> events;  // indices, in arrival order
  std::int64_t first;
  std::int64_t last;
  bool fired = false;
};

class SessionReference {
 public:
  SessionReference(SessionCase& c, SessionCoverage& coverage) : c_(c), coverage_(coverage) {}

  void run() {
    const PipelinePlan& p = c_.plan;
    for (const Step& s : c_.steps) {
      if (s.kind == Step::kWatermark) {
        advance(s.watermark);
        continue;
      }
      Event& e = c_.events[s.event];
      std::vector<ReferenceSession>& live = keys_[e.key];
      std::vector<ReferenceSession> touched;
      for (auto it = live.begin(); it != live.end();) {
        if (it->first - p.gap <= e.time && e.time <= it->last + p.gap) {
          touched.push_back(std::move(*it));
          it = live.erase(it);
        } else {
          ++it;
        }
      }
      if (touched.empty()) {
        if (e.time + p.gap + p.allowed_lateness <= watermark_) {
          e.late = true;
          ++late;
          continue;
        }
        if (live.empty() && p.max_keys > 0 && liveKeys() >= p.max_keys) {
          e.refused = true;
          ++coverage_.refused;
          continue;
        }
      }
      coverage_.bridges += touched.size() > 1;
      ReferenceSession merged{{s.event}, e.time, e.time};
      for (const ReferenceSession& t : touched) {
        merged.events.insert(merged.events.end(), t.events.begin(), t.events.end());
        merged.first = std::min(merged.first, t.first);
        merged.last = std::max(merged.last, t.last);
        merged.fired = merged.fired || t.fired;
      }
      std::sort(merged.events.begin(), merged.events.end());
      // With emit updates, a session born past its fire time goes out at once, as an update.
      const bool born_late = merged.last + p.gap + p.fire_delay <= watermark_;
      coverage_.born_late += touched.empty() && born_late;
      merged.fired = merged.fired || born_late;
      if (merged.fired) {
        const bool grew = std::none_of(touched.begin(), touched.end(), [&](const auto& t) {
          return t.first == merged.first && t.last == merged.last;
        });
        coverage_.grown_updates += grew;
        updates.push_back(SessionUpdate{phase_, merged.first, merged.last + p.gap,
                                        StreamKeys::encode(c_.long_keys, e.key), values(merged)});
      }
      live.push_back(std::move(merged));
    }
    if (c_.end_of_input) advance(kMaxTime);
    for (auto& [key, live] : keys_) {
      for (const ReferenceSession& s : live) {
        if (!s.fired) emitResult(key, s, c_.flush_kind);
      }
    }
  }

  // Sessions that are live (not freed) after each advance, for the operator's stateEntries().
  std::vector<std::size_t> live_after_advance;
  SessionResults results;
  std::vector<SessionUpdate> updates;
  std::size_t late = 0;

 private:
  void advance(std::int64_t watermark) {
    const PipelinePlan& p = c_.plan;
    watermark_ = std::max(watermark_, watermark);
    std::size_t live_sessions = 0;
    for (auto& [key, live] : keys_) {
      for (ReferenceSession& s : live) {
        if (!s.fired && s.last + p.gap + p.fire_delay <= watermark_) {
          emitResult(key, s, ResultKind::kFinal);
          s.fired = true;
        }
      }
      std::erase_if(live, [&](const ReferenceSession& s) {
        return s.last + p.gap + p.allowed_lateness <= watermark_;
      });
      live_sessions += live.size();
    }
    live_after_advance.push_back(live_sessions);
    ++phase_;
  }

  void emitResult(int key, const ReferenceSession& s, ResultKind kind) {
    const SessionId id{s.first, s.last + c_.plan.gap, StreamKeys::encode(c_.long_keys, key)};
    const bool inserted = results.emplace(id, SessionResult{phase_, kind, values(s)}).second;
    EXPECT_TRUE(inserted) << "reference: two sessions of a key span " << s.first << ".."
                          << s.last + c_.plan.gap;
    coverage_.multi_event += s.events.size() > 1;
  }

  Values values(const ReferenceSession& s) const {
    std::vector<const Event*> events;
    for (std::size_t i : s.events) events.push_back(&c_.events[i]);
    return aggregate(c_.plan, events);
  }

  std::size_t liveKeys() const {
    return static_cast<std::size_t>(
        std::count_if(keys_.begin(), keys_.end(), [](const auto& k) { return !k.second.empty(); }));
  }

  SessionCase& c_;
  SessionCoverage& coverage_;
  std::map<int, std::vector<ReferenceSession>> keys_;
  std::int64_t watermark_ = kMinTime;
  std::size_t phase_ = 0;
};

class SessionSink : public ResultSink {
 public:
  SessionSink(const PipelinePlan& plan, const Aggregates& aggregates)
      : plan_(plan), aggregates_(aggregates) {}

  void onResult(const WindowResult& r) override {
    std::string json;
    JsonWriter writer(json);
    aggregates_.writeJson(r.state, *r.sketches, writer);
    EXPECT_GE(r.end - r.start, plan_.gap);
    if (r.kind == ResultKind::kUpdate) {
      updates.push_back(
          SessionUpdate{phase, r.start, r.end, std::string(r.key), parseValues(plan_, json)});
      return;
    }
    const bool inserted = results
                              .emplace(SessionId{r.start, r.end, std::string(r.key)},
                                       SessionResult{phase, r.kind, parseValues(plan_, json)})
                              .second;
    EXPECT_TRUE(inserted) << "session " << r.start << ".." << r.end << " emitted twice";
  }

  void onWindowEnd(std::int64_t, std::int64_t, std::size_t) override {
    ADD_FAILURE() << "session windows have no window-end markers";
  }

  std::size_t phase = 0;
  SessionResults results;
  std::vector<SessionUpdate> updates;

 private:
  const PipelinePlan& plan_;
  const Aggregates& aggregates_;
};

void expectSameValues(const PipelinePlan& plan, const Values& want, const Values& got,
                      const std::string& name) {
  ASSERT_EQ(got.size(), want.size()) << name;
  for (std::size_t k = 0; k < want.size(); ++k) {
    expectSameValue(plan.aggregates[k].kind, want[k], got[k], name + " " + plan.aggregates[k].name);
  }
}

void runSessionCase(std::uint64_t seed, SessionCoverage& coverage) {
  SessionCase c = makeSessionCase(seed);
  SCOPED_TRACE(c.describe());
  SessionReference reference(c, coverage);
  reference.run();
  const std::size_t calls = reference.live_after_advance.size();
  coverage.late += reference.late;
  coverage.updates += reference.updates.size();
  for (const auto& [where, result] : reference.results) {
    ++coverage.results;
    coverage.by_watermark += result.phase < calls;
    coverage.partial += result.kind == ResultKind::kPartial;
  }

  const PipelinePlan& plan = c.plan;
  const Aggregates aggregates(plan.aggregates, plan.value_index);
  SessionSink sink(plan, aggregates);
  SessionOperator op(plan, aggregates, &sink);
  const auto advance = [&](std::int64_t watermark) {
    op.advanceWatermark(watermark, sink);
    EXPECT_GE(op.watermark(), watermark);
    EXPECT_EQ(op.stateEntries(), reference.live_after_advance[sink.phase])
        << "sessions after watermark " << watermark;
    ++sink.phase;
  };
  const std::size_t late = feed(c, op, sink, advance);
  EXPECT_EQ(op.stateEntries(), 0u);
  EXPECT_EQ(op.liveKeys(), 0u);
  EXPECT_EQ(op.sketches().inUse(), 0u) << "sketches of freed or merged sessions";
  EXPECT_EQ(late, reference.late);

  auto describe = [](const SessionId& id) {
    const auto& [start, end, key] = id;
    return "session " + std::to_string(start) + ".." + std::to_string(end) + " key " +
           key.substr(kKeyPartHeader);
  };
  for (const auto& [where, want] : reference.results) {
    const std::string name = describe(where);
    const auto got = sink.results.find(where);
    if (got == sink.results.end()) {
      ADD_FAILURE() << "missing result: " << name;
      continue;
    }
    EXPECT_EQ(got->second.phase, want.phase) << name << " fired at the wrong watermark";
    EXPECT_EQ(got->second.kind, want.kind) << name;
    expectSameValues(plan, want.values, got->second.values, name);
  }
  for (const auto& [where, result] : sink.results) {
    if (!reference.results.contains(where)) {
      ADD_FAILURE() << "unexpected result: " << describe(where);
    }
  }
  ASSERT_EQ(sink.updates.size(), reference.updates.size()) << "update messages";
  for (std::size_t u = 0; u < reference.updates.size(); ++u) {
    const SessionUpdate& want = reference.updates[u];
    const SessionUpdate& got = sink.updates[u];
    const std::string name = "update " + std::to_string(u) + ": session " +
                             std::to_string(want.start) + " key " + want.key.substr(kKeyPartHeader);
    EXPECT_EQ(got.start, want.start) << name;
    EXPECT_EQ(got.end, want.end) << name;
    EXPECT_EQ(got.key, want.key) << name;
    EXPECT_EQ(got.phase, want.phase) << name;
    expectSameValues(plan, want.values, got.values, name);
  }
}

TEST(SessionPropertyTest, MatchesBruteForceReference) {
  SessionCoverage coverage;
  for (int i = 0; i < kCases; ++i) {
    runSessionCase(static_cast<std::uint64_t>(i) + 1, coverage);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(coverage.results, 10'000u);
  EXPECT_GT(coverage.by_watermark, coverage.results / 2);
  EXPECT_GT(coverage.partial, 500u);
  EXPECT_GT(coverage.late, 500u);
  EXPECT_GT(coverage.refused, 500u);
  EXPECT_GT(coverage.bridges, 200u);
  EXPECT_GT(coverage.multi_event, coverage.results / 4);
  EXPECT_GT(coverage.updates, 500u);
  EXPECT_GT(coverage.grown_updates, 50u);
  EXPECT_GT(coverage.born_late, 50u);
  std::printf(
      "session coverage: %zu results (%zu by watermark, %zu partial, %zu of several events), "
      "%zu late events, %zu refused past max_keys, %zu bridging events, %zu updates (%zu of "
      "grown sessions, %zu opened past their fire time)\n",
      coverage.results, coverage.by_watermark, coverage.partial, coverage.multi_event,
      coverage.late, coverage.refused, coverage.bridges, coverage.updates, coverage.grown_updates,
      coverage.born_late);
}

}  // namespace
}  // namespace rivulet::pipeline
