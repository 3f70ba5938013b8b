// Live reloads through the real threads of an Engine (two sources, two stages, the publisher)
// while the data flows: a pipeline is added and removed again and again, with checkpoints
// between the reloads on the same board. Every reload and checkpoint completes, and the pipelines
// kept throughout publish exactly what a run without reloads publishes: no event of theirs is
// lost or counted twice at a switch. Under ThreadSanitizer this checks the hand-over of the new
// set of pipelines to the threads, and the retiring of the old one.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "config/loader.h"
#include "daemon/engine.h"

namespace rivulet::daemon {
namespace {

constexpr const char* kKept =
    "  counts:\n    from: [a, b]\n    group_by: [key]\n    window: {tumbling: 1s}\n"
    "    aggregates:\n      n: count()\n      high: max(value)\n"
    "  sessions:\n    from: a\n    group_by: [key]\n    window: {session: {gap: 40ms}}\n"
    "    aggregates:\n      n: count()\n";

// The extra pipeline reads a field the others do not, so the sources' field lists change too.
constexpr const char* kExtra =
    "  extra:\n    from: b\n    window: {hopping: {size: 2s, slide: 500ms}}\n"
    "    aggregates:\n      low: min(value)\n      p90: p90(value)\n";

std::string configYaml(const std::string& output, bool extra) {
  std::string yaml = "daemon:\n  publish: inproc://reload-" +
                     std::filesystem::path(output).stem().string() + "\n  output: " + output +
                     "\n  stages: 2\n  log_level: warn\n  checkpoint: {dir: " + output +
                     ".state}\nsources:\n";
  for (const char* seed : {"1", "2"}) {
    yaml += std::string("  ") + (seed[0] == '1' ? "a" : "b") +
            ":\n    kind: generator\n    keys: 20\n    events_per_second: 1000\n    seed: " + seed +
            "\n    start: 1700000000000\n    count: 60000\n    throttle: 30000\n";
  }
  return yaml + "pipelines:\n" + (extra ? std::string(kExtra) : "") + kKept;
}

config::Config load(const std::string& yaml) {
  config::LoadResult loaded = config::loadString(yaml, "test.yaml");
  if (!loaded.config) ADD_FAILURE() << loaded.errors.front().toString();
  return *loaded.config;
}

// The result lines of the kept pipelines, without their seq (the order of two stages' results
// varies between runs).
std::multiset<std::string> keptResults(const std::string& path) {
  std::multiset<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("{\"pipeline\":\"extra\"")) continue;
    const std::size_t seq = line.find(",\"seq\":");
    const std::size_t next = line.find(',', seq + 1);
    out.insert(line.substr(0, seq) + line.substr(next));
  }
  return out;
}

void nap() {
  const timespec ts{0, 200'000};
  nanosleep(&ts, nullptr);
}

TEST(ReloadEngine, ReloadsBetweenCheckpointsChangeNoResultOfTheKeptPipelines) {
  std::string pattern = std::filesystem::temp_directory_path() / "rivulet-reload-engine-XXXXXX";
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;

  {
    Engine engine(load(configYaml(dir + "/plain.jsonl", false)));
    engine.start();
    engine.join();
  }

  const std::string output = dir + "/reloaded.jsonl";
  const config::Config without = load(configYaml(output, false));
  const config::Config with = load(configYaml(output, true));
  int reloads = 0;
  int checkpoints = 0;
  // Per kept pipeline, as its metrics say at the end: results published, latencies observed.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> counted;
  {
    Engine engine(without);
    pipeline::CheckpointBoard& board = engine.checkpoints();
    engine.start();
    for (bool add = true; !engine.finished(); add = !add) {
      const std::optional<ReloadPlan> plan = engine.beginReload(add ? with : without);
      ASSERT_TRUE(plan.has_value()) << "the board is idle between barriers";
      EXPECT_EQ(plan->kept, (std::vector<std::string>{"counts", "sessions"}));
      EXPECT_EQ(plan->added.size(), add ? 1u : 0u);
      EXPECT_EQ(plan->removed.size(), add ? 0u : 1u);
      // Until every thread has switched, or every thread is done (a barrier requested as the
      // inputs end may find no source left to send it).
      while (!engine.reloadDone() && !engine.finished()) nap();
      if (!engine.reloadDone()) break;
      ++reloads;
      const std::uint64_t id = board.nextId();
      board.request(id);
      while (board.completed() < id && !engine.finished()) nap();
      if (board.completed() < id) break;
      ++checkpoints;
    }
    engine.join();
    const std::shared_ptr<const PipelineSet> set = engine.pipelineSet();
    for (std::size_t p = 0; p < set->plans.size(); ++p) {
      const pipeline::PipelinePublishStats& stats = *set->publish_stats[p];
      std::uint64_t observed = 0;
      for (const pipeline::Counter& bucket : stats.latency_buckets) observed += bucket.load();
      counted[set->plans[p].name] = {stats.publishedTotal(), observed};
    }
  }
  EXPECT_GE(reloads, 3);
  EXPECT_GE(checkpoints, 3);
  const std::multiset<std::string> got = keptResults(output);
  const std::multiset<std::string> want = keptResults(dir + "/plain.jsonl");
  EXPECT_EQ(got.size(), want.size());
  int reported = 0;
  for (const std::string& r : want) {
    if (got.count(r) != want.count(r) && reported++ < 10) ADD_FAILURE() << "want " << r;
  }
  for (const std::string& r : got) {
    if (got.count(r) != want.count(r) && reported++ < 20) ADD_FAILURE() << "got " << r;
  }
  // A kept pipeline's counters went on through every reload: they count all its results.
  for (const char* name : {"counts", "sessions"}) {
    const std::string prefix = std::string("{\"pipeline\":\"") + name + "\"";
    const auto results = static_cast<std::uint64_t>(std::count_if(
        got.begin(), got.end(), [&](const std::string& r) { return r.starts_with(prefix); }));
    EXPECT_GT(results, 0u) << name;
    EXPECT_EQ(counted[name].first, results) << name << ": results published";
    EXPECT_EQ(counted[name].second, results) << name << ": emit latencies observed";
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rivulet::daemon
