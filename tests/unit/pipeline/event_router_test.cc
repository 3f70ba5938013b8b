// EventRouter, single-threaded: which ring an event goes to, what its record holds, how each
// kind of bad event is refused (whole, for every pipeline at once), event time in every unit,
// and the watermark and idle control records a flush sends.
#include "pipeline/event_router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/expression/expression.h"
#include "tests/unit/pipeline/allocation_counter.h"

// The ring consumer and record decoding shared with the connector tests.
#include "tests/support/field_values.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"

namespace rivulet::pipeline {
namespace {

using testutil::boolean;
using testutil::integer;
using testutil::kMs;
using testutil::null;
using testutil::number;
using testutil::other;
using testutil::Record;
using testutil::RingSet;
using testutil::str;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kNow = 1'700'000'000'000 * kMs;  // the wall clock the tests pretend
constexpr std::int64_t kSteady = 1'000 * kSecond;       // and the monotonic clock

// ---- a router over rings, built from a config as the engine builds it ----

struct SourceOptions {
  std::optional<config::TimeSpec> time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  config::WatermarkSpec watermark{};
};

class Router {
 public:
  Router(std::vector<config::PipelineConfig> pipelines, std::size_t stages,
         SourceOptions options = {}, std::size_t ring_capacity = 1024)
      : rings_(stages, ring_capacity) {
    config::SourceConfig source;
    source.name = "src";
    source.kind = config::SourceKind::kFile;
    source.time = options.time;
    source.watermark = options.watermark;
    config_.sources.push_back(source);
    config_.pipelines = std::move(pipelines);
    router_ = std::make_unique<EventRouter>(testutil::planFor(config_), rings_.pointers(), stats_);
  }

  // Routes an event given as field name -> value; fields not named are missing.
  ErrorReason route(std::initializer_list<std::pair<std::string, config::FieldValue>> named,
                    std::int64_t now = kNow) {
    const std::vector<std::string>& fields = router_->plan().fields;
    std::vector<config::FieldValue> values(fields.size());
    for (const auto& [name, value] : named) {
      const auto it = std::find(fields.begin(), fields.end(), name);
      if (it == fields.end()) {
        ADD_FAILURE() << "field " << name << " is not in the plan";
        continue;
      }
      values[static_cast<std::size_t>(it - fields.begin())] = value;
    }
    return router_->route(values.data(), now);
  }

  void flush(std::int64_t now = kNow, std::int64_t steady = kSteady) {
    router_->flush(now, steady);
    rings_.drain();
  }

  EventRouter& router() { return *router_; }
  RingSet& rings() { return rings_; }
  const SourceStats& stats() const { return stats_; }
  std::uint64_t errors(ErrorReason reason) const { return testutil::errors(stats_, reason); }

  // Records that arrived on `ring` since the last call.
  std::vector<Record> take(std::size_t ring) {
    const std::vector<Record>& all = rings_.records(ring);
    std::vector<Record> out(all.begin() + static_cast<std::ptrdiff_t>(seen_[ring]), all.end());
    seen_[ring] = all.size();
    return out;
  }
  // take() of every ring.
  std::vector<std::vector<Record>> takeAll() {
    std::vector<std::vector<Record>> out;
    for (std::size_t i = 0; i < rings_.size(); ++i) out.push_back(take(i));
    return out;
  }

 private:
  config::Config config_;
  SourceStats stats_;
  RingSet rings_;
  std::unique_ptr<EventRouter> router_;
  std::map<std::size_t, std::size_t> seen_;
};

// The events pipeline (route) `route` refused for `reason`.
std::uint64_t refused(Router& r, std::size_t route, ErrorReason reason) {
  return r.router().routeStats(route).refused[static_cast<std::size_t>(reason)].load();
}

config::PipelineConfig countBy(std::string name, std::vector<std::string> group_by) {
  return testutil::pipelineConfig(std::move(name), "src", std::move(group_by),
                                  {testutil::aggregate("n", config::AggregateKind::kCount)});
}
config::PipelineConfig sumBy(std::string name, std::vector<std::string> group_by,
                             std::string field) {
  return testutil::pipelineConfig(
      std::move(name), "src", std::move(group_by),
      {testutil::aggregate("s", config::AggregateKind::kSum, std::move(field))});
}

// A group_by entry `name: expression`.
config::GroupBySpec named(std::string name, std::string_view expression) {
  config::ExpressionResult parsed = config::parseExpression(expression);
  EXPECT_TRUE(parsed.expression.has_value()) << expression;
  return {std::move(name), std::move(parsed.expression)};
}
config::PipelineConfig countByParts(std::string name, std::vector<config::GroupBySpec> group_by) {
  config::PipelineConfig p = countBy(std::move(name), std::vector<std::string>{});
  p.group_by = std::move(group_by);
  return p;
}

// ---- routing ----

TEST(StageOf, MapsTheHashRangeOntoTheStages) {
  for (std::uint32_t stages = 1; stages <= 64; ++stages) {
    EXPECT_EQ(stageOf(0, stages), 0u);
    EXPECT_EQ(stageOf(~0ULL, stages), stages - 1);
    EXPECT_EQ(stageOf(0x00000000FFFFFFFFULL, stages), 0u) << "only the high 32 bits count";
  }
  std::mt19937_64 rng(5);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 300'000; ++i) {
    const std::uint32_t s = stageOf(rng(), 3);
    ASSERT_LT(s, 3u);
    ++counts[s];
  }
  for (int c : counts) EXPECT_NEAR(c, 100'000, 1'500);
}

TEST(EventRouter, RoutesEachKeyToTheStageOfItsHashAlways) {
  Router r({countBy("by_k", {"k"})}, 4);
  for (int i = 0; i < 400; ++i) {
    ASSERT_EQ(r.route({{"ts", integer(1000 + i)}, {"k", str("key" + std::to_string(i % 100))}}),
              ErrorReason::kNone);
  }
  r.flush();

  std::map<std::string, std::pair<std::size_t, std::uint64_t>> home;  // key -> (ring, hash)
  std::set<std::uint64_t> hashes;
  for (std::size_t ring = 0; ring < 4; ++ring) {
    std::size_t events = 0;
    for (const Record& rec : r.rings().records(ring)) {
      if (rec.type() != RecordType::kEvent) continue;
      ++events;
      const std::uint64_t hash = rec.keyHash(0);
      EXPECT_EQ(stageOf(hash, 4), ring);
      const std::string key = testutil::keyParts(rec.key(0)).at(0).second;
      const auto [it, inserted] = home.emplace(key, std::make_pair(ring, hash));
      EXPECT_EQ(it->second.first, ring) << key << " went to two rings";
      EXPECT_EQ(it->second.second, hash) << key << " hashed two ways";
      hashes.insert(hash);
    }
    EXPECT_GT(events, 0u) << "100 keys left ring " << ring << " empty";
  }
  EXPECT_EQ(home.size(), 100u);
  EXPECT_EQ(hashes.size(), 100u);
  EXPECT_EQ(r.stats().events.load(), 400u);
}

// The same key in two pipelines has one hash: both records go to the same stage.
TEST(EventRouter, SameKeyInTwoPipelinesGoesToOneStage) {
  Router r({countBy("a", {"k"}), sumBy("b", {"k"}, "v")}, 8);
  for (int i = 0; i < 64; ++i)
    ASSERT_EQ(r.route({{"ts", integer(1)}, {"k", str("x" + std::to_string(i))}, {"v", integer(i)}}),
              ErrorReason::kNone);
  r.flush();
  for (std::size_t ring = 0; ring < 8; ++ring) {
    std::multiset<std::string> a, b;
    for (const Record& rec : r.rings().records(ring)) {
      if (rec.type() != RecordType::kEvent) continue;
      if (rec.header.pipeline == 0) a.insert(std::string(rec.key(0)));
      if (rec.header.pipeline == 1) b.insert(std::string(rec.key(1)));
    }
    EXPECT_EQ(a, b) << "ring " << ring;
  }
}

TEST(EventRouter, NoGroupByMeansOneEmptyKeyOnOneStage) {
  Router r({countBy("all", {})}, 4);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(r.route({{"ts", integer(i)}}), ErrorReason::kNone);
  r.flush();
  std::size_t rings_with_events = 0;
  for (std::size_t ring = 0; ring < 4; ++ring) {
    std::size_t events = 0;
    for (const Record& rec : r.rings().records(ring)) {
      if (rec.type() != RecordType::kEvent) continue;
      ++events;
      EXPECT_EQ(rec.header.key_size, 0u);
    }
    rings_with_events += events > 0;
    if (events > 0) {
      EXPECT_EQ(events, 20u);
    }
  }
  EXPECT_EQ(rings_with_events, 1u);
}

// ---- the event record ----

TEST(EventRouter, EventRecordHoldsValuesThenKey) {
  // Two aggregates on px share one value; count() needs none.
  Router r(
      {testutil::pipelineConfig("trades", "src", {"sym", "shard", "flag"},
                                {testutil::aggregate("total", config::AggregateKind::kSum, "px"),
                                 testutil::aggregate("most", config::AggregateKind::kMax, "qty"),
                                 testutil::aggregate("n", config::AggregateKind::kCount),
                                 testutil::aggregate("mean", config::AggregateKind::kAvg, "px")})},
      1);
  const SourcePlan& plan = r.router().plan();
  EXPECT_EQ(plan.fields, (std::vector<std::string>{"ts", "sym", "shard", "flag", "px", "qty"}));
  ASSERT_EQ(plan.routes.size(), 1u);
  EXPECT_EQ(plan.routes[0].key_fields, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(plan.routes[0].value_fields, (std::vector<int>{4, 5}));

  ASSERT_EQ(r.route({{"ts", integer(1'700'000'000'123)},
                     {"sym", str("AAPL")},
                     {"shard", integer(3)},
                     {"flag", boolean(true)},
                     {"px", number(1.5, "1.5")},
                     {"qty", integer(2)}}),
            ErrorReason::kNone);
  r.flush();
  const std::vector<Record> records = r.take(0);
  ASSERT_FALSE(records.empty());
  const Record& rec = records[0];
  EXPECT_EQ(rec.type(), RecordType::kEvent);
  EXPECT_EQ(rec.header.cells, (16 + 2 * 8 + 18 + 7) / 8);  // header, two values, the key
  EXPECT_EQ(rec.header.flags, 0u);
  EXPECT_EQ(rec.header.pipeline, 0u);
  EXPECT_EQ(rec.header.time, 1'700'000'000'123 * kMs);
  EXPECT_EQ(rec.value(0), 1.5);
  EXPECT_EQ(rec.value(1), 2.0);
  const std::string key(
      "s\x04\x00"
      "AAPL"
      "n\x01\x00"
      "3"
      "b\x04\x00"
      "true",
      18);
  EXPECT_EQ(rec.header.key_size, key.size());
  EXPECT_EQ(rec.key(2), key);
  using P = std::pair<KeyPartType, std::string>;
  EXPECT_EQ(testutil::keyParts(rec.key(2)), (std::vector<P>{{KeyPartType::kString, "AAPL"},
                                                            {KeyPartType::kNumber, "3"},
                                                            {KeyPartType::kBool, "true"}}));
}

// where: an event its filter is not true for (false, or null from a missing field) skips that
// pipeline only; an event its filter cannot evaluate (a string in arithmetic) is refused by that
// pipeline only, and counted as its refusal, while the others take it.
TEST(EventRouter, WhereFiltersPerPipelineAndRefusesWhatItCannotEvaluate) {
  config::PipelineConfig big_buys = countBy("big_buys", {"sym"});
  big_buys.where = config::parseExpression("side == 'buy' and qty * 1 >= 100").expression;
  ASSERT_TRUE(big_buys.where.has_value());
  Router r({big_buys, countBy("all", {"sym"})}, 1);
  const auto event = [&](config::FieldValue side, config::FieldValue qty) {
    return r.route({{"ts", integer(1)}, {"sym", str("A")}, {"side", side}, {"qty", qty}});
  };
  EXPECT_EQ(event(str("buy"), integer(150)), ErrorReason::kNone);   // both
  EXPECT_EQ(event(str("sell"), integer(150)), ErrorReason::kNone);  // all only
  EXPECT_EQ(event(str("buy"), integer(99)), ErrorReason::kNone);    // all only
  EXPECT_EQ(event(str("buy"), null()), ErrorReason::kNone);         // null: all only
  EXPECT_EQ(event(str("buy"), str("x")), ErrorReason::kNone);       // big_buys refuses, all takes
  r.flush();
  EXPECT_EQ(r.rings().events(0).size(), 1u);  // big_buys
  EXPECT_EQ(r.rings().events(1).size(), 5u);  // all
  EXPECT_EQ(testutil::totalErrors(r.stats()), 0u);
  EXPECT_EQ(r.stats().events.load(), 5u);
  EXPECT_EQ(refused(r, 0, ErrorReason::kWrongType), 1u);
  EXPECT_EQ(refused(r, 1, ErrorReason::kWrongType), 0u);
}

// A number key part is the number's JSON text: 3 and 3.0 are different keys.
TEST(EventRouter, NumberKeyIsItsText) {
  Router r({countBy("by_n", {"n"})}, 1);
  ASSERT_EQ(r.route({{"ts", integer(1)}, {"n", integer(3)}}), ErrorReason::kNone);
  ASSERT_EQ(r.route({{"ts", integer(1)}, {"n", number(3.0, "3.0")}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> records = r.rings().events(0);
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(testutil::keyParts(records[0].key(0)).at(0).second, "3");
  EXPECT_EQ(testutil::keyParts(records[1].key(0)).at(0).second, "3.0");
  EXPECT_NE(records[0].keyHash(0), records[1].keyHash(0));
}

// A group_by expression is a key part like a field of its value's type: numbers, strings and
// bools, each with its type, in group_by order among plain fields; the record goes to the stage
// of the whole key's hash.
TEST(EventRouter, ExpressionKeyPartsAreTypedValues) {
  Router r({countByParts("p", {config::GroupBySpec{"sym"}, named("bucket", "floor(px / 10)"),
                               named("low", "lower(sym)"), named("big", "px > 100")})},
           4);
  EXPECT_EQ(r.router().plan().fields, (std::vector<std::string>{"ts", "sym", "px"}));
  EXPECT_EQ(r.router().plan().routes[0].key_fields, (std::vector<int>{1, ~0, ~1, ~2}));
  ASSERT_EQ(r.route({{"ts", integer(1)}, {"sym", str("AAPL")}, {"px", number(187.3, "187.3")}}),
            ErrorReason::kNone);
  ASSERT_EQ(r.route({{"ts", integer(1)}, {"sym", str("Msft")}, {"px", integer(99)}}),
            ErrorReason::kNone);
  r.flush();
  using P = std::pair<KeyPartType, std::string>;
  std::map<std::string, std::vector<P>> keys;  // by sym
  for (std::size_t ring = 0; ring < 4; ++ring) {
    for (const Record& rec : r.rings().records(ring)) {
      if (rec.type() != RecordType::kEvent) continue;
      EXPECT_EQ(stageOf(rec.keyHash(0), 4), ring) << "the key's hash picks the stage";
      const auto parts = testutil::keyParts(rec.key(0));
      keys[parts.at(0).second] = parts;
    }
  }
  EXPECT_EQ(keys["AAPL"], (std::vector<P>{{KeyPartType::kString, "AAPL"},
                                          {KeyPartType::kNumber, "18"},
                                          {KeyPartType::kString, "aapl"},
                                          {KeyPartType::kBool, "true"}}));
  EXPECT_EQ(keys["Msft"], (std::vector<P>{{KeyPartType::kString, "Msft"},
                                          {KeyPartType::kNumber, "9"},
                                          {KeyPartType::kString, "msft"},
                                          {KeyPartType::kBool, "false"}}));
}

// A computed number has one text whatever the input spelled, the one results print
// (pipeline/model/number_text.h): integral values below 1e21 as integers, -0 as 0, anything else in
// the shortest form that reads back as the same double, with an exponent only below 1e-6 or from
// 1e21.
TEST(EventRouter, ExpressionNumberKeyIsCanonical) {
  Router r({countByParts("p", {named("v", "x * 1")})}, 1);
  const std::pair<config::FieldValue, std::string> cases[] = {
      {integer(18), "18"},
      {number(18.0, "18.0"), "18"},
      {number(18.0, "1.8e1"), "18"},
      {number(-0.0, "-0.0"), "0"},
      {number(0.25, "0.25"), "0.25"},
      {number(-187.3, "-187.3"), "-187.3"},
      {number(0.1 + 0.2, "0.30000000000000004"), "0.30000000000000004"},
      {number(1.5e-7, "1.5e-7"), "1.5e-7"},
      {number(1e-6, "1e-6"), "0.000001"},
      {number(1e15, "1e15"), "1000000000000000"},
      {number(9007199254740992.0, "9007199254740992"), "9007199254740992"},
      {number(-9007199254740992.0, "-9007199254740992"), "-9007199254740992"},
      {number(9007199254740994.0, "9007199254740994"), "9007199254740994"},
      {number(1e20, "1e20"), "100000000000000000000"},
      {number(1e21, "1e21"), "1e+21"},
      {number(-1.7976931348623157e308, "-1.7976931348623157e308"), "-1.7976931348623157e+308"},
  };
  for (const auto& [x, text] : cases)
    ASSERT_EQ(r.route({{"ts", integer(1)}, {"x", x}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), std::size(cases));
  for (std::size_t i = 0; i < events.size(); ++i) {
    using P = std::pair<KeyPartType, std::string>;
    EXPECT_EQ(testutil::keyParts(events[i].key(0)),
              (std::vector<P>{{KeyPartType::kNumber, cases[i].second}}))
        << cases[i].first.text;
  }
  // One value, one key: the same bytes, so the same hash and stage.
  EXPECT_EQ(events[0].key(0), events[1].key(0));
  EXPECT_EQ(events[0].key(0), events[2].key(0));
}

// An expression with no value a key can hold refuses the event, as a missing or bad field does:
// null (a missing field, x / 0) as missing_field, infinity (JSON has none) and type errors as
// wrong_type, an over-long key as key_too_long. Refused by the source's only pipeline, it is the
// source's error; a where that skips the event comes first.
TEST(EventRouter, ExpressionKeyWithoutAValueRefusesTheEvent) {
  Router r({countByParts("p", {named("k", "floor(px / d)"), named("s", "lower(sym)")})}, 2);
  const auto event = [&](config::FieldValue px, config::FieldValue d, config::FieldValue sym) {
    return r.route({{"ts", integer(1)}, {"px", px}, {"d", d}, {"sym", sym}});
  };
  EXPECT_EQ(event(null(), integer(1), str("a")), ErrorReason::kMissingField);
  EXPECT_EQ(event(integer(5), integer(0), str("a")), ErrorReason::kMissingField);  // x / 0 is null
  EXPECT_EQ(event(integer(5), integer(1), null()), ErrorReason::kMissingField);
  EXPECT_EQ(event(number(1e300, "1e300"), number(1e-300, "1e-300"), str("a")),
            ErrorReason::kWrongType);
  EXPECT_EQ(event(str("5"), integer(1), str("a")), ErrorReason::kWrongType);
  EXPECT_EQ(event(integer(5), integer(1), other()), ErrorReason::kWrongType);
  EXPECT_EQ(event(integer(5), integer(1), str(std::string(config::kMaxFunctionString + 1, 'A'))),
            ErrorReason::kTooLarge);
  EXPECT_EQ(event(integer(5), integer(1), str(std::string(600, 'A'))), ErrorReason::kKeyTooLong);
  r.flush();
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
  EXPECT_EQ(r.errors(ErrorReason::kMissingField), 3u);
  EXPECT_EQ(r.errors(ErrorReason::kWrongType), 3u);
  EXPECT_EQ(r.errors(ErrorReason::kTooLarge), 1u);
  EXPECT_EQ(r.errors(ErrorReason::kKeyTooLong), 1u);
  EXPECT_EQ(refused(r, 0, ErrorReason::kMissingField), 0u) << "the source's, not the pipeline's";

  // The where skips "priced" for an event without px before its key is computed.
  config::PipelineConfig priced = countByParts("priced", {named("band", "floor(px / 10)")});
  priced.where = config::parseExpression("px is not null").expression;
  Router filtered({priced}, 1);
  EXPECT_EQ(filtered.route({{"ts", integer(1)}}), ErrorReason::kNone);
  EXPECT_EQ(filtered.route({{"ts", integer(1)}, {"px", integer(25)}}), ErrorReason::kNone);
  filtered.flush();
  const std::vector<Record> events = filtered.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(testutil::keyParts(events[0].key(0)).at(0).second, "2");
  EXPECT_EQ(testutil::totalErrors(filtered.stats()), 0u);
  EXPECT_EQ(refused(filtered, 0, ErrorReason::kMissingField), 0u);
}

// Computing keys takes no allocation per event: the expressions' stacks and scratch and the
// number text live in the router, the record is built in the ring.
TEST(EventRouter, ExpressionKeysDoNotAllocatePerEvent) {
  Router r({countByParts("p", {config::GroupBySpec{"sym"}, named("bucket", "floor(px / 10) / 4"),
                               named("low", "lower(sym)"), named("big", "px > 100")})},
           2);
  const std::vector<std::string>& names = r.router().plan().fields;
  ASSERT_EQ(names, (std::vector<std::string>{"ts", "sym", "px"}));
  std::vector<std::vector<config::FieldValue>> events;
  for (int i = 0; i < 64; ++i) {
    events.push_back({integer(1000 + i), str("SYM" + std::to_string(i % 5)),
                      number(i * 7.25, std::to_string(i * 7.25))});
  }
  ASSERT_EQ(r.router().route(events[0].data(), kNow), ErrorReason::kNone);  // warm up
  const std::size_t before = testutil::allocations.load();
  for (const auto& fields : events)
    ASSERT_EQ(r.router().route(fields.data(), kNow), ErrorReason::kNone);
  EXPECT_EQ(testutil::allocations.load() - before, 0u);
  r.flush();
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 65u);
}

// Records of many cells, some wrapping around the ring's end, arrive byte for byte.
TEST(EventRouter, MultiCellRecordsArriveWhole) {
  Router r({sumBy("big", {"k"}, "v")}, 1, {}, 256);
  for (int i = 0; i < 40; ++i) {
    std::string key(400 + i, static_cast<char>('a' + i % 26));
    ASSERT_EQ(r.route({{"ts", integer(i)}, {"k", str(key)}, {"v", integer(i)}}),
              ErrorReason::kNone);
    r.flush();  // the ring holds only a few of them: read as we go
    const std::vector<Record> records = r.take(0);
    ASSERT_GE(records.size(), 1u);
    const Record& rec = records[0];
    ASSERT_EQ(rec.type(), RecordType::kEvent);
    EXPECT_EQ(rec.header.cells, (16 + 8 + 3 + key.size() + 7) / 8);
    EXPECT_EQ(rec.value(0), i);
    EXPECT_EQ(testutil::keyParts(rec.key(1)).at(0).second, key) << i;
  }
}

// ---- refusals ----

// A pipeline that cannot evaluate an event refuses it for itself alone; the others take it. Only
// an event every pipeline refuses is the source's error, under the first pipeline's reason.
TEST(EventRouter, OneBadPipelineRefusesTheEventForItselfOnly) {
  Router r({countBy("by_a", {"a"}), sumBy("by_b", {"b"}, "v")}, 3);
  // b is missing: by_a takes it, by_b refuses it.
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"a", str("x")}, {"v", integer(1)}}), ErrorReason::kNone);
  // by_a is fine, by_b's value has the wrong type.
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"a", str("x")}, {"b", str("y")}, {"v", str("1")}}),
            ErrorReason::kNone);
  // The first pipeline's key is the bad one.
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"a", other()}, {"b", str("y")}, {"v", integer(1)}}),
            ErrorReason::kNone);
  // Neither can take it: the source's error, as the first pipeline says.
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"a", other()}, {"v", integer(1)}}),
            ErrorReason::kWrongType);
  r.flush();
  EXPECT_EQ(r.rings().events(0).size(), 2u);
  EXPECT_EQ(r.rings().events(1).size(), 1u);
  EXPECT_EQ(r.stats().events.load(), 3u);
  EXPECT_EQ(r.errors(ErrorReason::kWrongType), 1u);
  EXPECT_EQ(testutil::totalErrors(r.stats()), 1u);
  EXPECT_EQ(refused(r, 0, ErrorReason::kWrongType), 1u);
  EXPECT_EQ(refused(r, 1, ErrorReason::kMissingField), 1u);
  EXPECT_EQ(refused(r, 1, ErrorReason::kWrongType), 1u);

  // A good event after the refused ones carries nothing of them.
  ASSERT_EQ(r.route({{"ts", integer(2)}, {"a", str("x")}, {"b", str("y")}, {"v", integer(5)}}),
            ErrorReason::kNone);
  r.flush();
  const std::vector<Record> a = r.rings().events(0);
  const std::vector<Record> b = r.rings().events(1);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(testutil::keyParts(b.back().key(1)).at(0).second, "y");
  EXPECT_EQ(b.back().value(0), 5.0);
  EXPECT_EQ(r.stats().events.load(), 4u);
}

// The sample a refusal leaves for the warning is the event's text, cut at kSampleBytes; a sample
// waiting to be logged is not overwritten.
TEST(EventRouter, RefusalLeavesASampleOfTheEventText) {
  Router r({countBy("by_a", {"a"}), countBy("all", {})}, 1);
  const std::vector<std::string>& fields = r.router().plan().fields;
  std::vector<config::FieldValue> values(fields.size());
  values[0] = integer(1);
  values[1] = other();
  const std::string text(300, 'x');
  ASSERT_EQ(r.router().route(values.data(), kNow, text), ErrorReason::kNone);
  ASSERT_EQ(r.router().route(values.data(), kNow, "second"), ErrorReason::kNone);
  auto& sample = const_cast<PipelineSourceStats&>(r.router().routeStats(0))
                     .samples[static_cast<std::size_t>(ErrorReason::kWrongType)];
  ASSERT_TRUE(sample.waiting());
  EXPECT_EQ(sample.take(), std::string(kSampleBytes, 'x') + "...");
  EXPECT_FALSE(sample.waiting());
  ASSERT_EQ(r.router().route(values.data(), kNow, "third"), ErrorReason::kNone);
  EXPECT_EQ(sample.take(), "third");
  EXPECT_EQ(refused(r, 0, ErrorReason::kWrongType), 3u);
}

TEST(EventRouter, NullOrMissingValueIsNaN) {
  Router r({sumBy("s", {}, "v")}, 1);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", null()}}), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(2)}}), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(3)}, {"v", number(-0.5, "-0.5")}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(std::isnan(events[0].value(0)));
  EXPECT_TRUE(std::isnan(events[1].value(0)));
  EXPECT_EQ(events[2].value(0), -0.5);
  EXPECT_EQ(testutil::totalErrors(r.stats()), 0u);
  EXPECT_EQ(r.stats().events.load(), 3u);
}

TEST(EventRouter, ValueThatIsNotANumberIsWrongType) {
  Router r({sumBy("s", {}, "v")}, 1);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", str("1.5")}}), ErrorReason::kWrongType);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", boolean(true)}}), ErrorReason::kWrongType);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", other()}}), ErrorReason::kWrongType);
  r.flush();
  EXPECT_EQ(r.errors(ErrorReason::kWrongType), 3u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
}

// ---- count_distinct and top_k arguments (pipeline/model/value_slot.h) ----

config::AggregateSpec withParameter(config::AggregateSpec spec, std::int64_t k) {
  spec.k = k;
  return spec;
}

// An item a record's slot refers to: its bytes after the key.
std::string itemOf(const Record& record, std::size_t slot) {
  double value = record.value(slot);
  const ItemRef ref = ItemRef::of(value);
  EXPECT_LE(ref.offset + ref.size, record.payload.size());
  return record.payload.substr(ref.offset, ref.size);
}

std::uint64_t bitsOf(const Record& record, std::size_t slot) {
  return slotBits(record.value(slot));
}

// Numbers first (sum's px), then count_distinct's hash of u, then top_k's items of v and of px,
// whose bytes follow the key: a string's bytes, a number's JSON text as written.
TEST(EventRouter, ArgumentsTravelAsHashesAndItemsAfterTheKey) {
  using config::AggregateKind;
  Router r({testutil::pipelineConfig(
               "p", "src", {"sym"},
               {withParameter(testutil::aggregate("top", AggregateKind::kTopK, "v"), 3),
                testutil::aggregate("users", AggregateKind::kCountDistinct, "u"),
                testutil::aggregate("total", AggregateKind::kSum, "px"),
                withParameter(testutil::aggregate("prices", AggregateKind::kTopK, "px"), 2)})},
           1);
  const SourcePlan::Route& route = r.router().plan().routes.at(0);
  EXPECT_EQ(route.numbers, 1u);
  EXPECT_EQ(route.value_forms,
            (std::vector<ValueForm>{ValueForm::kNumber, ValueForm::kItem, ValueForm::kDistinctHash,
                                    ValueForm::kItem}));
  ASSERT_EQ(r.route({{"ts", integer(1)},
                     {"sym", str("AAPL")},
                     {"u", str("alice")},
                     {"v", str("NYSE")},
                     {"px", number(1.5, "1.50")}}),
            ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  const Record& rec = events[0];
  // header, four slots, the key (3 + 4), the items (1 + 4 and 1 + 4)
  EXPECT_EQ(rec.header.cells, (16 + 4 * 8 + 7 + 5 + 5 + 7) / 8);
  EXPECT_EQ(rec.value(0), 1.5);
  EXPECT_EQ(itemOf(rec, 1), "sNYSE");
  EXPECT_EQ(bitsOf(rec, 2), distinctHash(KeyPartType::kString, "alice"));
  EXPECT_EQ(itemOf(rec, 3), "n1.50");
  EXPECT_EQ(testutil::keyParts(rec.key(4)).at(0).second, "AAPL");
}

// count_distinct counts numbers by value, each type apart; null and missing are null.
TEST(EventRouter, DistinctHashesAreOfTheValue) {
  Router r(
      {testutil::pipelineConfig(
          "p", "src", {}, {testutil::aggregate("n", config::AggregateKind::kCountDistinct, "u")})},
      1);
  for (const config::FieldValue& u : {integer(1), number(1.0, "1.0"), number(-0.0, "-0"),
                                      integer(0), str("1"), boolean(true), null()}) {
    EXPECT_EQ(r.route({{"ts", integer(1)}, {"u", u}}), ErrorReason::kNone);
  }
  EXPECT_EQ(r.route({{"ts", integer(1)}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(bitsOf(events[0], 0), distinctHash(1.0));
  EXPECT_EQ(bitsOf(events[1], 0), bitsOf(events[0], 0));
  EXPECT_EQ(bitsOf(events[2], 0), bitsOf(events[3], 0));
  EXPECT_NE(bitsOf(events[2], 0), bitsOf(events[0], 0));
  EXPECT_EQ(bitsOf(events[4], 0), distinctHash(KeyPartType::kString, "1"));
  EXPECT_NE(bitsOf(events[4], 0), bitsOf(events[0], 0));
  EXPECT_EQ(bitsOf(events[5], 0), distinctHash(KeyPartType::kBool, "true"));
  EXPECT_EQ(bitsOf(events[6], 0), kNullSlot);
  EXPECT_EQ(bitsOf(events[7], 0), kNullSlot);
}

// A top_k item is at most kMaxItemBytes: a longer one refuses the event, as a long key does.
// Expressions give items too: a computed number as its shortest text.
TEST(EventRouter, TopKItemsAreBoundedAndMayBeComputed) {
  config::AggregateSpec doubled =
      withParameter(testutil::aggregate("top2", config::AggregateKind::kTopK), 2);
  doubled.argument = config::parseExpression("px * 2").expression;
  doubled.field = doubled.argument->toString();
  Router r({testutil::pipelineConfig(
               "p", "src", {},
               {withParameter(testutil::aggregate("top", config::AggregateKind::kTopK, "v"), 2),
                doubled})},
           1);
  EXPECT_EQ(
      r.route(
          {{"ts", integer(1)}, {"v", str(std::string(kMaxItemBytes, 'x'))}, {"px", integer(1)}}),
      ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", str(std::string(kMaxItemBytes + 1, 'x'))}}),
            ErrorReason::kValueTooLong);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", other()}}), ErrorReason::kWrongType);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"v", boolean(false)}, {"px", number(0.05, "0.05")}}),
            ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.errors(ErrorReason::kValueTooLong), 1u);
  EXPECT_EQ(r.errors(ErrorReason::kWrongType), 1u);
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(itemOf(events[0], 0), "s" + std::string(kMaxItemBytes, 'x'));
  EXPECT_EQ(itemOf(events[0], 1), "n2");
  EXPECT_EQ(itemOf(events[1], 0), "bfalse");
  EXPECT_EQ(itemOf(events[1], 1), "n0.1");
}

TEST(EventRouter, KeyThatIsAbsentNullOrNestedIsRefused) {
  Router r({countBy("by_k", {"k"})}, 1);
  EXPECT_EQ(r.route({{"ts", integer(1)}}), ErrorReason::kMissingField);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"k", null()}}), ErrorReason::kMissingField);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"k", other()}}), ErrorReason::kWrongType);
  EXPECT_EQ(r.errors(ErrorReason::kMissingField), 2u);
  EXPECT_EQ(r.errors(ErrorReason::kWrongType), 1u);
}

TEST(EventRouter, KeyTooLongAtTheByteAfterTheLimit) {
  // One part: 3 header bytes + 509 = 512 fits, 510 does not.
  Router r({countBy("by_k", {"k"})}, 1);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"k", str(std::string(509, 'a'))}}), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(1)}, {"k", str(std::string(510, 'a'))}}),
            ErrorReason::kKeyTooLong);
  // Two parts count together: (3 + 250) + (3 + 256) = 512 fits, one byte more does not.
  Router two({countBy("by_k", {"k", "j"})}, 1);
  EXPECT_EQ(two.route({{"ts", integer(1)},
                       {"k", str(std::string(250, 'a'))},
                       {"j", str(std::string(256, 'b'))}}),
            ErrorReason::kNone);
  EXPECT_EQ(two.route({{"ts", integer(1)},
                       {"k", str(std::string(250, 'a'))},
                       {"j", str(std::string(257, 'b'))}}),
            ErrorReason::kKeyTooLong);
  r.flush();
  two.flush();
  EXPECT_EQ(r.errors(ErrorReason::kKeyTooLong), 1u);
  EXPECT_EQ(two.errors(ErrorReason::kKeyTooLong), 1u);
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.key_size, kMaxKeyBytes);
  EXPECT_EQ(events[0].header.cells, (16 + kMaxKeyBytes + 7) / 8);
  EXPECT_EQ(testutil::keyParts(events[0].key(0)).at(0).second, std::string(509, 'a'));
}

// A pipeline summing `values` distinct fields v0, v1, ... grouped by k.
config::PipelineConfig wide(std::size_t values) {
  std::vector<config::AggregateSpec> aggregates;
  for (std::size_t i = 0; i < values; ++i) {
    aggregates.push_back(testutil::aggregate("s" + std::to_string(i), config::AggregateKind::kSum,
                                             "v" + std::to_string(i)));
  }
  return testutil::pipelineConfig("wide", "src", {"k"}, aggregates);
}

// An event for wide(): ts 1, key `key`, each v field its own index in the plan.
ErrorReason routeWide(Router& r, std::string_view key) {
  const SourcePlan& plan = r.router().plan();
  std::vector<config::FieldValue> fields(plan.fields.size());
  for (std::size_t f = 0; f < plan.fields.size(); ++f) {
    fields[f] = plan.fields[f] == "ts"  ? integer(1)
                : plan.fields[f] == "k" ? str(key)
                                        : integer(static_cast<std::int64_t>(f));
  }
  return r.router().route(fields.data(), kNow);
}

// A record has room for kMaxRecordBytes. An event whose values and key do not fit must be
// refused as too_large, never sent cut short: a stage would read the key from past its end.
TEST(EventRouter, EventTooBigForOneRecordIsNotSentTruncated) {
  Router r({wide(520)}, 1);  // 16 + 520 * 8 > 4096 bytes
  EXPECT_EQ(routeWide(r, "key"), ErrorReason::kTooLarge);
  r.flush();
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
  EXPECT_EQ(r.errors(ErrorReason::kTooLarge), 1u);
  EXPECT_EQ(testutil::totalErrors(r.stats()), 1u);
  EXPECT_EQ(r.stats().events.load(), 0u);
}

// The values alone fit, the key does not: refused the same way; a short key fits.
TEST(EventRouter, EventWhoseKeyOverflowsTheRecordIsTooLarge) {
  const std::size_t values = 500;  // 16 + 500 * 8 = 4016 bytes: 80 left
  Router r({wide(values)}, 1);
  EXPECT_EQ(routeWide(r, std::string(200, 'k')), ErrorReason::kTooLarge);
  EXPECT_EQ(routeWide(r, "k"), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.cells, (16 + values * 8 + 4 + 7) / 8);
  EXPECT_EQ(events[0].value(0), 2.0);  // v0 is field 2, after ts and k
  EXPECT_EQ(events[0].value(values - 1), static_cast<double>(values + 1));
  EXPECT_EQ(testutil::keyParts(events[0].key(values)).at(0).second, "k");
  EXPECT_EQ(r.errors(ErrorReason::kTooLarge), 1u);
}

TEST(EventRouter, RefuseCountsTheSourcesOwnReasons) {
  Router r({countBy("all", {})}, 1);
  r.router().refuse(ErrorReason::kLineTooLong);
  r.router().refuse(ErrorReason::kInvalidJson);
  r.router().refuse(ErrorReason::kInvalidJson);
  EXPECT_EQ(r.errors(ErrorReason::kLineTooLong), 1u);
  EXPECT_EQ(r.errors(ErrorReason::kInvalidJson), 2u);
  r.flush();
  EXPECT_EQ(r.stats().events.load(), 0u);
}

// ---- event time ----

struct TimeCase {
  const char* name;
  config::TimeUnit unit;
  config::FieldValue field;
  std::int64_t nanos;
};

void PrintTo(const TimeCase& c, std::ostream* os) { *os << c.name; }

class EventTimeTest : public ::testing::TestWithParam<TimeCase> {};

TEST_P(EventTimeTest, ConvertedToNanoseconds) {
  const TimeCase& c = GetParam();
  std::int64_t nanos = 0;
  ASSERT_TRUE(toNanos(c.field, c.unit, nanos));
  EXPECT_EQ(nanos, c.nanos);

  SourceOptions options;
  options.time = config::TimeSpec{"ts", c.unit};
  Router r({countBy("all", {})}, 1, options);
  ASSERT_EQ(r.route({{"ts", c.field}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.time, c.nanos);
}

INSTANTIATE_TEST_SUITE_P(
    Units, EventTimeTest,
    ::testing::Values(
        TimeCase{"Seconds", config::TimeUnit::kSeconds, integer(1'700'000'000),
                 1'700'000'000 * kSecond},
        TimeCase{"FractionalSeconds", config::TimeUnit::kSeconds, number(1.25, "1.25"),
                 1'250'000'000},
        TimeCase{"FractionalEpochSeconds", config::TimeUnit::kSeconds,
                 number(1'700'000'000.5, "1700000000.5"), 1'700'000'000 * kSecond + kSecond / 2},
        TimeCase{"NegativeSeconds", config::TimeUnit::kSeconds, integer(-2), -2 * kSecond},
        TimeCase{"SecondsExponent", config::TimeUnit::kSeconds, number(1e9, "1e9"),
                 1'000'000'000 * kSecond},
        TimeCase{"Millis", config::TimeUnit::kMillis, integer(1'700'000'000'123),
                 1'700'000'000'123 * kMs},
        TimeCase{"FractionalMillis", config::TimeUnit::kMillis, number(1.5, "1.5"), 1'500'000},
        TimeCase{"Micros", config::TimeUnit::kMicros, integer(1'700'000'000'123'456),
                 1'700'000'000'123'456'000},
        TimeCase{"Nanos", config::TimeUnit::kNanos, integer(1'700'000'000'123'456'789),
                 1'700'000'000'123'456'789},
        TimeCase{"NanosMax", config::TimeUnit::kNanos,
                 integer(std::numeric_limits<std::int64_t>::max()),
                 std::numeric_limits<std::int64_t>::max()},
        TimeCase{"MillisLargestThatFits", config::TimeUnit::kMillis, integer(9'223'372'036'854),
                 9'223'372'036'854 * kMs},
        TimeCase{"FractionalNanosRound", config::TimeUnit::kNanos, number(2.5, "2.5"), 3}),
    [](const ::testing::TestParamInfo<TimeCase>& tested) { return tested.param.name; });

TEST(EventRouter, BadOrMissingTimeIsRefused) {
  Router r({countBy("all", {})}, 1);
  EXPECT_EQ(r.route({}), ErrorReason::kMissingTime);
  EXPECT_EQ(r.route({{"ts", null()}}), ErrorReason::kMissingTime);
  EXPECT_EQ(r.route({{"ts", str("1700000000000")}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", boolean(true)}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", other()}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", integer(9'223'372'036'855)}}), ErrorReason::kBadTime);  // ms overflow
  EXPECT_EQ(r.route({{"ts", integer(-9'223'372'036'855)}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", number(1e300, "1e300")}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", number(-1e300, "-1e300")}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", number(9.3e12, "9.3e12")}}), ErrorReason::kBadTime);  // ms: > 2^63 ns
  r.flush();
  EXPECT_EQ(r.errors(ErrorReason::kMissingTime), 2u);
  EXPECT_EQ(r.errors(ErrorReason::kBadTime), 8u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
  EXPECT_EQ(r.rings().count(RecordType::kWatermark), 0u);
}

TEST(ToNanos, DoublesAtTheEdgeOfInt64) {
  std::int64_t nanos = 0;
  // The largest double below 2^63 fits; 2^63 itself does not.
  EXPECT_TRUE(toNanos(number(9223372036854774784.0, "9223372036854774784.0"),
                      config::TimeUnit::kNanos, nanos));
  EXPECT_EQ(nanos, 9'223'372'036'854'774'784);
  EXPECT_FALSE(toNanos(number(9223372036854775808.0, "9223372036854775808.0"),
                       config::TimeUnit::kNanos, nanos));
  EXPECT_FALSE(toNanos(number(-9223372036854775808.0, "-9223372036854775808.0"),
                       config::TimeUnit::kNanos, nanos));
  EXPECT_FALSE(toNanos(str("1"), config::TimeUnit::kNanos, nanos));
}

TEST(EventRouter, FutureTimeIsRefusedPastMaxFuture) {
  SourceOptions options;
  options.time = config::TimeSpec{"ts", config::TimeUnit::kNanos};
  options.watermark.max_future = 3600 * kSecond;
  Router r({countBy("all", {})}, 1, options);
  EXPECT_EQ(r.route({{"ts", integer(kNow + 3600 * kSecond)}}, kNow), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(kNow + 3600 * kSecond + 1)}}, kNow), ErrorReason::kFutureTime);
  EXPECT_EQ(r.route({{"ts", integer(kNow - 3600 * kSecond)}}, kNow), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(std::numeric_limits<std::int64_t>::max())}}, kNow),
            ErrorReason::kFutureTime);
  // The clamp moves with the clock the caller passes.
  EXPECT_EQ(r.route({{"ts", integer(kNow + 3600 * kSecond + 1)}}, kNow + 1), ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.errors(ErrorReason::kFutureTime), 2u);
  EXPECT_EQ(r.stats().events.load(), 3u);

  Router unclamped({countBy("all", {})}, 1, {config::TimeSpec{"ts", config::TimeUnit::kNanos}});
  EXPECT_EQ(unclamped.route({{"ts", integer(std::numeric_limits<std::int64_t>::max())}}, kNow),
            ErrorReason::kNone);
}

// An event far in the past is not in the future, however far back it is.
TEST(EventRouter, FutureClampHoldsForTheEarliestTimes) {
  SourceOptions options;
  options.time = config::TimeSpec{"ts", config::TimeUnit::kNanos};
  options.watermark.max_future = 3600 * kSecond;
  Router r({countBy("all", {})}, 1, options);
  EXPECT_EQ(r.route({{"ts", integer(std::numeric_limits<std::int64_t>::min())}}, kNow),
            ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(-9'223'372'036'854)}}, kNow), ErrorReason::kNone);
  // Nor does a clock so late that now + max_future would not fit make anything "future".
  EXPECT_EQ(r.route({{"ts", integer(kMaxTime)}}, kMaxTime - 1), ErrorReason::kNone);
  EXPECT_EQ(r.errors(ErrorReason::kFutureTime), 0u);
}

// ---- watermarks ----

TEST(EventRouter, WatermarkIsMaxTimeMinusDelaySentToEveryRingWhenItAdvances) {
  SourceOptions options;
  options.watermark.delay = 500 * kMs;
  Router r({countBy("by_k", {"k"})}, 3, options);
  for (std::int64_t ts : {1000, 3000, 2000})
    ASSERT_EQ(r.route({{"ts", integer(ts)}, {"k", str("k" + std::to_string(ts))}}),
              ErrorReason::kNone);
  // Nothing is visible before the flush.
  r.rings().drain();
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);

  r.flush();
  for (std::size_t ring = 0; ring < 3; ++ring) {
    std::vector<std::int64_t> watermarks;
    for (const Record& rec : r.take(ring)) {
      if (rec.type() == RecordType::kWatermark) watermarks.push_back(rec.header.time);
    }
    // 500 ms after the first event, 2500 ms after the second (each passes a window end); the
    // third moved nothing.
    EXPECT_EQ(watermarks, (std::vector<std::int64_t>{500 * kMs, 2500 * kMs})) << "ring " << ring;
  }
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 3u);

  // No new records when nothing advanced: neither on a bare flush nor after an older event.
  r.flush();
  for (const auto& records : r.takeAll()) EXPECT_TRUE(records.empty());
  ASSERT_EQ(r.route({{"ts", integer(2999)}, {"k", str("late")}}), ErrorReason::kNone);
  r.flush();
  for (const auto& records : r.takeAll())
    for (const Record& rec : records) EXPECT_EQ(rec.type(), RecordType::kEvent);

  ASSERT_EQ(r.route({{"ts", integer(4000)}, {"k", str("k4000")}}), ErrorReason::kNone);
  r.flush();
  for (const auto& records : r.takeAll()) {
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kWatermark);
    EXPECT_EQ(records.back().header.time, 3500 * kMs);
    EXPECT_EQ(std::count_if(records.begin(), records.end(),
                            [](const Record& rec) { return rec.type() == RecordType::kWatermark; }),
              1);
  }
}

TEST(EventRouter, WatermarkWithZeroDelayIsTheMaxTime) {
  Router r({countBy("all", {})}, 2);
  ASSERT_EQ(r.route({{"ts", integer(7)}}), ErrorReason::kNone);
  r.flush();
  for (const auto& records : r.takeAll()) {
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kWatermark);
    EXPECT_EQ(records.back().header.time, 7 * kMs);
  }
}

// A delay reaching below the earliest time saturates instead of wrapping around.
TEST(EventRouter, WatermarkSaturatesAtTheEarliestTime) {
  SourceOptions options;
  options.time = config::TimeSpec{"ts", config::TimeUnit::kNanos};
  options.watermark.delay = 3600 * kSecond;
  Router r({countBy("all", {})}, 1, options);
  ASSERT_EQ(r.route({{"ts", integer(kMinTime + 1000)}}), ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.rings().count(RecordType::kWatermark), 0u) << "nothing is earlier than kMinTime";
  ASSERT_EQ(r.route({{"ts", integer(0)}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> records = r.take(0);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().type(), RecordType::kWatermark);
  EXPECT_EQ(records.back().header.time, -3600 * kSecond);
}

TEST(EventRouter, ProcessingTimeUsesNowAndAdvancesWithoutEvents) {
  SourceOptions options;
  options.time = std::nullopt;
  options.watermark.delay = kSecond;
  Router r({countBy("by_k", {"k"})}, 2, options);
  EXPECT_EQ(r.router().plan().time_field, -1);
  ASSERT_EQ(r.route({{"k", str("a")}}, 5 * kSecond), ErrorReason::kNone);
  r.flush(5 * kSecond);
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.time, 5 * kSecond);
  for (const auto& records : r.takeAll()) {
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kWatermark);
    EXPECT_EQ(records.back().header.time, 4 * kSecond);
  }

  r.flush(6 * kSecond);  // no event: the clock alone moves it
  for (const auto& records : r.takeAll()) {
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].type(), RecordType::kWatermark);
    EXPECT_EQ(records[0].header.time, 5 * kSecond);
  }
  r.flush(6 * kSecond);
  r.flush(5 * kSecond + kSecond / 2);  // a clock step back never moves it back
  for (const auto& records : r.takeAll()) EXPECT_TRUE(records.empty());
}

// After `idle` without events the source is idle: a kIdle goes to every ring, carrying a watermark
// that goes on with the wall clock from the last event (latest time + silence - delay), so the
// windows of a quiet stream close; kIdle again each time it rises.
TEST(EventRouter, IdleIsSentAfterTheIdleTimeAndGoesOnWithTheClock) {
  SourceOptions options;
  options.watermark.idle = 5 * kSecond;
  options.watermark.delay = 2 * kSecond;
  Router r({countBy("by_k", {"k"})}, 3, options);
  auto idles = [](const std::vector<Record>& records) {
    return std::count_if(records.begin(), records.end(),
                         [](const Record& rec) { return rec.type() == RecordType::kIdle; });
  };

  // A source that never had an event goes idle too: its stages must not wait for it.
  r.flush(kNow, kSteady);  // starts the idle clock
  r.flush(kNow, kSteady + 5 * kSecond - 1);
  for (const auto& records : r.takeAll()) EXPECT_EQ(idles(records), 0);
  r.flush(kNow, kSteady + 5 * kSecond);
  for (const auto& records : r.takeAll()) {
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].type(), RecordType::kIdle);
    EXPECT_EQ(records[0].header.time, kMinTime);  // no event, no watermark
  }
  r.flush(kNow, kSteady + 6 * kSecond);
  r.flush(kNow, kSteady + 100 * kSecond);
  for (const auto& records : r.takeAll()) EXPECT_TRUE(records.empty()) << "idle sent twice";

  // An event wakes it; idle again 5 s after the last flush that saw events, with the watermark
  // the event time reached plus the silence.
  const std::int64_t woke = kSteady + 200 * kSecond;
  ASSERT_EQ(r.route({{"ts", integer(10'000)}, {"k", str("a")}}), ErrorReason::kNone);
  r.flush(kNow, woke);
  for (const auto& records : r.takeAll()) EXPECT_EQ(idles(records), 0);
  r.flush(kNow, woke + 5 * kSecond - 1);
  for (const auto& records : r.takeAll()) EXPECT_EQ(idles(records), 0);
  r.flush(kNow, woke + 5 * kSecond);
  r.flush(kNow, woke + 5 * kSecond);  // nothing new: nothing sent
  r.flush(kNow, woke + 50 * kSecond);
  for (const auto& records : r.takeAll()) {
    ASSERT_EQ(records.size(), 2u);
    for (const Record& rec : records) EXPECT_EQ(rec.type(), RecordType::kIdle);
    EXPECT_EQ(records[0].header.time, (10 + 5 - 2) * kSecond);
    EXPECT_EQ(records[1].header.time, (10 + 50 - 2) * kSecond);
  }

  // Back from idleness, events move it on from there: an older event time never moves it back.
  ASSERT_EQ(r.route({{"ts", number(20'000)}, {"k", str("a")}}), ErrorReason::kNone);
  r.flush(kNow, woke + 51 * kSecond);
  for (const auto& records : r.takeAll()) {
    EXPECT_EQ(idles(records), 0);
    for (const Record& rec : records) EXPECT_NE(rec.type(), RecordType::kWatermark);
  }
}

// Lateness is judged per event: the watermark goes to every stage right behind the event that
// moves it past a window's fire time, before the next event, whatever the flushes; between two
// such points nothing is sent before the flush.
TEST(EventRouter, WatermarkGoesOutBeforeTheNextEventWhereAWindowFires) {
  Router r({countBy("all", {})}, 2);
  for (std::int64_t ts : {100, 900, 1000, 1500, 2500, 2400})
    ASSERT_EQ(r.route({{"ts", integer(ts)}}), ErrorReason::kNone);
  r.flush();
  const auto sequence = [](const std::vector<Record>& records) {
    std::vector<std::string> out;
    for (const Record& rec : records) {
      out.push_back((rec.type() == RecordType::kEvent ? "e" : "w") +
                    std::to_string(rec.header.time / kMs));
    }
    return out;
  };
  // No group_by: every event goes to one stage; the other ring gets the watermarks alone.
  std::vector<std::vector<std::string>> rings;
  for (auto& records : r.takeAll()) rings.push_back(sequence(records));
  const std::vector<std::string> events{"e100",  "w100",  "e900",  "e1000", "w1000",
                                        "e1500", "e2500", "w2500", "e2400"};
  const std::vector<std::string> alone{"w100", "w1000", "w2500"};
  EXPECT_TRUE((rings[0] == events && rings[1] == alone) ||
              (rings[1] == events && rings[0] == alone))
      << ::testing::PrintToString(rings);
}

// The points that matter: with emit updates a window fires at its end and closes to late events
// at end + lateness; a hopping window's ends come every slide; for sessions every rise counts.
TEST(EventRouter, WatermarkDecisionPointsFollowTheWindows) {
  const auto watermarks = [](config::PipelineConfig p, std::vector<std::int64_t> times) {
    Router r({std::move(p)}, 1);
    for (std::int64_t ts : times) EXPECT_EQ(r.route({{"ts", integer(ts)}}), ErrorReason::kNone);
    // What was sent at once, then the flush's watermark if it rose since.
    std::vector<std::int64_t> out;
    r.router().flush(kNow, kSteady);
    r.rings().drain();
    for (const Record& rec : r.rings().records(0)) {
      if (rec.type() == RecordType::kWatermark) out.push_back(rec.header.time / kMs);
    }
    return out;
  };
  config::PipelineConfig updates = countBy("u", {});
  updates.emit_updates = true;
  updates.allowed_lateness = 300 * kMs;
  // Window [-1000, 0) closes at 300, [0, 1000) fires at 1000 and closes at 1300.
  EXPECT_EQ(watermarks(updates, {100, 250, 300, 999, 1000, 1200, 1299, 1300, 1700, 2000}),
            (std::vector<std::int64_t>{100, 300, 1000, 1300, 2000}));
  config::PipelineConfig hopping = countBy("h", {});
  hopping.window = config::WindowSpec{config::WindowKind::kHopping, 1000 * kMs, 250 * kMs};
  EXPECT_EQ(watermarks(hopping, {10, 240, 250, 260, 499, 760, 999}),
            (std::vector<std::int64_t>{10, 250, 760, 999}));
  config::PipelineConfig sessions = countBy("s", {});
  sessions.window = config::WindowSpec{config::WindowKind::kSession, 1000 * kMs, 0};
  EXPECT_EQ(watermarks(sessions, {10, 5, 11, 11, 40}), (std::vector<std::int64_t>{10, 11, 40}));
}

TEST(EventRouter, NoIdleWhenIdleIsOff) {
  Router r({countBy("all", {})}, 2);
  r.flush(kNow, kSteady);
  r.flush(kNow, kSteady + 1'000'000 * kSecond);
  EXPECT_EQ(r.rings().count(RecordType::kIdle), 0u);
}

// ---- end of stream ----

TEST(EventRouter, EndGoesToEveryRingAndCountsUnflushedEvents) {
  Router r({countBy("by_k", {"k"})}, 3);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(r.route({{"ts", integer(100 + i)}, {"k", str(std::to_string(i))}}),
              ErrorReason::kNone);
  r.router().end(false);
  r.rings().drain();
  EXPECT_EQ(r.stats().events.load(), 10u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 10u);
  testutil::expectOneEndPerRing(r.rings(), 0);
  EXPECT_EQ(r.rings().records(0).back().header.time, 109 * kMs);

  Router stopped({countBy("all", {})}, 2);
  stopped.router().end(true);
  stopped.rings().drain();
  testutil::expectOneEndPerRing(stopped.rings(), kEndStopped);
}

TEST(EventRouter, SourceReadByNoPipelineStillCountsAndWatermarks) {
  Router r({}, 2);
  EXPECT_EQ(r.router().plan().routes.size(), 0u);
  ASSERT_EQ(r.route({{"ts", integer(5)}}), ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.stats().events.load(), 1u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
  EXPECT_EQ(r.rings().count(RecordType::kWatermark), 2u);
}

}  // namespace
}  // namespace rivulet::pipeline
