// Checkpoint barriers through the real threads of an Engine (two sources, two stages, the
// publisher), checkpoints requested back to back while the data flows: every one completes,
// every part it leaves is restorable, and the results are those of a run without checkpoints.
// Under ThreadSanitizer this checks the hand-over of the parts between the threads.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "config/loader.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/engine.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

std::string configYaml(const std::string& output, const std::string& name, bool checkpoints) {
  std::string yaml = "daemon:\n  publish: inproc://checkpoint-" + name + "\n  output: " + output +
                     "\n  stages: 2\n  log_level: warn\n";
  if (checkpoints) yaml += "  checkpoint: {dir: " + output + ".state}\n";
  yaml += "sources:\n";
  for (const char* seed : {"1", "2"}) {
    yaml += std::string("  ") + (seed[0] == '1' ? "a" : "b") +
            ":\n    kind: generator\n    keys: 20\n    events_per_second: 1000\n    seed: " + seed +
            "\n    start: 1700000000000\n    count: 60000\n    throttle: 30000\n";
  }
  yaml +=
      "pipelines:\n  counts:\n    from: [a, b]\n    group_by: [key]\n    window: {tumbling: 1s}\n"
      "    aggregates:\n      n: count()\n      high: max(value)\n"
      "  sessions:\n    from: a\n    group_by: [key]\n    window: {session: {gap: 40ms}}\n"
      "    aggregates:\n      n: count()\n";
  return yaml;
}

config::Config load(const std::string& yaml) {
  config::LoadResult loaded = config::loadString(yaml, "test.yaml");
  if (!loaded.config) ADD_FAILURE() << loaded.errors.front().toString();
  return *loaded.config;
}

// The result lines without their seq (the order of two stages' results varies between runs).
// The aggregates do not depend on the order in which two sources' events meet in a stage (a sum
// would, in its last bits).
std::multiset<std::string> results(const std::string& path) {
  std::multiset<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
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

TEST(CheckpointEngine, BackToBackCheckpointsCompleteAndChangeNoResult) {
  std::string pattern = std::filesystem::temp_directory_path() / "rivulet-ckpt-engine-XXXXXX";
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;

  {
    const config::Config plain = load(configYaml(dir + "/plain.jsonl", "plain", false));
    Engine engine(plain);
    engine.start();
    engine.join();
  }

  const config::Config config = load(configYaml(dir + "/checkpointed.jsonl", "ckpt", true));
  int completed = 0;
  {
    Engine engine(config);
    pipeline::CheckpointBoard& board = engine.checkpoints();
    engine.start();
    for (std::uint64_t id = 1; !engine.finished(); ++id) {
      board.request(id);
      // Until the publisher completes it, or every thread is done (a checkpoint requested as
      // the inputs end may find no source left to send its barrier).
      while (board.completed() < id && !engine.finished()) nap();
      if (board.completed() < id) break;
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
            load(configYaml(dir + "/restored.jsonl", "r" + std::to_string(id), true));
        EXPECT_NO_THROW(Engine restored(again, &read.data)) << "checkpoint " << id;
      }
    }
    engine.join();
  }
  EXPECT_GE(completed, 3);
  const std::multiset<std::string> got = results(dir + "/checkpointed.jsonl");
  const std::multiset<std::string> want = results(dir + "/plain.jsonl");
  EXPECT_EQ(got.size(), want.size());
  int reported = 0;
  for (const std::string& r : want) {
    if (got.count(r) != want.count(r) && reported++ < 10) ADD_FAILURE() << "want " << r;
  }
  for (const std::string& r : got) {
    if (got.count(r) != want.count(r) && reported++ < 20) ADD_FAILURE() << "got " << r;
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rivulet::daemon
