// Property test of SessionOperator against a brute-force reference: random out-of-order streams
// of bursts per key with random gaps, lateness, max_keys, emit modes and watermarks; the
// reference keeps each key's live sessions as plain lists of raw events, merges them as events
// bridge them, and recomputes every aggregate from the events (sketch aggregates checked as in
// window_property_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "config/config.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/windows/session_operator.h"
#include "tests/property/window_reference.h"
#include "tests/support/draws.h"
#include "tests/support/plans.h"
#include "tests/support/random_events.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using namespace testutil;

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
