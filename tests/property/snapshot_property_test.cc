// Property test of checkpoints: a WindowOperator or SessionOperator snapshotted at a random point
// of a random stream (tumbling, hopping and session windows, emit final and updates, lateness,
// max_keys, every aggregate kind; out-of-order and late events, random watermark advances) and
// restored into a fresh operator must go on exactly as the original: the same results (bounds,
// key, kind and the aggregates' JSON) in the same order, the same add() outcomes and the same
// state sizes. The reference is the original operator fed the whole stream without a break; for
// tumbling and hopping windows every event count the two emit is also checked against a
// brute-force recount of the raw events. Snapshots are canonical (restore, snapshot again: the
// same bytes), and corrupt ones (truncated, a bit flipped) are refused or restore something
// usable, never crash and never leak (run under the asan preset too). A snapshot begun at the
// same point and written a few bytes at a time while the operator takes the rest of the stream
// (Operator::beginSnapshot) changes none of its results and restores exactly the state at the
// point it was begun.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/hash.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/model/value_slot.h"
#include "pipeline/windows/session_operator.h"
#include "pipeline/windows/window_operator.h"
#include "tests/support/draws.h"
#include "tests/support/plans.h"
#include "tests/support/random_events.h"
#include "tests/support/result_log.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using namespace testutil;

constexpr int kCases = 500;       // of each: window cases, session cases
constexpr int kNumberFields = 2;  // f0, f1, then the categories c0, c1

std::int64_t floorDiv(std::int64_t a, std::int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

struct Event {
  std::int64_t time;
  int key;
  std::vector<double> record;  // the value slots in the plan's order, then top_k's item bytes
};

struct Case {
  std::uint64_t seed;
  bool session;
  config::Config config;
  PipelinePlan plan;
  std::vector<std::string> keys;
  std::vector<std::uint64_t> hashes;
  std::vector<Event> events;
  std::vector<Step> steps;
  std::size_t cut;  // the snapshot is taken before steps[cut]
  bool end_of_input;
  ResultKind flush_kind;
  bool wide_values;     // values over 600 orders of magnitude: quantile sketches collapse
  bool crowded;         // few keys, many events and categories
  int categories;       // distinct values of a category field
  std::size_t prefeed;  // events the restored operator sees before restore() replaces them

  std::string describe() const {
    std::ostringstream s;
    s << "seed=" << seed << (session ? " session gap=" : " size=")
      << (session ? plan.gap : plan.size) << " slide=" << plan.slide
      << " lateness=" << plan.allowed_lateness
      << " emit=" << (plan.emit_updates ? "updates" : "final") << " keys=" << keys.size()
      << " max_keys=" << plan.max_keys << " events=" << events.size() << " steps=" << steps.size()
      << " cut=" << cut << " categories=" << categories << " wide=" << wide_values;
    return s.str();
  }
};

Case makeCase(std::uint64_t seed, bool session) {
  testutil::Draws draws(seed);

  Case c;
  c.seed = seed;
  c.session = session;
  const std::int64_t unit = draws.uniform(1, 7);
  config::PipelineConfig pipeline = testutil::keyedPipeline();
  std::int64_t span;  // the window size or gap: the scale of disorder and lateness
  if (session) {
    span = unit * draws.uniform(1, 10);
    pipeline.window.kind = config::WindowKind::kSession;
    pipeline.window.size = span;
  } else {
    const std::int64_t size_units = draws.uniform(1, 12);
    span = unit * size_units;
    const std::int64_t slide = draws.chance(0.4) ? span : unit * draws.uniform(1, size_units);
    pipeline.window.kind =
        slide == span ? config::WindowKind::kTumbling : config::WindowKind::kHopping;
    pipeline.window.size = span;
    pipeline.window.slide = slide;
  }
  pipeline.allowed_lateness = draws.chance(0.3) ? 0 : draws.uniform(0, 3 * span);
  pipeline.emit_updates = draws.chance(0.5);
  // Every case counts its events as "n" (the brute-force reference checks it), plus a random
  // mix in which the sketch aggregates come often. Crowded cases have a few keys, hundreds of
  // events per window and more distinct categories than the sketches hold exactly
  // (count_distinct turns to HyperLogLog registers, top_k replaces the smallest of equal counts).
  c.crowded = draws.chance(0.3);
  const int extra = static_cast<int>(draws.uniform(0, 6));
  pipeline.aggregates.push_back({"n", AggregateKind::kCount, ""});
  if (c.crowded) {
    pipeline.aggregates.push_back(testutil::randomAggregate(AggregateKind::kCountDistinct, extra,
                                                            kNumberFields, draws.engine()));
    pipeline.aggregates.push_back(
        testutil::randomAggregate(AggregateKind::kTopK, extra + 1, kNumberFields, draws.engine()));
  }
  for (int k = 0; k < extra; ++k) {
    const auto kind = static_cast<AggregateKind>(
        draws.chance(0.5) ? draws.uniform(static_cast<int>(AggregateKind::kQuantile),
                                          static_cast<int>(AggregateKind::kTopK))
                          : draws.uniform(0, static_cast<int>(AggregateKind::kTopK)));
    pipeline.aggregates.push_back(
        testutil::randomAggregate(kind, k, kNumberFields, draws.engine()));
  }
  std::shuffle(pipeline.aggregates.begin(), pipeline.aggregates.end(), draws.engine());
  const int keys = static_cast<int>(c.crowded ? draws.uniform(1, 3) : draws.uniform(1, 30));
  if (draws.chance(0.2)) pipeline.max_keys = draws.uniform(1, keys);
  c.config = testutil::configWith(pipeline);
  c.plan = compilePipeline(c.config, 0);

  const bool colliding = draws.chance(0.15);  // hash = key % 3: many keys share a hash
  const bool long_keys = draws.chance(0.2);   // over 16 bytes: compared byte by byte
  testutil::StreamKeys stream_keys(keys, long_keys, colliding);
  c.keys = std::move(stream_keys.encoded);
  c.hashes = std::move(stream_keys.hashes);

  c.categories = static_cast<int>(c.crowded ? draws.uniform(70, 200) : draws.uniform(1, 30));
  const double tick_probability = c.crowded ? 0.02 : 1.0;  // the clock's advance per event
  c.wide_values = draws.chance(0.2);
  const std::int64_t delay = draws.uniform(0, 2 * span);
  const std::int64_t max_disorder = draws.chance(0.2) ? 0 : draws.uniform(0, 3 * span);
  const double advance_probability = draws.real(0.02, 0.3);
  const double pause_probability = session ? 0.05 : 0.0;
  const double null_probability = draws.chance(0.3) ? 0.0 : 0.15;
  const auto events =
      static_cast<std::size_t>(c.crowded ? draws.uniform(300, 700) : draws.uniform(1, 700));
  std::int64_t clock = draws.uniform(-60 * span, 60 * span);
  std::int64_t max_time = kMinTime;
  for (std::size_t i = 0; i < events; ++i) {
    if (draws.chance(tick_probability)) clock += draws.uniform(0, 2) * draws.uniform(0, unit);
    if (draws.chance(pause_probability)) clock += draws.uniform(span, 4 * span);
    Event e;
    e.time = clock - (draws.chance(0.5) ? 0 : draws.uniform(0, max_disorder));
    e.key = static_cast<int>(draws.uniform(0, keys - 1));
    const std::vector<Field> fields =
        testutil::randomFields(kNumberFields, null_probability, c.categories, draws, [&] {
          if (c.wide_values && draws.chance(0.3)) {
            return (draws.chance(0.5) ? -1 : 1) *
                   std::pow(10.0, static_cast<double>(draws.uniform(-300, 300)));
          }
          if (draws.chance(0.5))
            return static_cast<double>(draws.uniform(0, 3));  // ties, count_if's 1
          return draws.real(-1e3, 1e3);
        });
    e.record = testutil::recordOf(c.plan, fields, kNumberFields);
    max_time = std::max(max_time, e.time);
    c.steps.push_back({Step::kEvent, c.events.size(), 0});
    c.events.push_back(std::move(e));
    if (draws.chance(advance_probability)) {
      std::int64_t w = max_time - delay;
      if (draws.chance(0.02))
        w = max_time + draws.uniform(0, 3 * span);              // a jump past every window
      if (draws.chance(0.03)) w -= draws.uniform(0, 2 * span);  // possibly lower: ignored
      c.steps.push_back({Step::kWatermark, 0, w});
    }
  }
  c.cut = static_cast<std::size_t>(draws.uniform(0, static_cast<std::int64_t>(c.steps.size())));
  c.end_of_input = draws.chance(0.3);
  c.flush_kind = draws.chance(0.5) ? ResultKind::kFinal : ResultKind::kPartial;
  c.prefeed = draws.chance(0.2) ? static_cast<std::size_t>(draws.uniform(1, 20)) : 0;
  return c;
}

// ---- what an operator emits ----

// One of the two operators behind a common face.
class Operator {
 public:
  Operator(const Case& c, const Aggregates& aggregates)
      : sink(aggregates, ResultLog::WindowEnds::kLogged), case_(c) {
    if (c.session) {
      sessions_ = std::make_unique<SessionOperator>(c.plan, aggregates, &sink);
    } else {
      windows_ = std::make_unique<WindowOperator>(c.plan, aggregates, &sink);
    }
  }

  AddResult add(const Event& e) {
    return windows_
               ? windows_->add(e.time, case_.hashes[e.key], case_.keys[e.key], e.record.data())
               : sessions_->add(e.time, case_.hashes[e.key], case_.keys[e.key], e.record.data());
  }
  void advance(std::int64_t watermark) {
    windows_ ? windows_->advanceWatermark(watermark, sink)
             : sessions_->advanceWatermark(watermark, sink);
  }
  void flush(ResultKind kind) {
    windows_ ? windows_->flush(kind, sink) : sessions_->flush(kind, sink);
  }
  void snapshot(SnapshotWriter& out) const {
    windows_ ? windows_->snapshot(out) : sessions_->snapshot(out);
  }
  bool restore(SnapshotReader& in) {
    return windows_ ? windows_->restore(in) : sessions_->restore(in);
  }
  std::string snapshotBytes() const {
    SnapshotWriter out;
    snapshot(out);
    return out.take();
  }
  void beginSnapshot(SnapshotWriter& out) {
    windows_ ? windows_->beginSnapshot(out) : sessions_->beginSnapshot(out);
  }
  bool continueSnapshot(std::size_t budget) {
    return windows_ ? windows_->continueSnapshot(budget) : sessions_->continueSnapshot(budget);
  }

  // What can be observed of its state besides the results.
  struct Observed {
    std::int64_t watermark;
    std::size_t entries;
    std::size_t keys;  // window: keys of the last fired window; session: live keys
    std::size_t sketches;
    bool operator==(const Observed&) const = default;
  };
  Observed observe() const {
    if (windows_) {
      return {windows_->watermark(), windows_->stateEntries(), windows_->lastWindowKeys(),
              windows_->sketches().inUse()};
    }
    return {sessions_->watermark(), sessions_->stateEntries(), sessions_->liveKeys(),
            sessions_->sketches().inUse()};
  }
  // Feeds steps [from, to), then (at the end of the stream) the end of input and the flush.
  std::vector<AddResult> run(std::size_t from, std::size_t to) {
    std::vector<AddResult> added;
    for (std::size_t i = from; i < to; ++i) {
      const Step& s = case_.steps[i];
      if (s.kind == Step::kWatermark) {
        advance(s.watermark);
      } else {
        added.push_back(add(case_.events[s.event]));
      }
    }
    if (to == case_.steps.size()) {
      if (case_.end_of_input) advance(kMaxTime);
      flush(case_.flush_kind);
    }
    return added;
  }

  ResultLog sink;  // every result and window end, updates included: sink.emitted

 private:
  const Case& case_;
  std::unique_ptr<WindowOperator> windows_;
  std::unique_ptr<SessionOperator> sessions_;
};

// ---- the brute-force reference (tumbling and hopping windows) ----

// Event counts from the raw events: per (window start, key) what the final (or flushed) result
// counts, and the count of each update, in order. An event arriving at watermark w is late if
// its last window closed (end + lateness <= w); else it counts in each of its windows not yet
// closed, as an update where that window has fired (end + fire delay <= w).
struct CountReference {
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> finals;
  std::vector<std::tuple<std::int64_t, std::string, std::int64_t>> updates;
};

CountReference countReference(const Case& c) {
  const PipelinePlan& p = c.plan;
  CountReference out;
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> all;
  std::map<std::int64_t, std::map<int, bool>> slice_keys;  // keys admitted to each slice
  std::int64_t watermark = kMinTime;
  for (const Step& s : c.steps) {
    if (s.kind == Step::kWatermark) {
      watermark = std::max(watermark, s.watermark);
      continue;
    }
    const Event& e = c.events[s.event];
    const std::int64_t last = floorDiv(e.time, p.slide) * p.slide;
    const std::int64_t first = floorDiv(e.time - p.size, p.slide) * p.slide + p.slide;
    if (last + p.size + p.allowed_lateness <= watermark) continue;  // late
    std::map<int, bool>& admitted = slice_keys[floorDiv(e.time, p.slice) * p.slice];
    if (p.max_keys > 0 && !admitted.contains(e.key) && admitted.size() >= p.max_keys) continue;
    admitted[e.key] = true;
    for (std::int64_t start = first; start <= last; start += p.slide) {
      if (start + p.size + p.allowed_lateness <= watermark) continue;
      const std::pair<std::int64_t, std::string> where{start, c.keys[e.key]};
      const std::int64_t n = ++all[where];
      if (start + p.size + p.fire_delay > watermark) {
        ++out.finals[where];
      } else {
        out.updates.emplace_back(start, c.keys[e.key], n);
      }
    }
  }
  return out;
}

// The "n" count of a result's JSON.
std::int64_t countOf(const std::string& json) {
  const std::size_t at = json.find("\"n\":");
  EXPECT_NE(at, std::string::npos) << json;
  return at == std::string::npos ? -1 : std::strtoll(json.c_str() + at + 4, nullptr, 10);
}

// ---- the property ----

struct Coverage {
  std::size_t cases = 0;
  std::size_t results_after_restore = 0;  // emitted by the restored operator
  std::size_t updates_after_restore = 0;
  std::size_t late_after_restore = 0;
  std::size_t nonempty_snapshots = 0;     // snapshots with state in them
  std::size_t distinct_beyond_exact = 0;  // count_distinct results > 64 after a restore
  std::size_t top_k_crowded = 0;          // top_k results of crowded cases
  std::size_t wide_quantiles = 0;         // quantile results of cases with wide values
  std::size_t truncated = 0;
  std::size_t flipped_refused = 0;
  std::size_t flipped_restored = 0;
  std::size_t incremental_split = 0;  // snapshots written while going on, not in one piece
};

void expectSameLog(const std::vector<Emitted>& want, std::size_t from,
                   const std::vector<Emitted>& got, const char* what) {
  ASSERT_EQ(got.size(), want.size() - from) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], want[from + i]) << what << ": entry " << i << " is " << got[i].describe()
                                      << ", the original's " << want[from + i].describe();
  }
}

void expectEmpty(const Operator& op, const char* what) {
  const Operator::Observed o = op.observe();
  EXPECT_EQ(o.watermark, kMinTime) << what;
  EXPECT_EQ(o.entries, 0u) << what;
  EXPECT_EQ(o.keys, 0u) << what;
  EXPECT_EQ(o.sketches, 0u) << what;
}

// A corrupt snapshot: restore() either refuses it, leaving the operator as constructed, or
// accepts it; either way the operator takes the rest of the stream, flushes to nothing and
// returns every sketch to its pool. An accepted one snapshots canonically.
void tryCorrupt(const Case& c, const Aggregates& aggregates, const std::string& bytes,
                bool must_refuse, Coverage& coverage) {
  Operator op(c, aggregates);
  SnapshotReader in(bytes);
  const bool restored = op.restore(in);
  if (must_refuse) {
    EXPECT_FALSE(restored) << "a truncated snapshot of " << bytes.size() << " bytes";
  }
  if (!restored) {
    EXPECT_FALSE(in.ok());
    expectEmpty(op, "after a refused restore");
  } else {
    const std::string again = op.snapshotBytes();
    Operator copy(c, aggregates);
    SnapshotReader reread(again);
    EXPECT_TRUE(copy.restore(reread));
    EXPECT_EQ(copy.snapshotBytes(), again) << "the snapshot of an accepted corrupt snapshot";
  }
  (restored ? coverage.flipped_restored : coverage.flipped_refused) += !must_refuse;
  op.run(c.cut, c.steps.size());
  const Operator::Observed o = op.observe();
  EXPECT_EQ(o.entries, 0u) << "state left after the flush";
  EXPECT_EQ(o.sketches, 0u) << "sketches left in use after the flush";
}

void runCase(const Case& c, Coverage& coverage) {
  SCOPED_TRACE(c.describe());
  const Aggregates aggregates(c.plan.aggregates, c.plan.value_index);
  ++coverage.cases;

  // A: the whole stream without a break, the reference.
  Operator a(c, aggregates);
  std::vector<AddResult> a_added = a.run(0, c.cut);  // every add() outcome of A
  const std::size_t a_log_at_cut = a.sink.emitted.size();
  const std::string bytes = a.snapshotBytes();
  coverage.nonempty_snapshots += a.observe().entries > 0;

  // B: restored from A's snapshot, possibly into an operator that already holds state.
  Operator b(c, aggregates);
  for (std::size_t i = 0, fed = 0; i < c.steps.size() && fed < c.prefeed; ++i) {
    if (c.steps[i].kind == Step::kEvent)
      fed += b.add(c.events[c.steps[i].event]) == AddResult::kAdded;
  }
  b.sink.emitted.clear();
  {
    SnapshotReader in(bytes);
    ASSERT_TRUE(b.restore(in)) << "a genuine snapshot refused";
    EXPECT_TRUE(in.done()) << "restore() must read the whole snapshot, and no more";
  }
  EXPECT_EQ(b.observe(), a.observe()) << "right after the restore";
  EXPECT_EQ(b.snapshotBytes(), bytes) << "restore then snapshot must give the same bytes";

  // Two snapshots in one stream: each restore reads its own.
  {
    SnapshotWriter out;
    a.snapshot(out);
    b.snapshot(out);
    Operator first(c, aggregates), second(c, aggregates);
    SnapshotReader in(out.bytes());
    EXPECT_TRUE(first.restore(in));
    EXPECT_TRUE(second.restore(in));
    EXPECT_TRUE(in.done());
    EXPECT_EQ(second.snapshotBytes(), bytes);
  }

  // The rest of the stream, step by step, to both.
  for (std::size_t i = c.cut; i < c.steps.size(); ++i) {
    const std::vector<AddResult> a_step = a.run(i, i + 1);
    const std::vector<AddResult> b_added = b.run(i, i + 1);
    ASSERT_EQ(b_added, a_step) << "step " << i;
    a_added.insert(a_added.end(), a_step.begin(), a_step.end());
    for (const AddResult r : b_added) coverage.late_after_restore += r == AddResult::kLate;
    ASSERT_EQ(b.observe(), a.observe()) << "after step " << i;
  }
  if (c.cut == c.steps.size()) {  // the end of input and the flush only
    a.run(c.steps.size(), c.steps.size());
    b.run(c.steps.size(), c.steps.size());
  }
  expectSameLog(a.sink.emitted, a_log_at_cut, b.sink.emitted, "results after the restore");
  EXPECT_EQ(b.observe().sketches, 0u);

  for (const Emitted& e : b.sink.emitted) {
    if (e.kind == Emitted::kEnd) continue;
    ++coverage.results_after_restore;
    coverage.updates_after_restore += e.kind == static_cast<int>(ResultKind::kUpdate);
    for (const config::AggregateSpec& spec : c.plan.aggregates) {
      const std::string name = "\"" + spec.name + "\":";
      const std::size_t at = e.json.find(name);
      if (at == std::string::npos) continue;
      const char* value = e.json.c_str() + at + name.size();
      if (spec.kind == AggregateKind::kCountDistinct) {
        coverage.distinct_beyond_exact += std::strtoll(value, nullptr, 10) > 64;
      } else if (spec.kind == AggregateKind::kTopK) {
        coverage.top_k_crowded += c.crowded && *value == '[';
      } else if (spec.kind == AggregateKind::kQuantile) {
        coverage.wide_quantiles += c.wide_values && std::strncmp(value, "null", 4) != 0;
      }
    }
  }

  // The brute-force reference: A's results before the cut and B's after it count every event
  // they should.
  if (!c.session) {
    const CountReference want = countReference(c);
    std::map<std::pair<std::int64_t, std::string>, std::int64_t> finals;
    std::vector<std::tuple<std::int64_t, std::string, std::int64_t>> updates;
    auto collect = [&](const std::vector<Emitted>& log, std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        const Emitted& e = log[i];
        if (e.kind == Emitted::kEnd) continue;
        if (e.kind == static_cast<int>(ResultKind::kUpdate)) {
          updates.emplace_back(e.start, e.key, countOf(e.json));
        } else {
          EXPECT_TRUE(finals.emplace(std::pair{e.start, e.key}, countOf(e.json)).second)
              << "window " << e.start << " emitted twice";
        }
      }
    };
    collect(a.sink.emitted, 0, a_log_at_cut);
    collect(b.sink.emitted, 0, b.sink.emitted.size());
    EXPECT_EQ(finals, want.finals) << "final and flushed results";
    EXPECT_EQ(updates, want.updates) << "updates";
  }

  // C: a snapshot taken at the cut while the operator goes on, a few bytes at a time between the
  // steps after it. C emits what A emits, and the snapshot, once complete, restores into what A
  // held at the cut (its snapshot, which is canonical, is A's).
  {
    std::mt19937_64 rng(c.seed * 104729);
    auto draw = [&](std::size_t lo, std::size_t hi) {
      return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
    };
    Operator inc(c, aggregates);
    std::vector<AddResult> added = inc.run(0, c.cut);
    SnapshotWriter out;
    inc.beginSnapshot(out);
    bool complete = false;
    for (std::size_t i = c.cut; i <= c.steps.size(); ++i) {
      if (!complete && draw(0, 3) == 0) complete = inc.continueSnapshot(draw(1, 400));
      if (i == c.steps.size()) break;
      const std::vector<AddResult> step = inc.run(i, i + 1);
      added.insert(added.end(), step.begin(), step.end());
    }
    if (c.cut == c.steps.size()) inc.run(c.steps.size(), c.steps.size());
    while (!complete) complete = inc.continueSnapshot(draw(0, 1) == 0 ? SIZE_MAX : draw(1, 400));
    coverage.incremental_split += out.bytes() != bytes;  // in several runs, or written ahead
    EXPECT_EQ(added, a_added) << "add() outcomes while a snapshot is written";
    expectSameLog(a.sink.emitted, 0, inc.sink.emitted, "results while a snapshot is written");
    Operator restored(c, aggregates);
    SnapshotReader in(out.bytes());
    ASSERT_TRUE(restored.restore(in)) << "a snapshot written while the operator went on";
    EXPECT_TRUE(in.done());
    EXPECT_EQ(restored.snapshotBytes(), bytes) << "the state at the cut, written incrementally";
  }

  // Corrupt snapshots: every truncation is refused; a flipped bit is refused or restores
  // something.
  if (bytes.size() > 1) {
    std::mt19937_64 rng(c.seed * 7919);
    auto below = [&](std::size_t n) {
      return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(rng));
    };
    for (std::size_t length : {bytes.size() - 1, below(bytes.size())}) {
      tryCorrupt(c, aggregates, bytes.substr(0, length), /*must_refuse=*/true, coverage);
      ++coverage.truncated;
    }
    for (int flip = 0; flip < 6; ++flip) {
      std::string corrupt = bytes;
      corrupt[below(bytes.size())] ^= static_cast<char>(1 << below(8));
      tryCorrupt(c, aggregates, corrupt, /*must_refuse=*/false, coverage);
    }
  }

  // An operator that refused a snapshot is as good as new: it runs the whole stream as A did.
  {
    Operator refused(c, aggregates);
    SnapshotReader in(std::string_view(bytes).substr(0, bytes.size() / 2));
    EXPECT_FALSE(refused.restore(in));
    expectEmpty(refused, "after a refused restore");
    EXPECT_EQ(refused.run(0, c.steps.size()), a_added);
    expectSameLog(a.sink.emitted, 0, refused.sink.emitted, "an operator after a refused restore");
  }
}

void report(const char* what, const Coverage& coverage) {
  std::printf(
      "%s: %zu cases (%zu snapshots with state); after the restore %zu results, %zu updates, %zu "
      "late events; %zu count_distinct > 64, %zu top_k of crowded cases, %zu "
      "quantiles of wide values; %zu truncated snapshots refused; flipped bits: %zu refused, %zu "
      "restored; %zu snapshots written while going on in pieces\n",
      what, coverage.cases, coverage.nonempty_snapshots, coverage.results_after_restore,
      coverage.updates_after_restore, coverage.late_after_restore, coverage.distinct_beyond_exact,
      coverage.top_k_crowded, coverage.wide_quantiles, coverage.truncated, coverage.flipped_refused,
      coverage.flipped_restored, coverage.incremental_split);
}

// Sessions of a crowded case are few and long: fewer results, fewer count_distinct past 64.
void expectCoverage(const Coverage& coverage, std::size_t min_results, std::size_t min_distinct) {
  EXPECT_EQ(coverage.cases, static_cast<std::size_t>(kCases));
  EXPECT_GT(coverage.nonempty_snapshots, coverage.cases / 2);
  EXPECT_GT(coverage.results_after_restore, min_results);
  EXPECT_GT(coverage.updates_after_restore, 1'000u);
  EXPECT_GT(coverage.late_after_restore, 1'000u);
  EXPECT_GT(coverage.distinct_beyond_exact, min_distinct);
  EXPECT_GT(coverage.top_k_crowded, 100u);
  EXPECT_GT(coverage.wide_quantiles, 100u);
  EXPECT_GT(coverage.flipped_refused, 100u);
  EXPECT_GT(coverage.flipped_restored, 100u);
}

TEST(SnapshotPropertyTest, RestoredWindowOperatorGoesOnAsTheOriginal) {
  Coverage coverage;
  for (int i = 0; i < kCases; ++i) {
    runCase(makeCase(static_cast<std::uint64_t>(i) + 1, /*session=*/false), coverage);
    if (::testing::Test::HasFailure()) return;  // one failing case is enough to read
  }
  report("windows", coverage);
  expectCoverage(coverage, 20'000, 1'000);
  EXPECT_GT(coverage.incremental_split, 100u);
}

TEST(SnapshotPropertyTest, RestoredSessionOperatorGoesOnAsTheOriginal) {
  Coverage coverage;
  for (int i = 0; i < kCases; ++i) {
    runCase(makeCase(static_cast<std::uint64_t>(i) + 1, /*session=*/true), coverage);
    if (::testing::Test::HasFailure()) return;
  }
  report("sessions", coverage);
  expectCoverage(coverage, 10'000, 20);
}

}  // namespace
}  // namespace rivulet::pipeline
