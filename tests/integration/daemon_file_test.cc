// Bounded inputs (DESIGN §4): a file source and a generator source run to the end of their input,
// the daemon publishes every window as final to the `output:` JSON-lines file and exits 0 by
// itself. The file's contents are checked against a brute-force reference; a FIFO as the "file"
// keeps the input open long enough to scrape the per-reason error counters before the end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "config/config.h"
#include "connectors/sources/generator_source.h"
#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"
#include "tests/integration/harness/fifo.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;

// The sketch aggregates, over px (a quantile of each kind) and venue (a string, sometimes a
// number): few venues, so count_distinct and top_k are exact and match the reference exactly.
const std::vector<AggregateSpec> kSketchAggregates = {
    {"median", Agg::kQuantile, 0.5}, {"p99", Agg::kQuantile, 0.99}, {"venues", Agg::kCountDistinct},
    {"top", Agg::kTopK, 0, 2},       {"top4", Agg::kTopK, 0, 4},
};

std::string sketchPipeline(const std::string& name, const std::string& window) {
  return "  " + name +
         ":\n"
         "    from: replay\n"
         "    group_by: [sym]\n"
         "    window: " +
         window +
         "\n"
         "    aggregates:\n"
         "      median: p50(px)\n"
         "      p99: quantile(px, 0.99)\n"
         "      venues: count_distinct(venue)\n"
         "      top: top_k(venue, 2)\n"
         "      top4: top_k(venue, 4)\n";
}

std::string fileConfig(const TempDir& dir, const std::string& input) {
  return daemonYaml(dir, {.output = dir.file("out.jsonl")}) +
         "sources:\n"
         "  replay:\n"
         "    kind: file\n"
         "    path: " +
         input +
         "\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n" +
         tradePipeline("trades", "replay") + hopPipeline("hop", "replay") +
         "  doubled:\n"
         "    from: replay\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      total: sum(px * 2)\n"
         "  big:\n"
         "    from: replay\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: count_if(px > 100)\n"
         "  filtered:\n"
         "    from: replay\n"
         "    where: \"px > 50 and sym != 'IBM'\"\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(px)\n"
         // An event without px has no band: the where skips this pipeline for it, instead of its
         // null key refusing the event for every pipeline.
         "  bands:\n"
         "    from: replay\n"
         "    where: \"px is not null\"\n"
         "    group_by:\n"
         "      - sym\n"
         "      - band: floor(px / 10) / 4\n"
         "      - cheap: px < 20\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(px)\n" +
         sketchPipeline("sketches", "{tumbling: 1s}") +
         sketchPipeline("sketch_hop", "{hopping: {size: 3s, slide: 1s}}");
}

// Events in order of their second, shuffled within it (no event is late whatever the daemon's
// read sizes: the watermark never leaves the second being read), with distinct times, so
// first/last have no ties; plus malformed lines, each with the reason it must be counted under.
struct Input {
  std::vector<std::string> lines;  // each ends in "\n"
  std::int64_t good = 0;
  // Taken by hop alone (no group_by): every keyed pipeline refuses them for their key.
  std::int64_t hop_only = 0;
  std::int64_t max_ts = std::numeric_limits<std::int64_t>::min();
  std::map<std::string, std::int64_t> errors;
  WindowReference trades{"trades", {"sym"}, 1000, 1000};
  WindowReference hop{"hop", {}, 3000, 1000};
  WindowReference filtered{"filtered", {"sym"}, 1000, 1000};  // where px > 50 and sym != 'IBM'
  WindowReference doubled{"doubled", {"sym"}, 1000, 1000};    // sum(px * 2)
  // count_if(px > 100), checked as the sum of 1 (true) and 0 (false or no px)
  WindowReference big{"big", {"sym"}, 1000, 1000};
  // group_by sym, band: floor(px / 10) / 4, cheap: px < 20, where px is not null; the key parts
  // as their JSON text
  WindowReference bands{"bands", {"sym", "band", "cheap"}, 1000, 1000};
  WindowReference sketches{"sketches", {"sym"}, 1000, 1000};
  WindowReference sketch_hop{"sketch_hop", {"sym"}, 3000, 1000};
};

// A band's text as the daemon must write it: bands are quarters, so the shortest form is exact
// and an integer has no fraction ("%g" agrees with the shortest round-trip form here).
std::string bandText(double px) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::floor(px / 10) / 4);
  return text;
}

Input makeInput(int seconds, int per_second, std::uint64_t seed) {
  const std::vector<std::string> symbols = {"AAPL", "MSFT", "GOOG", "AMZN",
                                            "NVDA", "IBM",  "x y",  "tab\\tbed"};
  // Venues: strings, one number, and sometimes none.
  const std::vector<std::optional<Item>> venues = {
      Item{true, "NYSE"}, Item{true, "NYSE"}, Item{true, "ARCA"}, Item{true, "BATS"},
      Item{true, "IEX"},  Item{false, "7"},   std::nullopt};
  std::mt19937_64 rng(seed);
  Input in;
  for (int s = 0; s < seconds; ++s) {
    std::vector<int> offsets(1000);
    for (int i = 0; i < 1000; ++i) offsets[static_cast<std::size_t>(i)] = i;
    std::shuffle(offsets.begin(), offsets.end(), rng);
    std::vector<std::string> lines;
    for (int i = 0; i < per_second; ++i) {
      const std::int64_t ts = kBase + s * 1000 + offsets[static_cast<std::size_t>(i)];
      const std::string& sym = symbols[rng() % symbols.size()];
      // "tab\tbed" is written with a JSON escape: the key is the unescaped string.
      const std::string key = sym == "tab\\tbed" ? std::string("tab\tbed") : sym;
      std::optional<double> px;
      std::string line = "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" + sym + "\"";
      if (rng() % 50 != 0) {
        char text[32];
        std::snprintf(text, sizeof text, "%.3f", 10 + static_cast<double>(rng() % 100000) / 997);
        px = std::strtod(text, nullptr);
        line += ",\"px\":" + std::string(text);
      }
      const std::optional<Item>& venue = venues[rng() % venues.size()];
      if (venue) {
        line += ",\"venue\":" + (venue->is_string ? "\"" + venue->text + "\"" : venue->text);
      }
      line += "}\n";
      lines.push_back(line);
      constexpr std::int64_t kNoWatermark = std::numeric_limits<std::int64_t>::min();
      in.sketches.add(ts, {key}, px, kNoWatermark, venue);
      in.sketch_hop.add(ts, {key}, px, kNoWatermark, venue);
      in.trades.add(ts, {key}, px);
      in.max_ts = std::max(in.max_ts, ts);
      in.hop.add(ts, {}, px);
      if (px && *px > 50 && key != "IBM") in.filtered.add(ts, {key}, px);
      in.doubled.add(ts, {key}, px ? std::optional<double>(*px * 2) : std::nullopt);
      in.big.add(ts, {key}, px && *px > 100 ? 1.0 : 0.0);
      if (px) in.bands.add(ts, {key, bandText(*px), *px < 20 ? "true" : "false"}, px);
      ++in.good;
    }
    const std::string t = std::to_string(kBase + s * 1000 + 1);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"invalid_json", "{\"ts\":" + t + ",\"sym\":\"AAPL\"\n"},
        {"not_object", "[\"ts\"," + t + "]\n"},
        {"missing_time", "{\"sym\":\"AAPL\",\"px\":1}\n"},
        {"bad_time", "{\"ts\":true,\"sym\":\"AAPL\",\"px\":1}\n"},
        {"wrong_type", "{\"ts\":" + t + ",\"sym\":\"AAPL\",\"px\":[1]}\n"},
    };
    for (const auto& [reason, line] : bad) {
      lines.push_back(line);
      ++in.errors[reason];
    }
    // No sym: refused by every pipeline keyed by it, taken by hop. At a time no good event of the
    // second has, so that first and last have no ties.
    const std::int64_t keyless = kBase + s * 1000 + offsets[static_cast<std::size_t>(per_second)];
    lines.push_back("{\"ts\":" + std::to_string(keyless) + ",\"px\":1}\n");
    in.hop.add(keyless, {}, 1.0);
    ++in.hop_only;
    std::shuffle(lines.begin(), lines.end(), rng);
    in.lines.insert(in.lines.end(), lines.begin(), lines.end());
  }
  return in;
}

std::vector<Result> readOutput(const TempDir& dir) {
  return parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))));
}

void expectOutputMatches(const std::vector<Result>& results, const Input& in) {
  const auto all = [](const WindowId&) { return true; };
  expectResultsMatch(results, "final", in.trades, kTradeAggregates, all);
  expectResultsMatch(results, "final", in.hop, kHopAggregates, all);
  expectResultsMatch(results, "final", in.filtered, {{"n", Agg::kCount}, {"total", Agg::kSum}},
                     all);
  expectResultsMatch(results, "final", in.doubled, {{"total", Agg::kSum}}, all);
  expectResultsMatch(results, "final", in.big, {{"n", Agg::kSum}}, all);
  expectResultsMatch(results, "final", in.bands, {{"n", Agg::kCount}, {"total", Agg::kSum}}, all);
  // A computed key is a JSON number or bool, not its text in a string.
  for (const Result& r : results) {
    if (r.pipeline != "bands") continue;
    ASSERT_EQ(r.key.size(), 3u) << r.payload;
    EXPECT_NE(
        r.payload.find(",\"band\":" + r.key[1].second + ",\"cheap\":" + r.key[2].second + "},"),
        std::string::npos)
        << r.payload;
  }
  expectResultsMatch(results, "final", in.sketches, kSketchAggregates, all);
  expectResultsMatch(results, "final", in.sketch_hop, kSketchAggregates, all);
  expectSeqWithoutGaps(results);
  std::int64_t counted = 0;
  for (const Result& r : results) {
    EXPECT_EQ(r.kind, "final") << r.payload;
    if (r.pipeline == "trades") counted += r.values.at("n").integer;
  }
  EXPECT_EQ(counted, in.good) << "every good line is counted once in the tumbling windows";
}

TEST(DaemonFile, BoundedFileRunsToTheEndAndWritesEveryWindowAsFinal) {
  TempDir dir;
  const Input in = makeInput(5, 400, 7);
  // Some lines end in CRLF; the last one, a good event, has no line end at all.
  ASSERT_NE(in.lines.back().find("\"ts\""), std::string::npos);
  std::string text;
  for (std::size_t i = 0; i < in.lines.size(); ++i) {
    std::string line = in.lines[i];
    line.pop_back();
    if (i + 1 < in.lines.size()) line += i % 7 == 3 ? "\r\n" : "\n";
    text += line;
  }
  writeFile(dir.file("in.jsonl"), text);

  Daemon daemon(dir, fileConfig(dir, dir.file("in.jsonl")));
  const auto exit_code = daemon.process().wait(60s);
  ASSERT_TRUE(exit_code.has_value()) << "a bounded input did not end the daemon:\n" << daemon.log();
  EXPECT_EQ(*exit_code, 0) << daemon.log();

  const std::vector<Result> results = readOutput(dir);
  EXPECT_EQ(results.size(), in.trades.windows().size() + in.hop.windows().size() +
                                in.filtered.windows().size() + in.doubled.windows().size() +
                                in.big.windows().size() + in.bands.windows().size() +
                                in.sketches.windows().size() + in.sketch_hop.windows().size());
  expectOutputMatches(results, in);
  // Hopping windows reach two slides before the first event and past the last.
  EXPECT_EQ(in.hop.windows().size(), 7u);
}

TEST(DaemonFile, FifoInputCountsEveryRefusedLineByReason) {
  TempDir dir;
  Fifo fifo(dir.file("in.fifo"));

  Input in = makeInput(3, 300, 11);
  // Too long a key for the keyed pipelines; hop takes it, in its one window still open.
  in.lines.push_back("{\"ts\":" + std::to_string(kBase + 5) + ",\"sym\":\"" +
                     std::string(600, 'k') + "\",\"px\":1}\n");
  in.hop.add(kBase + 5, {}, 1.0, in.max_ts);
  ++in.hop_only;
  in.lines.push_back("{\"pad\":\"" + std::string((1 << 20) + 100, 'p') + "\"}\n");
  ++in.errors["line_too_long"];
  std::string text;
  for (const std::string& line : in.lines) text += line;

  Daemon daemon(dir, fileConfig(dir, fifo.path()));
  ASSERT_TRUE(daemon.waitReady());
  fifo.startWriting(text);
  const std::int64_t lines = static_cast<std::int64_t>(in.lines.size());
  std::string error;
  const auto counted = [&](const Metrics& scraped) {
    const double refused = scraped.sum("rivulet_source_errors_total");
    return scraped.valueOr0("rivulet_source_events_total", {{"source", "replay"}}) + refused ==
           static_cast<double>(lines);
  };
  const auto m = daemon.scrapeUntil(counted, 30s, &error);
  ASSERT_TRUE(fifo.finishWriting()) << "could not write the whole input into the FIFO";
  ASSERT_TRUE(m) << error;
  EXPECT_TRUE(counted(*m)) << "not every line was counted";
  EXPECT_EQ(m->value("rivulet_source_events_total", {{"source", "replay"}}),
            static_cast<double>(in.good + in.hop_only));
  EXPECT_EQ(m->value("rivulet_pipeline_refused_total",
                     {{"pipeline", "trades"}, {"reason", "missing_field"}}),
            static_cast<double>(in.hop_only - 1));
  EXPECT_EQ(m->value("rivulet_pipeline_refused_total",
                     {{"pipeline", "trades"}, {"reason", "key_too_long"}}),
            1.0);
  for (const Sample& s : m->all("rivulet_pipeline_refused_total")) {
    if (s.labels.at("pipeline") == "hop") {
      EXPECT_EQ(s.value, 0.0) << s.labels.at("reason");
    }
  }
  for (const Sample& s : m->all("rivulet_source_errors_total")) {
    const auto it = in.errors.find(s.labels.at("reason"));
    EXPECT_EQ(s.value, it == in.errors.end() ? 0 : static_cast<double>(it->second))
        << s.labels.at("reason");
  }
  for (const auto& [reason, n] : in.errors) {
    EXPECT_TRUE(m->value("rivulet_source_errors_total", {{"source", "replay"}, {"reason", reason}}))
        << "no counter for " << reason;
  }

  fifo.close();
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value()) << "end of the FIFO did not end the daemon";
  EXPECT_EQ(*exit_code, 0);
  expectOutputMatches(readOutput(dir), in);
}

// Runs the daemon on `yaml` to the end of its bounded input: it must exit 0 by itself.
void runToTheEnd(const TempDir& dir, const std::string& yaml) {
  Daemon daemon(dir, yaml);
  const auto exit_code = daemon.process().wait(60s);
  ASSERT_TRUE(exit_code.has_value()) << "a generator with count did not end the daemon";
  EXPECT_EQ(*exit_code, 0) << daemon.log();
}

// A generator from kBase, ending after `count` events.
config::GeneratorSpec boundedGenerator(int keys, int events_per_second, int count,
                                       std::uint64_t seed) {
  config::GeneratorSpec spec;
  spec.keys = keys;
  spec.events_per_second = events_per_second;
  spec.count = count;
  spec.start_ms = kBase;
  spec.seed = seed;
  return spec;
}

// Source "gen" of `spec`, unthrottled.
std::string generatorSourceYaml(const config::GeneratorSpec& spec) {
  return generatorYaml(
      "gen", static_cast<int>(spec.keys), static_cast<int>(spec.events_per_second), 0,
      "    seed: " + std::to_string(spec.seed) + "\n    start: " + std::to_string(*spec.start_ms) +
          "\n    count: " + std::to_string(spec.count) + "\n");
}

TEST(DaemonFile, GeneratorRunMatchesTheGeneratorFunction) {
  TempDir dir;
  const config::GeneratorSpec spec = boundedGenerator(100, 100000, 200000, 1);
  ASSERT_NO_FATAL_FAILURE(runToTheEnd(
      dir,
      daemonYaml(dir, {.output = dir.file("out.jsonl"), .stages = 0}) + "sources:\n" +
          generatorSourceYaml(spec) + "pipelines:\n" +
          perKeyPipelineYaml("per_key", "gen", "      n: count()\n      total: sum(value)\n")));

  WindowReference reference("per_key", {"key"}, 1000, 1000);
  for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(spec.count); ++i) {
    const connectors::GeneratedEvent e = connectors::generateEvent(spec, kBase, i);
    reference.add(e.ts_ms, {"k" + std::to_string(e.key)}, e.value);
  }
  ASSERT_EQ(reference.windows().size(), 200u);  // 2 windows x 100 keys

  const std::vector<Result> results = readOutput(dir);
  EXPECT_EQ(results.size(), 200u);
  std::int64_t total = 0;
  std::set<std::int64_t> starts;
  for (const Result& r : results) {
    total += r.values.count("n") ? r.values.at("n").integer : 0;
    starts.insert(r.start);
  }
  EXPECT_EQ(total, 200000);
  EXPECT_EQ(starts, (std::set<std::int64_t>{kBase, kBase + 1000}));
  expectResultsMatch(results, "final", reference, {{"n", Agg::kCount}, {"total", Agg::kSum}},
                     [](const WindowId&) { return true; });
  expectSeqWithoutGaps(results);
}

// max_keys: each 1 s window admits the first 7 keys that reach it (one stage, one source: arrival
// order is the generator's order) and refuses the rest; every result matches a reference that does
// the same, and nothing else is published.
TEST(DaemonFile, MaxKeysAdmitsTheFirstKeysOfEachWindow) {
  TempDir dir;
  const config::GeneratorSpec spec = boundedGenerator(50, 1000, 5000, 3);
  ASSERT_NO_FATAL_FAILURE(
      runToTheEnd(dir, daemonYaml(dir, {.output = dir.file("out.jsonl"), .stages = 1}) +
                           "sources:\n" + generatorSourceYaml(spec) +
                           "pipelines:\n  bounded:\n    from: gen\n    group_by: [key]\n"
                           "    window: {tumbling: 1s}\n    max_keys: 7\n"
                           "    aggregates:\n      n: count()\n      total: sum(value)\n"));

  WindowReference reference("bounded", {"key"}, 1000, 1000);
  std::map<std::int64_t, std::set<std::uint64_t>> admitted;  // window start -> keys
  std::int64_t refused = 0;
  for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(spec.count); ++i) {
    const connectors::GeneratedEvent e = connectors::generateEvent(spec, kBase, i);
    std::set<std::uint64_t>& keys = admitted[e.ts_ms - e.ts_ms % 1000];
    if (!keys.contains(e.key) && keys.size() == 7) {
      ++refused;
      continue;
    }
    keys.insert(e.key);
    reference.add(e.ts_ms, {"k" + std::to_string(e.key)}, e.value);
  }
  ASSERT_EQ(reference.windows().size(), 35u);  // 5 windows x 7 keys
  ASSERT_GT(refused, 0);

  const std::vector<Result> results = readOutput(dir);
  EXPECT_EQ(results.size(), 35u);
  expectResultsMatch(results, "final", reference, {{"n", Agg::kCount}, {"total", Agg::kSum}},
                     [](const WindowId&) { return true; });
  expectSeqWithoutGaps(results);
}

}  // namespace
}  // namespace rivulet::testutil
