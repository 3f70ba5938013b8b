// Property test of WindowOperator against a brute-force reference: random out-of-order streams
// with random tumbling and hopping windows, lateness, max_keys, emit modes and watermarks; the
// reference keeps every raw event and recomputes every window and every aggregate from them. The
// sketch aggregates are checked against their guarantees: count_distinct and top_k exactly (a
// window holds at most 60 distinct values, which both count exactly), quantile as numpy's linear
// interpolation up to 64 values and within the sketch's relative accuracy of the exact lower
// quantile beyond.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/windows/window_operator.h"
#include "tests/property/window_reference.h"
#include "tests/support/draws.h"
#include "tests/support/plans.h"
#include "tests/support/random_events.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using namespace testutil;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

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
    const std::size_t fired_phase = static_cast<std::size_t>(fired - phase_watermarks.begin());
    const ResultKind kind = fired == phase_watermarks.end() ? c.flush_kind : ResultKind::kFinal;
    for (const auto& [key, events] : keys) {
      out[{start, StreamKeys::encode(c.long_keys, key)}] =
          Result{fired_phase, kind, aggregate(p, events)};
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

}  // namespace
}  // namespace rivulet::pipeline
