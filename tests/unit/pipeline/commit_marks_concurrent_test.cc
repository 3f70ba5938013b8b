// Commit marks through the real threads: a source routes a second of events at a time into two
// stages, then a mark; the stages pass a mark on only once the windows of the events before it
// are closed, and the publisher records it on the CommitBoard only after handing their results to
// the output. Checked at every step: a mark the board calls safe has every result it covers
// already out, and a mark whose windows are still open is not safe. With a second tier (a
// pipeline reading the first's results), a mark travels through the feeds and is safe only once
// the second tier's results it covers are out too. Runs under ThreadSanitizer in CI (label
// "concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/plan_graph.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/commit_board.h"
#include "pipeline/event_router.h"
#include "pipeline/publisher.h"
#include "pipeline/result_feed.h"
#include "pipeline/stage.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/slowdown.h"
#include "tests/support/wait.h"

namespace rivulet::pipeline {
namespace {

using testutil::kDeadline;

// Results as the publisher hands them over, with the end of each window.
class Recorder final : public ResultOutput {
 public:
  void send(std::string_view, std::string_view payload) override {
    const std::size_t at = payload.find("\"end\":");
    const std::int64_t end_ms = std::stoll(std::string(payload.substr(at + 6)));
    std::lock_guard lock(mutex_);
    ends_.push_back(end_ms);
  }
  // Results of windows ending at or before `end_ms`.
  std::size_t endingBy(std::int64_t end_ms) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const std::int64_t e : ends_) n += e <= end_ms;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::int64_t> ends_;
};

bool waitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Routes `seconds` seconds of events, three per key each second, and after each second flushes
// and sends a mark. Checks at every step that the mark before is safe with its results out
// (`results_per_second` per second of windows it covers), and that the new one is not yet.
void routeSecondsWithMarks(EventRouter& router, const CommitBoard& board, const Recorder& recorder,
                           int seconds, int keys, std::size_t results_per_second) {
  const std::vector<std::string>& fields = router.plan().fields;
  std::vector<config::FieldValue> values(fields.size());
  std::string key;
  std::int64_t steady = 1'000'000'000;
  for (int second = 0; second < seconds; ++second) {
    // Events of this second for every key: the watermark (latest time, no delay) passes the end
    // of the previous second's window, not of this one's.
    for (int i = 0; i < 3 * keys; ++i) {
      key = "k" + std::to_string(i % keys);
      for (std::size_t f = 0; f < fields.size(); ++f) {
        config::FieldValue& v = values[f];
        v = config::FieldValue{};
        if (fields[f] == "ts") {
          v.type = config::FieldType::kNumber;
          v.is_integer = true;
          v.integer = second * 1000 + i * 30;
          v.number = static_cast<double>(v.integer);
        } else {
          v.type = config::FieldType::kString;
          v.text = key;
        }
      }
      ASSERT_EQ(router.route(values.data(), 0), ErrorReason::kNone);
    }
    router.flush(0, steady += 1'000'000);
    // Mark second + 1 covers the events up to this second: it is safe once window [second,
    // second + 1) is out, which takes the next second's events. The one before is safe now.
    const std::uint64_t mark = static_cast<std::uint64_t>(second) + 1;
    router.mark(mark);
    if (second > 0) {
      ASSERT_TRUE(waitFor([&] { return board.safe(0) >= mark - 1; }))
          << "mark " << mark - 1 << " never became safe";
      // Safe means out: every window up to the end of second - 1 has all its results published.
      EXPECT_EQ(recorder.endingBy(second * 1000),
                static_cast<std::size_t>(second) * results_per_second);
    }
    EXPECT_LT(board.safe(0), mark) << "mark " << mark << " is safe while its window is open";
  }
}

TEST(CommitMarksConcurrent, AMarkIsSafeOnlyOnceTheResultsItCoversAreOut) {
  constexpr int kKeys = 10;
  constexpr int kSeconds = 40 / RIVULET_TEST_SLOWDOWN;
  constexpr std::size_t kStages = 2;
  config::Config config;
  config.sources.push_back(testutil::msSource("src", config::SourceKind::kFile));
  config.pipelines.push_back(testutil::pipelineConfig(
      "counts", "src", {"k"}, {testutil::aggregate("n", config::AggregateKind::kCount)}));
  const std::vector<PipelinePlan> plans{compilePipeline(config, 0, kStages)};
  const std::vector<Aggregates> aggregates{Aggregates(plans[0].aggregates, plans[0].value_index)};

  std::vector<std::unique_ptr<Ring>> inputs, outputs;
  std::vector<std::unique_ptr<PipelineStageStats>> stage_stats;
  for (std::size_t i = 0; i < kStages; ++i) {
    inputs.push_back(std::make_unique<Ring>(1 << 12));
    outputs.push_back(std::make_unique<Ring>(1 << 14));
    stage_stats.push_back(std::make_unique<PipelineStageStats>());
  }
  CommitBoard board(1, kStages);
  Recorder recorder;
  PublisherStats publisher_stats;
  PipelinePublishStats published;
  Publisher publisher(plans, {outputs[0].get(), outputs[1].get()}, {&recorder}, publisher_stats,
                      {&published}, &board);
  std::vector<std::unique_ptr<Stage>> stages;
  for (std::size_t i = 0; i < kStages; ++i) {
    stages.push_back(std::make_unique<Stage>(plans, aggregates, std::vector<Ring*>{inputs[i].get()},
                                             *outputs[i], std::vector{stage_stats[i].get()},
                                             &publisher.doorbell()));
  }
  SourceStats source_stats;
  EventRouter router(planSource(config, 0, plans), {inputs[0].get(), inputs[1].get()}, source_stats,
                     {&stages[0]->doorbell(), &stages[1]->doorbell()});

  std::vector<std::thread> threads;
  for (auto& stage : stages) threads.emplace_back([&stage] { stage->run(); });
  threads.emplace_back([&publisher] { publisher.run(); });

  // A mark is safe once every key's count of the seconds it covers is out.
  ASSERT_NO_FATAL_FAILURE(routeSecondsWithMarks(router, board, recorder, kSeconds, kKeys, kKeys));
  router.end(false);
  for (std::thread& t : threads) t.join();
  // The last mark's window was flushed at the end, not closed by a watermark: never safe.
  EXPECT_EQ(board.safe(0), static_cast<std::uint64_t>(kSeconds - 1));
  EXPECT_EQ(recorder.endingBy(kSeconds * 1000), static_cast<std::size_t>(kSeconds * kKeys));
}

// counts (tier 0) per key and second on two stages; per_second (tier 1) reads its results on two
// stages of its own: one result per second, which a mark must wait for too.
TEST(CommitMarksConcurrent, AMarkWaitsForTheTiersReadingTheResultsItCovers) {
  constexpr int kKeys = 10;
  constexpr int kSeconds = 30 / RIVULET_TEST_SLOWDOWN;
  constexpr std::size_t kStages = 2;
  config::Config config;
  config.sources.push_back(testutil::msSource("src", config::SourceKind::kFile));
  config.pipelines.push_back(testutil::pipelineConfig(
      "counts", "src", {"k"}, {testutil::aggregate("n", config::AggregateKind::kCount)}));
  config.pipelines.push_back(testutil::pipelineConfig(
      "per_second", "counts", {}, {testutil::aggregate("keys", config::AggregateKind::kCount)}));
  const std::vector<PipelinePlan> plans{compilePipeline(config, 0, kStages),
                                        compilePipeline(config, 1, kStages)};
  ASSERT_EQ(plans[1].tier, 1);
  std::vector<Aggregates> aggregates;
  for (const PipelinePlan& plan : plans) aggregates.emplace_back(plan.aggregates, plan.value_index);

  // Rings: source -> tier-0 stage i; tier-0 stage i -> tier-1 stage j (feeds); stage -> publisher.
  std::vector<std::unique_ptr<Ring>> inputs, feeds, outputs;
  std::vector<std::unique_ptr<PipelineStageStats>> stats;
  for (std::size_t i = 0; i < kStages; ++i) inputs.push_back(std::make_unique<Ring>(1 << 12));
  for (std::size_t i = 0; i < kStages * kStages; ++i)
    feeds.push_back(std::make_unique<Ring>(1 << 12));
  std::vector<Ring*> results;
  for (std::size_t g = 0; g < 2 * kStages; ++g) {
    outputs.push_back(std::make_unique<Ring>(1 << 14));
    results.push_back(outputs.back().get());
    for (std::size_t p = 0; p < plans.size(); ++p)
      stats.push_back(std::make_unique<PipelineStageStats>());
  }
  CommitBoard board(1, 2 * kStages);
  Recorder recorder;
  PublisherStats publisher_stats;
  PipelinePublishStats published[2];
  Publisher publisher(plans, results, {&recorder}, publisher_stats, {&published[0], &published[1]},
                      &board, {0, 0, 1, 1});
  std::vector<std::unique_ptr<Stage>> stages;
  for (std::size_t g = 0; g < 2 * kStages; ++g) {
    const bool tier0 = g < kStages;
    std::vector<Ring*> in;
    if (tier0) {
      in.push_back(inputs[g].get());
    } else {
      for (std::size_t from = 0; from < kStages; ++from)
        in.push_back(feeds[from * kStages + (g - kStages)].get());
    }
    stages.push_back(std::make_unique<Stage>(
        plans, aggregates, in, *outputs[g], std::vector{stats[g * 2].get(), stats[g * 2 + 1].get()},
        &publisher.doorbell(), tier0 ? std::vector<int>{0} : std::vector<int>{1, 1},
        tier0 ? 0 : 1));
  }
  const config::Config streams = config::withResultStreams(config);
  for (std::size_t from = 0; from < kStages; ++from) {
    std::vector<Ring*> rings;
    std::vector<Doorbell*> bells;
    for (std::size_t to = 0; to < kStages; ++to) {
      rings.push_back(feeds[from * kStages + to].get());
      bells.push_back(&stages[kStages + to]->doorbell());
    }
    stages[from]->feed(
        0, std::make_unique<ResultFeed>(plans[0], planSource(streams, 1, plans), rings, bells));
  }
  SourceStats source_stats;
  EventRouter router(planSource(config, 0, plans), {inputs[0].get(), inputs[1].get()}, source_stats,
                     {&stages[0]->doorbell(), &stages[1]->doorbell()});

  std::vector<std::thread> threads;
  for (auto& stage : stages) threads.emplace_back([&stage] { stage->run(); });
  threads.emplace_back([&publisher] { publisher.run(); });

  // Safe means out in both tiers: every key's count and the second's result.
  ASSERT_NO_FATAL_FAILURE(
      routeSecondsWithMarks(router, board, recorder, kSeconds, kKeys, kKeys + 1));
  router.end(false);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(board.safe(0), static_cast<std::uint64_t>(kSeconds - 1));
  EXPECT_EQ(recorder.endingBy(kSeconds * 1000), static_cast<std::size_t>(kSeconds * (kKeys + 1)));
}

}  // namespace
}  // namespace rivulet::pipeline
