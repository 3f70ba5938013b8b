// `time: {unit: iso8601}` through the real daemon: JSON and CSV files whose event time is RFC 3339
// text with Z, offsets, a blank for T, lowercase letters and fractions of every length land in the
// windows of the instants they name; text without a zone, an impossible date and a number are
// refused as bad_time and counted.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <string>
#include <tuple>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

// 2026-12-06T18:41:07Z in epoch milliseconds (date -u -d 2026-12-06T18:41:07Z +%s).
constexpr std::int64_t k4107 = 1'796'582'467'000;

std::string configYaml(const TempDir& dir) {
  std::string yaml = "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" + dir.file("r.ipc") +
                     "\n  output: " + dir.file("out.jsonl") + "\n  stages: 2\nsources:\n";
  yaml += "  json:\n    kind: file\n    path: " + dir.file("in.jsonl") +
          "\n    follow: true\n    time: {field: ts, unit: iso8601}\n";
  yaml += "  csv:\n    kind: file\n    path: " + dir.file("in.csv") +
          "\n    follow: true\n    format: csv\n    columns: [ts, k, v]\n"
          "    time: {field: ts, unit: iso8601}\n";
  yaml += "pipelines:\n";
  for (const char* source : {"json", "csv"}) {
    yaml += std::string("  from_") + source + ":\n    from: " + source +
            "\n    group_by: [k]\n    window: {tumbling: 1s}\n"
            "    aggregates: {n: count(), v: sum(v)}\n";
  }
  return yaml;
}

// (ts text, key, value) rows: four accepted events in three windows, three refused, then one
// far ahead that closes the three windows.
struct Row {
  std::string ts;
  bool quoted_in_json;  // false: the JSON carries it as a number
  std::string key;
  int value;
};
const Row kRows[] = {
    {"2026-12-06T18:41:07.123Z", true, "a", 1},
    {"2026-12-06T19:41:07.999+01:00", true, "a", 2},        // 18:41:07.999Z
    {"2026-12-06 13:11:08-05:30", true, "a", 4},            // 18:41:08Z
    {"2026-12-06t18:41:08.5z", true, "b", 8},               //
    {"2026-12-06T18:41:07.5", true, "a", 100},              // no zone: refused
    {"1796582467500", false, "a", 100},                     // a number: refused
    {"2026-02-30T18:41:07Z", true, "a", 100},               // no such day: refused
    {"2026-12-06T18:41:09.000000001+0000", true, "c", 16},  // 18:41:09Z + 1 ns
    {"2026-12-06T18:41:30Z", true, "end", 0},               // closes the windows above
};
constexpr int kAccepted = 6;
constexpr int kRefused = 3;

std::string jsonLines() {
  std::string text;
  for (const Row& r : kRows) {
    const std::string ts = r.quoted_in_json ? "\"" + r.ts + "\"" : r.ts;
    text += "{\"ts\":" + ts + ",\"k\":\"" + r.key + "\",\"v\":" + std::to_string(r.value) + "}\n";
  }
  return text;
}

std::string csvLines() {
  std::string text;
  bool quote = false;
  for (const Row& r : kRows) {
    text += csvField(r.ts, quote = !quote) + "," + r.key + "," + std::to_string(r.value) + "\n";
  }
  return text;
}

TEST(DaemonIsoTime, TimestampsAsTextLandInTheirWindowsAndBadOnesAreCounted) {
  TempDir dir;
  writeFile(dir.file("in.jsonl"), jsonLines());
  writeFile(dir.file("in.csv"), csvLines());
  Daemon daemon(dir, configYaml(dir));
  ASSERT_TRUE(daemon.waitReady());

  for (const char* source : {"json", "csv"}) {
    Metrics m;
    ASSERT_TRUE(waitCounted(daemon, source, kAccepted + kRefused, &m)) << source;
    expectSourceCounters(m, source, kAccepted, {{"bad_time", kRefused}});
  }
  // (pipeline, key, start) -> (n, v) of the final results.
  using Window = std::tuple<std::string, std::string, std::int64_t>;
  const std::map<Window, std::pair<std::int64_t, std::int64_t>> expected_per_source = {
      {{"", "a", k4107}, {2, 3}},
      {{"", "a", k4107 + 1000}, {1, 4}},
      {{"", "b", k4107 + 1000}, {1, 8}},
      {{"", "c", k4107 + 2000}, {1, 16}},
  };
  std::vector<Result> results;
  ASSERT_TRUE(waitUntil(
      [&] {
        results = parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))));
        return results.size() >= 2 * expected_per_source.size();
      },
      30s))
      << readFile(dir.file("out.jsonl"));
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  ASSERT_EQ(daemon.process().wait(30s), 0);
  results = parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))));

  std::map<Window, std::pair<std::int64_t, std::int64_t>> finals;
  for (const Result& r : results) {
    ASSERT_EQ(r.key.size(), 1u) << r.payload;
    if (r.key[0].second == "end") {
      EXPECT_EQ(r.kind, "partial") << r.payload;  // still open at the stop
      EXPECT_EQ(r.start, k4107 + 23'000) << r.payload;
      continue;
    }
    EXPECT_EQ(r.kind, "final") << r.payload;
    EXPECT_EQ(r.end - r.start, 1000) << r.payload;
    finals[{r.pipeline, r.key[0].second, r.start}] = {r.values.at("n").integer,
                                                      r.values.at("v").integer};
  }
  std::map<Window, std::pair<std::int64_t, std::int64_t>> expected;
  for (const char* pipeline : {"from_json", "from_csv"}) {
    for (const auto& [window, values] : expected_per_source) {
      expected[{pipeline, std::get<1>(window), std::get<2>(window)}] = values;
    }
  }
  EXPECT_EQ(finals, expected);
}

}  // namespace
}  // namespace rivulet::testutil
