// Lookups (`lookup:`) in the event router: every event's lookup fields against a brute-force
// lookup of the same rows, chained lookups, null keys where a lookup missed, refusals with
// missing: refuse, the misses counted once per shared lookup, a new table version taken by the
// next event, and no allocation per event.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "connectors/tables/table_file.h"
#include "pipeline/event_router.h"
#include "pipeline/model/key.h"
#include "tests/support/field_values.h"
#include "tests/support/files.h"
#include "tests/support/plans.h"
#include "tests/support/rings.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using testutil::integer;
using testutil::str;

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

// Symbols s0..s11: s0..s7 have a sector in the first table (s8.. none); sectors have a region in
// the second, but "misc".
std::string sectorsCsv(int version) {
  std::string csv = "sym,sector\n";
  for (int s = 0; s < 8; ++s) {
    csv += "s" + std::to_string(s) + "," +
           (s % 3 == 0 ? "misc" : "sec" + std::to_string((s + version) % 3)) + "\n";
  }
  return csv;
}
std::string sectorOf(int sym, int version) {
  if (sym >= 8) return "";
  return sym % 3 == 0 ? "misc" : "sec" + std::to_string((sym + version) % 3);
}
std::string regionOf(const std::string& sector) {
  if (sector == "sec0" || sector == "sec1") return "eu";
  if (sector == "sec2") return "us";
  return "";
}

class RouterLookups : public ::testing::Test {
 protected:
  void SetUp() override {
    testutil::writeFile(dir_.file("sectors.csv"), sectorsCsv(0));
    testutil::writeFile(dir_.file("regions.json"),
                        "{\"name\":\"sec0\",\"region\":\"eu\"}\n"
                        "{\"name\":\"sec1\",\"region\":\"eu\"}\n"
                        "\n"
                        "{\"name\":\"sec2\",\"region\":\"us\"}\n");
    config_ = testutil::loadConfig(
        "sources:\n"
        "  src: {kind: file, path: /dev/null, time: {field: ts, unit: ms}}\n"
        "tables:\n"
        "  sectors: {path: " +
        dir_.file("sectors.csv") +
        ", key: sym}\n"
        "  regions: {path: " +
        dir_.file("regions.json") +
        ", key: name}\n"
        "pipelines:\n"
        "  by_sector:\n"  // missing: null, the key part null
        "    from: src\n"
        "    lookup: [{table: sectors, key: sym, fields: [sector]}]\n"
        "    group_by: [sector]\n"
        "    window: {tumbling: 1s}\n"
        "    aggregates: {total: sum(v)}\n"
        "  eu_strict:\n"  // the same first lookup, refused on a miss; a chained one
        "    from: src\n"
        "    lookup:\n"
        "      - {table: sectors, key: sym, fields: [{sec: sector}], missing: refuse}\n"
        "      - {table: regions, key: sec, fields: [region]}\n"
        "    where: \"region == 'eu'\"\n"
        "    group_by: [sym]\n"
        "    window: {tumbling: 1s}\n"
        "    aggregates: {n: count()}\n"
        "  plain:\n"  // no lookup: a field of the same name is the event's own
        "    from: src\n"
        "    group_by: [sector]\n"
        "    window: {tumbling: 1s}\n"
        "    aggregates: {n: count()}\n");
    for (const config::TableSpec& spec : config_.tables) {
      connectors::TableRead read = connectors::readTable(spec);
      ASSERT_TRUE(read.table) << read.error;
      stores_.push_back(std::make_shared<TableStore>(std::move(read.table)));
    }
    SourcePlan plan = testutil::planFor(config_);
    ASSERT_EQ(plan.lookups.size(), 2u) << "the first lookup of both pipelines is made once";
    for (std::size_t l = 0; l < plan.lookups.size(); ++l) {
      plan.lookups[l].store = stores_[plan.lookups[l].table];
      plan.lookups[l].misses = &misses_[l];
    }
    router_ = std::make_unique<EventRouter>(std::move(plan), rings_.pointers(), stats_);
  }

  ErrorReason route(std::int64_t ts, const std::string& sym, double v,
                    const std::string& own_sector = "") {
    const std::vector<std::string>& fields = router_->plan().fields;
    std::vector<config::FieldValue> values(fields.size());
    const auto set = [&](const std::string& name, config::FieldValue value) {
      for (std::size_t i = 0; i < fields.size(); ++i)
        if (fields[i] == name) values[i] = value;
    };
    set("ts", integer(ts));
    set("sym", str(sym));
    set("v", testutil::number(v));
    if (!own_sector.empty()) set("sector", str(own_sector));
    return router_->route(values.data(), kNow);
  }
  std::uint64_t refused(std::size_t route, ErrorReason reason) const {
    return router_->routeStats(route).refused[static_cast<std::size_t>(reason)].load();
  }
  // (first key part, or "null"; first value) of each event of `pipeline`, in order.
  std::vector<std::pair<std::string, double>> events(std::uint16_t pipeline) {
    router_->flush(kNow, 1);
    rings_.drain();
    std::vector<std::pair<std::string, double>> out;
    for (const testutil::Record& r : rings_.events(pipeline)) {
      const auto parts = testutil::keyParts(r.key(1));
      out.emplace_back(parts.at(0).first == KeyPartType::kNull ? "null" : parts.at(0).second,
                       r.value(0));
    }
    return out;
  }

  testutil::TempDir dir_;
  config::Config config_;
  std::vector<std::shared_ptr<TableStore>> stores_;
  Counter misses_[2] = {};
  SourceStats stats_;
  testutil::RingSet rings_{1, 1 << 16};
  std::unique_ptr<EventRouter> router_;
};

TEST_F(RouterLookups, FieldsAreTheRowsOfTheKeyAsABruteForceLookupFindsThem) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::vector<std::pair<std::string, double>> want_sector;
  std::vector<std::string> want_strict, want_plain;
  std::uint64_t want_misses = 0, want_region_misses = 0, want_refused = 0;
  for (int i = 0; i < 500; ++i) {
    const int sym = static_cast<int>(rng() % 12);
    const double v = static_cast<double>(rng() % 100);
    const std::string own = rng() % 2 == 0 ? "mine" : "";
    ASSERT_EQ(route(1000 + i, "s" + std::to_string(sym), v, own), ErrorReason::kNone);
    const std::string sector = sectorOf(sym, 0);
    want_sector.emplace_back(sector.empty() ? "null" : sector, v);
    if (sector.empty()) {
      ++want_misses;
      ++want_refused;
    } else if (regionOf(sector) == "eu") {
      want_strict.push_back("s" + std::to_string(sym));
    }
    // The chained lookup misses "misc", and where the first missed (its key is then null).
    if (regionOf(sector).empty()) ++want_region_misses;
    if (!own.empty()) want_plain.push_back(own);
  }
  EXPECT_EQ(events(0), want_sector);
  // count() carries no value: the key is all there is to compare.
  std::vector<std::string> strict, plain;
  for (const testutil::Record& r : rings_.events(1))
    strict.push_back(testutil::keyParts(r.key(0)).at(0).second);
  for (const testutil::Record& r : rings_.events(2))
    plain.push_back(testutil::keyParts(r.key(0)).at(0).second);
  EXPECT_EQ(strict, want_strict);
  EXPECT_EQ(plain, want_plain) << "a pipeline without the lookup reads the event's own field";
  EXPECT_EQ(refused(1, ErrorReason::kLookupMiss), want_refused);
  EXPECT_EQ(refused(0, ErrorReason::kLookupMiss), 0u);
  EXPECT_EQ(misses_[0].load(), want_misses) << "counted once for the two pipelines sharing it";
  EXPECT_EQ(misses_[1].load(), want_region_misses);
}

TEST_F(RouterLookups, ANewVersionIsTakenByTheNextEvent) {
  ASSERT_EQ(route(1000, "s1", 1), ErrorReason::kNone);
  testutil::writeFile(dir_.file("sectors.csv"), sectorsCsv(1));
  connectors::TableRead read = connectors::readTable(config_.tables[0]);
  ASSERT_TRUE(read.table) << read.error;
  stores_[0]->replace(std::move(read.table));
  ASSERT_EQ(route(1001, "s1", 2), ErrorReason::kNone);
  ASSERT_EQ(route(1002, "s9", 3), ErrorReason::kNone);
  const auto got = events(0);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, sectorOf(1, 0));
  EXPECT_EQ(got[1].first, sectorOf(1, 1));
  EXPECT_NE(got[0].first, got[1].first);
  EXPECT_EQ(got[2].first, "null");
}

TEST_F(RouterLookups, NoAllocationPerEvent) {
  ASSERT_EQ(route(1000, "s1", 1), ErrorReason::kNone);  // warm up
  const std::vector<std::string>& fields = router_->plan().fields;
  std::vector<std::vector<config::FieldValue>> batch;
  const std::vector<std::string> symbols = {"s0", "s1", "s2", "s5", "s9", "s11"};
  for (int i = 0; i < 60; ++i) {
    std::vector<config::FieldValue> values(fields.size());
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (fields[f] == "ts") values[f] = integer(1001 + i);
      if (fields[f] == "sym") values[f] = str(symbols[static_cast<std::size_t>(i) % 6]);
      if (fields[f] == "v") values[f] = integer(i);
    }
    batch.push_back(std::move(values));
  }
  const std::size_t before = testutil::allocations.load();
  for (const auto& values : batch)
    ASSERT_EQ(router_->route(values.data(), kNow), ErrorReason::kNone);
  EXPECT_EQ(testutil::allocations.load() - before, 0u);
}

TEST(LookupKey, NumbersAreTheirShortestTextStringsTheirBytes) {
  LookupKeyText room;
  std::string_view key;
  ASSERT_TRUE(lookupKey(testutil::number(42.0, "42.0"), room, key));
  EXPECT_EQ(key, "42");
  ASSERT_TRUE(lookupKey(integer(-7), room, key));
  EXPECT_EQ(key, "-7");
  ASSERT_TRUE(lookupKey(testutil::number(0.5, "5e-1"), room, key));
  EXPECT_EQ(key, "0.5");
  ASSERT_TRUE(lookupKey(str("42"), room, key));
  EXPECT_EQ(key, "42");
  ASSERT_TRUE(lookupKey(testutil::boolean(true), room, key));
  EXPECT_EQ(key, "true");
  EXPECT_FALSE(lookupKey(testutil::null(), room, key));
  EXPECT_FALSE(lookupKey(testutil::missing(), room, key));
  EXPECT_FALSE(lookupKey(testutil::other(), room, key));
}

// Random rows (with keys given again) against a map written in the same order.
TEST(LookupTable, FindsWhatAMapWrittenInFileOrderHolds) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  for (int round = 0; round < 20; ++round) {
    LookupTable table({"k", "v"}, 0);
    std::map<std::string, std::string> want;
    const int rows = static_cast<int>(rng() % 300);
    std::size_t given_again = 0;
    for (int r = 0; r < rows; ++r) {
      const std::string k = "key" + std::to_string(rng() % 200);
      const std::string v = std::to_string(rng());
      given_again += want.contains(k) ? 1 : 0;
      want[k] = v;
      const config::FieldValue row[] = {str(k), str(v)};
      ASSERT_TRUE(table.addRow(row));
    }
    table.seal();
    EXPECT_EQ(table.duplicates(), given_again);
    EXPECT_EQ(table.rows() - table.duplicates(), want.size());
    for (int k = 0; k < 250; ++k) {
      const std::string key = "key" + std::to_string(k);
      const config::FieldValue* row = table.find(key);
      const auto it = want.find(key);
      ASSERT_EQ(row != nullptr, it != want.end()) << key;
      if (row != nullptr) {
        EXPECT_EQ(row[1].text, it->second);
      }
    }
  }
}

TEST(LookupTable, ARowWithoutAKeyIsNotAdded) {
  LookupTable table({"k", "v"}, 0);
  const config::FieldValue row[] = {testutil::null(), str("x")};
  EXPECT_FALSE(table.addRow(row));
  table.seal();
  EXPECT_EQ(table.rows(), 0u);
  EXPECT_EQ(table.find("null"), nullptr);
}

}  // namespace
}  // namespace rivulet::pipeline
