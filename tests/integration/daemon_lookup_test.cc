// Lookup tables (`tables:`, `lookup:`), end to end: the daemon follows a file of trades and
// groups them by a sector from a CSV table (symbol -> sector, unknown symbols in a null group)
// and by a region from a JSON-lines table keyed by that sector (missing: refuse). While it runs
// the CSV file is replaced by a bad one (refused: the version before stays), then by a new
// mapping, which the events read afterwards get without a restart; SIGHUP reads both again. Every
// window's results, the refusals and the misses against a brute-force lookup and aggregation.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>

#include <map>
#include <random>
#include <string>
#include <tuple>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kSymbols = 10;                       // s0..s9; s8 and s9 are in no version

// The sector of symbol i in version v of the table ("" when it has none), and the region of a
// sector ("" for the sector no region row has).
std::string sectorOf(int i, int version) {
  if (i >= 8) return "";
  static const char* const kSectors[] = {"tech", "energy", "health", "misc"};
  return kSectors[(i + version) % 4];
}
std::string regionOf(const std::string& sector) {
  if (sector == "tech" || sector == "energy") return "us";
  if (sector == "health") return "eu";
  return "";
}

std::string sectorsCsv(int version) {
  std::string csv = "symbol,sector\n";
  for (int i = 0; i < 8; ++i) csv += "s" + std::to_string(i) + "," + sectorOf(i, version) + "\n";
  return csv;
}

// Replaces `path` at once, as an operator should: a new file renamed over the old one.
void replaceFile(const std::string& path, const std::string& text) {
  writeFile(path + ".new", text);
  ASSERT_EQ(::rename((path + ".new").c_str(), path.c_str()), 0);
}

std::string config(const TempDir& dir) {
  return daemonYaml(dir) + "sources:\n  tail:\n    kind: file\n    path: " + dir.file("in.jsonl") +
         "\n    follow: true\n    time: {field: ts, unit: ms}\n"
         "tables:\n"
         "  sectors: {path: " +
         dir.file("sectors.csv") +
         ", key: symbol}\n"
         "  regions: {path: " +
         dir.file("regions.json") +
         ", key: name}\n"
         "pipelines:\n"
         "  by_sector:\n"
         "    from: tail\n"
         "    lookup: [{table: sectors, key: sym, fields: [sector]}]\n"
         "    group_by: [sector]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count(), total: sum(qty)}\n"
         "  by_region:\n"
         "    from: tail\n"
         "    lookup:\n"
         "      - {table: sectors, key: sym, fields: [{sec: sector}]}\n"
         "      - {table: regions, key: sec, fields: [region], missing: refuse}\n"
         "    group_by: [region]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count(), total: sum(qty)}\n";
}

std::string withTables(const TempDir& dir) {
  writeFile(dir.file("sectors.csv"), sectorsCsv(0));
  writeFile(dir.file("regions.json"),
            "{\"name\":\"tech\",\"region\":\"us\"}\n{\"name\":\"energy\",\"region\":\"us\"}\n"
            "{\"name\":\"health\",\"region\":\"eu\"}\n");
  return config(dir);
}

// (pipeline, window start, key) -> (n, total)
using Windows = std::map<std::tuple<std::string, std::int64_t, std::string>,
                         std::pair<std::int64_t, std::int64_t>>;

struct Expected {
  Windows windows;
  std::int64_t events = 0, sector_misses = 0, region_misses = 0;
};

// Events of seconds [from, to), 40 per second, read with table version `version`.
void appendSeconds(const TempDir& dir, int from, int to, int version, std::mt19937_64& rng,
                   Expected& want) {
  std::string text;
  for (int s = from; s < to; ++s) {
    for (int e = 0; e < 40; ++e) {
      const std::int64_t ts = kBase + s * 1000 + e * 25;
      const int sym = static_cast<int>(rng() % kSymbols);
      const std::int64_t qty = static_cast<std::int64_t>(rng() % 100);
      text += "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"s" + std::to_string(sym) +
              "\",\"qty\":" + std::to_string(qty) + "}\n";
      const std::int64_t start = kBase + s * 1000;
      const std::string sector = sectorOf(sym, version);
      const std::string region = regionOf(sector);
      auto& by_sector = want.windows[{"by_sector", start, sector.empty() ? "null" : sector}];
      ++by_sector.first;
      by_sector.second += qty;
      if (sector.empty()) ++want.sector_misses;
      if (region.empty()) {
        ++want.region_misses;
      } else {
        auto& by_region = want.windows[{"by_region", start, region}];
        ++by_region.first;
        by_region.second += qty;
      }
      ++want.events;
    }
  }
  appendFile(dir.file("in.jsonl"), text);
}

::testing::AssertionResult reached(const Daemon& daemon, const std::string& name,
                                   const Labels& labels, double value) {
  std::string error;
  const auto m = daemon.scrapeUntil(
      [&](const Metrics& scraped) { return scraped.valueOr0(name, labels) >= value; }, 30s, &error);
  if (!m) return ::testing::AssertionFailure() << error;
  if (m->valueOr0(name, labels) != value) {
    return ::testing::AssertionFailure()
           << name << ": " << m->valueOr0(name, labels) << ", not " << value;
  }
  return ::testing::AssertionSuccess();
}

using DaemonLookup = FollowingDaemonTest<withTables>;

TEST_F(DaemonLookup, EventsGetTheTableVersionOfWhenTheyAreRead) {
  Daemon& daemon = *daemon_;
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  Expected want;
  const Labels sectors = {{"table", "sectors"}};
  const auto reloads = [](const char* table, const char* result) {
    return Labels{{"table", table}, {"result", result}};
  };

  appendSeconds(dir_, 0, 4, 0, rng, want);
  ASSERT_TRUE(reached(daemon, "rivulet_source_events_total", {{"source", "tail"}},
                      static_cast<double>(want.events)));
  // A bad version: refused, the one before stays.
  ASSERT_NO_FATAL_FAILURE(replaceFile(dir_.file("sectors.csv"), "symbol,sector\ns0,\"x\n"));
  ASSERT_TRUE(reached(daemon, "rivulet_table_reloads_total", reloads("sectors", "failed"), 1));
  appendSeconds(dir_, 4, 8, 0, rng, want);
  ASSERT_TRUE(reached(daemon, "rivulet_source_events_total", {{"source", "tail"}},
                      static_cast<double>(want.events)));
  // A new mapping, taken by every event read after it is in.
  ASSERT_NO_FATAL_FAILURE(replaceFile(dir_.file("sectors.csv"), sectorsCsv(1)));
  ASSERT_TRUE(reached(daemon, "rivulet_table_reloads_total", reloads("sectors", "ok"), 1));
  appendSeconds(dir_, 8, 12, 1, rng, want);
  ASSERT_TRUE(reached(daemon, "rivulet_source_events_total", {{"source", "tail"}},
                      static_cast<double>(want.events)));
  // SIGHUP reads every table again, changed or not.
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reached(daemon, "rivulet_table_reloads_total", reloads("regions", "ok"), 1));
  ASSERT_TRUE(reached(daemon, "rivulet_table_reloads_total", reloads("sectors", "ok"), 2));
  // An event at second 13 closes the windows of seconds 0..11.
  appendFile(dir_.file("in.jsonl"),
             "{\"ts\":" + std::to_string(kBase + 13'000) + ",\"sym\":\"s0\",\"qty\":0}\n");
  ++want.events;
  const std::string s0 = sectorOf(0, 1);
  if (regionOf(s0).empty()) ++want.region_misses;

  ASSERT_TRUE(subscriber_->receiveUntil(
      [&](const std::vector<Message>&) {
        return received("_window/by_sector/") >= 12 && received("_window/by_region/") >= 12;
      },
      30s));
  Windows got;
  for (const Result& r : parseResults(subscriber_->messages())) {
    EXPECT_EQ(r.kind, "final") << r.payload;
    ASSERT_EQ(r.key.size(), 1u) << r.payload;
    got[{r.pipeline, r.start, r.key[0].second}] = {r.values.at("n").integer,
                                                   r.values.at("total").integer};
  }
  EXPECT_EQ(got, want.windows);

  std::string error;
  const auto m = daemon.scrape(&error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->valueOr0("rivulet_table_misses_total", sectors),
            static_cast<double>(want.sector_misses))
      << "counted once for the two pipelines that share the lookup";
  EXPECT_EQ(m->valueOr0("rivulet_table_misses_total", {{"table", "regions"}}),
            static_cast<double>(want.region_misses));
  EXPECT_EQ(m->valueOr0("rivulet_pipeline_refused_total",
                        {{"pipeline", "by_region"}, {"reason", "lookup_miss"}}),
            static_cast<double>(want.region_misses));
  EXPECT_EQ(m->valueOr0("rivulet_table_rows", sectors), 8);
  EXPECT_EQ(m->valueOr0("rivulet_table_rows", {{"table", "regions"}}), 3);
  EXPECT_EQ(m->valueOr0("rivulet_table_reloads_total", reloads("sectors", "failed")), 1);
}

TEST(DaemonLookupCheck, CheckReadsTheTablesAndNamesWhatIsWrong) {
  TempDir dir;
  std::string yaml = withTables(dir);
  writeFile(dir.file("regions.json"), "{\"name\":\"tech\",\"area\":\"us\"}\n");
  writeFile(dir.file("c.yaml"), yaml);
  const CommandResult r = runCommand(dir, {kDaemonPath, "--config", dir.file("c.yaml"), "--check"});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("pipelines.by_region.lookup[1].fields: table \"regions\" (" +
                       dir.file("regions.json") + ") has no column \"region\""),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace rivulet::testutil
