// Checkpoints (daemon.checkpoint): the daemon killed with SIGKILL at random points and restarted
// each time publishes the same final results as a run without crashes — none lost, none counted
// twice; results published before a crash may come again, identical (same values, same seq).
// Also: a stop takes a last checkpoint instead of publishing partial windows, and a corrupt or
// incompatible checkpoint stops the start unless --discard-checkpoint is given.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;

// A throttled generator (bounded: it ends by itself), so a run lasts long enough to be killed
// in the middle; every window kind, sketches, a pipeline reading a pipeline and a join, whose
// state must survive too.
std::string generatorConfig(const TempDir& dir, int count, int throttle,
                            const std::string& window = "{tumbling: 1s}") {
  return daemonYaml(dir,
                    {.output = dir.file("out.jsonl"),
                     .more = "  checkpoint: {dir: " + dir.file("state") + ", interval: 100ms}\n"}) +
         "sources:\n"
         "  gen:\n"
         "    kind: generator\n"
         "    keys: 40\n"
         "    events_per_second: 2000\n"
         "    seed: 7\n"
         "    start: " +
         std::to_string(kBase) + "\n    count: " + std::to_string(count) +
         "\n    throttle: " + std::to_string(throttle) +
         "\n"
         "pipelines:\n"
         "  tumbling:\n"
         "    from: gen\n"
         "    group_by: [key]\n"
         "    window: " +
         window +
         "\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(value)\n"
         "      high: max(value)\n"
         "      median: p50(value)\n"
         "  hopping:\n"
         "    from: gen\n"
         "    window: {hopping: {size: 3s, slide: 1s}}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(value)\n"
         "      keys: count_distinct(key)\n"
         "  sessions:\n"
         "    from: gen\n"
         "    group_by: [key]\n"
         "    window: {session: {gap: 30ms}}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      first_value: first(value)\n"
         // A second tier: its state and the barriers through it must survive too.
         "  per_window:\n"
         "    from: tumbling\n"
         "    window: upstream\n"
         "    aggregates:\n"
         "      keys: count()\n"
         "      events: sum(n)\n"
         "      top_total: max(total)\n"
         // And a join of its rows, in the same tier.
         "  joined:\n"
         "    join:\n"
         "      left: {from: tumbling, key: [key], fields: [n]}\n"
         "      right: {from: tumbling, key: [key], fields: [{sum: total}]}\n"
         "    window: upstream\n";
}

struct Published {
  std::string pipeline;
  std::int64_t start, end;
  std::string key;
  std::int64_t seq;
  std::string kind;
  std::string values;  // the payload without pipeline and seq: what must be identical
};

// The result lines of the output file, each parsed far enough to compare.
std::vector<Published> readPublished(const std::string& path) {
  std::vector<Published> out;
  for (const Message& m : messagesFromJsonLines(readFile(path))) {
    std::string error;
    const auto r = parseResult(m, &error);
    EXPECT_TRUE(r.has_value()) << error << ": " << m.payload;
    if (!r) continue;
    std::string values = m.payload;
    values.erase(0, values.find(",\"kind\""));
    std::string key;
    for (const auto& [field, value] : r->key) key += field + "=" + value + ";";
    out.push_back({r->pipeline, r->start, r->end, key, r->seq, r->kind, values});
  }
  return out;
}

using WindowKey = std::tuple<std::string, std::int64_t, std::int64_t, std::string>;

// Final results by (pipeline, window, key); fails on two different ones for the same window.
std::map<WindowKey, std::string> finals(const std::vector<Published>& published) {
  std::map<WindowKey, std::string> out;
  for (const Published& p : published) {
    EXPECT_EQ(p.kind, "final") << p.pipeline << " " << p.key << " " << p.values;
    const WindowKey key{p.pipeline, p.start, p.end, p.key};
    const auto [it, inserted] = out.emplace(key, p.values);
    if (!inserted && it->second != p.values) {
      ADD_FAILURE() << "window published twice with different values: " << p.pipeline << " "
                    << p.key << " [" << p.start << ", " << p.end << ")\n  " << it->second << "\n  "
                    << p.values;
    }
  }
  return out;
}

// The same windows with the same values; the differences (up to 20) are reported.
void expectSameFinals(const std::map<WindowKey, std::string>& got,
                      const std::map<WindowKey, std::string>& want) {
  EXPECT_EQ(got.size(), want.size());
  int reported = 0;
  const auto name = [](const WindowKey& key) {
    return std::get<0>(key) + " " + std::get<3>(key) + " [" + std::to_string(std::get<1>(key)) +
           ", " + std::to_string(std::get<2>(key)) + ")";
  };
  for (const auto& [key, values] : want) {
    const auto it = got.find(key);
    if (it == got.end()) {
      if (reported++ < 20) ADD_FAILURE() << "window lost: " << name(key);
    } else if (it->second != values && reported++ < 20) {
      ADD_FAILURE() << name(key) << "\n  got  " << it->second << "\n  want " << values;
    }
  }
  for (const auto& [key, values] : got) {
    if (!want.contains(key) && reported++ < 20) ADD_FAILURE() << "unexpected window " << name(key);
  }
}

std::map<WindowKey, std::string> runWithoutCrashes(int count) {
  TempDir dir;
  Daemon daemon(dir, generatorConfig(dir, count, 1'000'000));
  EXPECT_EQ(daemon.process().wait(120s), 0) << daemon.log();
  return finals(readPublished(dir.file("out.jsonl")));
}

TEST(Checkpoint, KilledAtRandomPointsPublishesEveryWindowOnceWithTheSameValues) {
  constexpr int kCount = 24'000;  // 12 s of event time
  const std::map<WindowKey, std::string> want = runWithoutCrashes(kCount);
  ASSERT_GT(want.size(), 500u);

  TempDir dir;
  const std::string output = dir.file("out.jsonl");
  const std::string config = generatorConfig(dir, kCount, 8'000);  // ~3 s per uninterrupted run
  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  int kills = 0;
  for (; kills < 4; ++kills) {
    Daemon daemon(dir, config);
    ASSERT_TRUE(daemon.waitReady());
    if (kills > 0) {
      EXPECT_NE(daemon.log().find("resuming from checkpoint"), std::string::npos) << daemon.log();
    }
    // A random point after a new checkpoint (so that every restart restores one): up to 400
    // more results later.
    const std::string checkpoint = dir.file("state") + "/checkpoint";
    const std::string restored = readFile(checkpoint);
    waitUntil([&] { return readFile(checkpoint) != restored || !daemon.process().running(); }, 60s);
    const std::size_t lines = splitLines(readFile(output)).size();
    const std::size_t more = std::uniform_int_distribution<std::size_t>(0, 400)(random);
    waitUntil(
        [&] {
          return splitLines(readFile(output)).size() >= lines + more || !daemon.process().running();
        },
        60s);
    if (!daemon.process().running()) break;  // finished before the kill
    ASSERT_EQ(::kill(daemon.process().pid(), SIGKILL), 0);
    ASSERT_EQ(daemon.process().wait(10s), 128 + SIGKILL);
  }
  Daemon last(dir, config);
  ASSERT_EQ(last.process().wait(120s), 0) << last.log();
  EXPECT_GE(kills, 2) << "the runs ended before they could be killed: slow the generator down";

  const std::vector<Published> published = readPublished(output);
  expectSameFinals(finals(published), want);
  // seq goes on from the checkpoint: a run resumed publishes from the checkpoint's next seq (the
  // ones published between the checkpoint and the crash come again), so every pipeline's seqs
  // still cover 1..max without a gap a subscriber would take for a lost message.
  std::map<std::string, std::set<std::int64_t>> seqs;
  for (const Published& p : published) seqs[p.pipeline].insert(p.seq);
  for (const auto& [pipeline, numbers] : seqs) {
    EXPECT_EQ(*numbers.begin(), 1) << pipeline;
    EXPECT_EQ(static_cast<std::int64_t>(numbers.size()), *numbers.rbegin()) << pipeline;
  }
}

TEST(Checkpoint, StopTakesALastCheckpointInsteadOfPartialWindows) {
  constexpr int kCount = 16'000;
  const std::map<WindowKey, std::string> want = runWithoutCrashes(kCount);

  TempDir dir;
  const std::string config = generatorConfig(dir, kCount, 8'000);
  {
    Daemon daemon(dir, config);
    ASSERT_TRUE(daemon.waitReady());
    waitUntil([&] { return splitLines(readFile(dir.file("out.jsonl"))).size() >= 200; }, 60s);
    std::string error;
    const auto metrics = daemon.scrapeUntil(
        [](const Metrics& scraped) {
          return scraped.valueOr0("rivulet_checkpoints_total", {{"result", "written"}}) > 0;
        },
        30s, &error);
    ASSERT_TRUE(metrics.has_value()) << error;
    EXPECT_GT(metrics->valueOr0("rivulet_checkpoints_total", {{"result", "written"}}), 0);
    EXPECT_EQ(metrics->valueOr0("rivulet_checkpoints_total", {{"result", "failed"}}), 0);
    EXPECT_GT(metrics->valueOr0("rivulet_checkpoint_size_bytes"), 0);
    EXPECT_GT(metrics->valueOr0("rivulet_checkpoint_last_timestamp_seconds"), 1.7e9);
    ASSERT_EQ(::kill(daemon.process().pid(), SIGTERM), 0);
    ASSERT_EQ(daemon.process().wait(30s), 0) << daemon.log();
    EXPECT_NE(daemon.log().find("taking a last checkpoint"), std::string::npos) << daemon.log();
  }
  struct stat st {};
  EXPECT_EQ(::stat((dir.file("state") + "/checkpoint").c_str(), &st), 0);
  Daemon resumed(dir, config);
  ASSERT_EQ(resumed.process().wait(120s), 0) << resumed.log();
  EXPECT_NE(resumed.log().find("resuming from checkpoint"), std::string::npos) << resumed.log();
  // finals() fails on any partial result; every window is there once, as without the stop.
  expectSameFinals(finals(readPublished(dir.file("out.jsonl"))), want);
}

TEST(Checkpoint, CorruptCheckpointStopsTheStartUnlessDiscarded) {
  TempDir dir;
  const std::string config = generatorConfig(dir, 4'000, 8'000);  // ~0.5 s: a few checkpoints
  {
    Daemon daemon(dir, config);
    ASSERT_EQ(daemon.process().wait(60s), 0) << daemon.log();
  }
  const std::string path = dir.file("state") + "/checkpoint";
  std::string bytes = readFile(path);
  ASSERT_GT(bytes.size(), 64u) << "no checkpoint was written";
  bytes[bytes.size() / 2] ^= 0x20;
  writeFile(path, bytes);
  {
    Daemon refused(dir, config);
    EXPECT_EQ(refused.process().wait(30s), 3);
    EXPECT_NE(refused.log().find(path + ": checksum mismatch"), std::string::npos) << refused.log();
    EXPECT_NE(refused.log().find("--discard-checkpoint"), std::string::npos);
  }
  Daemon discarded(dir, config, {"--discard-checkpoint"});
  EXPECT_EQ(discarded.process().wait(60s), 0) << discarded.log();
  EXPECT_NE(discarded.log().find("moved aside"), std::string::npos) << discarded.log();
  EXPECT_EQ(readFile(path + ".discarded"), bytes);
}

TEST(Checkpoint, CheckpointOfAnotherConfigIsRefused) {
  TempDir dir;
  {
    Daemon daemon(dir, generatorConfig(dir, 4'000, 8'000));
    ASSERT_EQ(daemon.process().wait(60s), 0) << daemon.log();
  }
  Daemon other(dir, generatorConfig(dir, 4'000, 8'000, "{tumbling: 2s}"));
  EXPECT_EQ(other.process().wait(30s), 3);
  EXPECT_NE(other.log().find("taken with other pipelines"), std::string::npos) << other.log();
}

}  // namespace
}  // namespace rivulet::testutil
