// EventRouter, single-threaded: which ring an event goes to, what its record holds, and how each
// kind of bad event is refused (whole, for every pipeline at once). Event time, watermarks, idle
// and the end of the stream: event_router_time_test.cc.
#include "pipeline/event_router.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
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
#include "tests/unit/pipeline/router_rig.h"

namespace rivulet::pipeline {
namespace {

using namespace testutil;

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

}  // namespace
}  // namespace rivulet::pipeline
