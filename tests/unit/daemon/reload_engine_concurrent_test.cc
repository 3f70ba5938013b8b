// Live reloads through the real threads of an Engine (two sources, two stages, the publisher)
// while the data flows: a pipeline is added and removed again and again, with checkpoints
// between the reloads on the same board. Every reload and checkpoint completes, and the pipelines
// kept throughout publish exactly what a run without reloads publishes: no event of theirs is
// lost or counted twice at a switch. Under ThreadSanitizer this checks the hand-over of the new
// set of pipelines to the threads, and the retiring of the old one.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "daemon/engine.h"
#include "tests/support/engine_runs.h"
#include "tests/support/files.h"
#include "tests/support/plans.h"
#include "tests/support/wait.h"

namespace rivulet::daemon {
namespace {

using testutil::Clock;
using testutil::loadConfig;
using testutil::waitUntil;
using namespace std::chrono_literals;

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
  return "daemon:\n  publish: inproc://reload-" + std::filesystem::path(output).stem().string() +
         "\n  output: " + output +
         "\n  stages: 2\n  log_level: warn\n  checkpoint: {dir: " + output + ".state}\n" +
         testutil::twoGeneratorSources() + "pipelines:\n" + (extra ? std::string(kExtra) : "") +
         kKept;
}

TEST(ReloadEngine, ReloadsBetweenCheckpointsChangeNoResultOfTheKeptPipelines) {
  const testutil::TempDir dir("rivulet-reload-engine");
  {
    Engine engine(loadConfig(configYaml(dir.file("plain.jsonl"), false)));
    engine.start();
    engine.join();
  }

  const std::string output = dir.file("reloaded.jsonl");
  const config::Config without = loadConfig(configYaml(output, false));
  const config::Config with = loadConfig(configYaml(output, true));
  int reloads = 0;
  int checkpoints = 0;
  // Per kept pipeline, as its metrics say at the end: results published, latencies observed.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> counted;
  {
    Engine engine(without);
    pipeline::CheckpointBoard& board = engine.checkpoints();
    engine.start();
    // The inputs end after ~2 s: every wait below ends well before this.
    const Clock::time_point deadline = Clock::now() + testutil::kDeadline;
    for (bool add = true; !engine.finished(); add = !add) {
      const std::optional<ReloadPlan> plan = engine.beginReload(add ? with : without);
      ASSERT_TRUE(plan.has_value()) << "the board is idle between barriers";
      EXPECT_EQ(plan->kept, (std::vector<std::string>{"counts", "sessions"}));
      EXPECT_EQ(plan->added.size(), add ? 1u : 0u);
      EXPECT_EQ(plan->removed.size(), add ? 0u : 1u);
      // Until every thread has switched, or every thread is done (a barrier requested as the
      // inputs end may find no source left to send it).
      // A failure joins the engine rather than leave it running.
      if (!waitUntil([&] { return engine.reloadDone() || engine.finished(); },
                     deadline - Clock::now(), 200us)) {
        ADD_FAILURE() << "reload " << reloads + 1 << " neither done nor met the end of the inputs";
        break;
      }
      if (!engine.reloadDone()) break;
      ++reloads;
      const auto finished = [&] { return engine.finished(); };
      if (!testutil::completeCheckpoint(board, board.nextId(), finished, deadline)) break;
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
  const std::multiset<std::string> got = testutil::resultsWithoutSeq(output, {"extra"});
  testutil::expectSameResults(got, testutil::resultsWithoutSeq(dir.file("plain.jsonl"), {"extra"}));
  // A kept pipeline's counters went on through every reload: they count all its results.
  for (const char* name : {"counts", "sessions"}) {
    const std::string prefix = std::string("{\"pipeline\":\"") + name + "\"";
    const auto results = static_cast<std::uint64_t>(std::count_if(
        got.begin(), got.end(), [&](const std::string& r) { return r.starts_with(prefix); }));
    EXPECT_GT(results, 0u) << name;
    EXPECT_EQ(counted[name].first, results) << name << ": results published";
    EXPECT_EQ(counted[name].second, results) << name << ": emit latencies observed";
  }
}

}  // namespace
}  // namespace rivulet::daemon
