// Checkpoint barriers through the real threads of an Engine (two sources, two stages per tier, a
// second tier fed by the first, the publisher), checkpoints requested back to back while the data
// flows: every one completes,
// every part it leaves is restorable, and the results are those of a run without checkpoints.
// Under ThreadSanitizer this checks the hand-over of the parts between the threads.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/engine.h"
#include "tests/support/engine_runs.h"
#include "tests/support/files.h"
#include "tests/support/plans.h"
#include "tests/support/wait.h"

namespace rivulet::daemon {
namespace {

using testutil::Clock;
using testutil::loadConfig;

std::string configYaml(const std::string& output, const std::string& name, bool checkpoints) {
  std::string yaml = "daemon:\n  publish: inproc://checkpoint-" + name + "\n  output: " + output +
                     "\n  stages: 2\n  log_level: warn\n";
  if (checkpoints) yaml += "  checkpoint: {dir: " + output + ".state}\n";
  return yaml + testutil::twoGeneratorSources() +
         "pipelines:\n  counts:\n    from: [a, b]\n    group_by: [key]\n"
         "    window: {tumbling: 1s}\n    aggregates:\n      n: count()\n      high: max(value)\n"
         "  sessions:\n    from: a\n    group_by: [key]\n    window: {session: {gap: 40ms}}\n"
         "    aggregates:\n      n: count()\n"
         // A second tier: the feeds' rings and the barriers through them.
         "  per_second:\n    from: counts\n    window: upstream\n"
         "    aggregates: {keys: count(), events: sum(n)}\n"
         "  pairs:\n    join:\n      left: {from: counts, key: [key], fields: [n]}\n"
         "      right: {from: counts, key: [key], fields: [high]}\n    window: upstream\n";
}

TEST(CheckpointEngine, BackToBackCheckpointsCompleteAndChangeNoResult) {
  const testutil::TempDir dir("rivulet-ckpt-engine");
  {
    Engine engine(loadConfig(configYaml(dir.file("plain.jsonl"), "plain", false)));
    engine.start();
    engine.join();
  }

  const config::Config config =
      loadConfig(configYaml(dir.file("checkpointed.jsonl"), "ckpt", true));
  int completed = 0;
  {
    Engine engine(config);
    pipeline::CheckpointBoard& board = engine.checkpoints();
    engine.start();
    // The inputs end after ~2 s: every wait below ends well before this.
    const Clock::time_point deadline = Clock::now() + testutil::kDeadline;
    for (std::uint64_t id = 1; !engine.finished(); ++id) {
      if (!testutil::completeCheckpoint(
              board, id, [&] { return engine.finished(); }, deadline))
        break;
      ++completed;
      CheckpointData data;
      data.fingerprint = engine.fingerprint();
      data.id = id;
      for (const auto& source : config.sources) data.source_names.push_back(source.name);
      data.sources = board.positions(id);
      data.stages = board.stages();
      data.publisher = board.publisher();
      const CheckpointRead read = decodeCheckpoint(encodeCheckpoint(data), engine.fingerprint());
      ASSERT_EQ(read.status, CheckpointRead::Status::kOk) << read.message;
      // Every part fits a fresh engine of the same config (it throws if one does not).
      if (id % 8 == 1) {
        const config::Config again =
            loadConfig(configYaml(dir.file("restored.jsonl"), "r" + std::to_string(id), true));
        EXPECT_NO_THROW(Engine restored(again, &read.data)) << "checkpoint " << id;
      }
    }
    engine.join();
  }
  EXPECT_GE(completed, 3);
  testutil::expectSameResults(testutil::resultsWithoutSeq(dir.file("checkpointed.jsonl")),
                              testutil::resultsWithoutSeq(dir.file("plain.jsonl")));
}

}  // namespace
}  // namespace rivulet::daemon
