// Publisher, driven over real stage rings with hand-made records on the test thread (each ring
// written whole, ending with kEnd; run() returns once all have ended), handing what it publishes
// to a recording output. Results are numbered gap-free per pipeline in the order each stage sent
// them; a window's end-of-window marker waits for every stage and counts all their results; late
// events go out as markers; a commit mark is acknowledged only after a flush; a barrier aligns
// the stages, and its snapshot carries the numbering and the windows still open.
#include "pipeline/publisher.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/checkpoint_board.h"
#include "pipeline/commit_board.h"
#include "pipeline/stage.h"
#include "tests/unit/pipeline/hand_records.h"

namespace rivulet::pipeline {
namespace {

using testutil::RecordSender;

constexpr std::int64_t kSecond = 1'000'000'000;

// Every call the publisher makes on an output, in order.
class RecordingOutput final : public ResultOutput {
 public:
  enum class Call { kSend, kMarker, kIdle };
  struct Sent {
    Call call;
    std::string topic;
    std::string payload;
  };

  void send(std::string_view topic, std::string_view payload) override {
    sent.push_back({Call::kSend, std::string(topic), std::string(payload)});
    if (on_send) on_send();
  }
  void sendMarker(std::string_view topic, std::string_view payload) override {
    sent.push_back({Call::kMarker, std::string(topic), std::string(payload)});
  }
  void idle() override {
    sent.push_back({Call::kIdle, "", ""});
    if (on_idle) on_idle();
  }

  std::vector<Sent> sent;
  std::function<void()> on_send;
  std::function<void()> on_idle;
};

// Pipelines p0, p1, ... (with the given fire delays), `stages` stage rings and a publisher over
// them, handing its output to `output`.
class PublisherRig {
 public:
  PublisherRig(std::size_t stages, std::vector<std::int64_t> fire_delays,
               CommitBoard* commits = nullptr, std::optional<config::TopSpec> top = std::nullopt) {
    for (std::size_t p = 0; p < fire_delays.size(); ++p) {
      PipelinePlan plan;
      plan.id = static_cast<std::uint16_t>(p);
      plan.name = "p" + std::to_string(p);
      plan.fire_delay = fire_delays[p];
      plan.top = top;
      plans_.push_back(std::move(plan));
      pipeline_stats_.push_back(std::make_unique<PipelinePublishStats>());
    }
    std::vector<Ring*> rings;
    for (std::size_t s = 0; s < stages; ++s) {
      rings_.push_back(std::make_unique<Ring>(1 << 14));
      rings.push_back(rings_.back().get());
      senders_.push_back(std::make_unique<RecordSender>(*rings_.back()));
    }
    std::vector<PipelinePublishStats*> pipeline_stats;
    for (auto& stats : pipeline_stats_) pipeline_stats.push_back(stats.get());
    publisher_ = std::make_unique<Publisher>(plans_, rings, std::vector<ResultOutput*>{&output},
                                             stats_, pipeline_stats, commits);
  }

  RecordSender& stage(std::size_t s) { return *senders_[s]; }
  Publisher& publisher() { return *publisher_; }
  const PipelinePublishStats& stats(std::size_t p) const { return *pipeline_stats_[p]; }

  RecordingOutput output;

 private:
  std::vector<PipelinePlan> plans_;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::vector<std::unique_ptr<RecordSender>> senders_;
  PublisherStats stats_;
  std::vector<std::unique_ptr<PipelinePublishStats>> pipeline_stats_;
  std::unique_ptr<Publisher> publisher_;
};

// A result's tail: what the stage wrote after the pipeline and seq, told apart by `id`.
std::string resultTail(std::string_view id) { return "\"id\":\"" + std::string(id) + "\"}"; }

std::string resultPayload(std::string_view pipeline, std::uint64_t seq, std::string_view id) {
  return "{\"pipeline\":\"" + std::string(pipeline) + "\",\"seq\":" + std::to_string(seq) + "," +
         resultTail(id);
}

std::string markerPayload(std::string_view pipeline, std::int64_t start_ms, std::int64_t end_ms,
                          std::uint64_t results) {
  return "{\"pipeline\":\"" + std::string(pipeline) + "\",\"start\":" + std::to_string(start_ms) +
         ",\"end\":" + std::to_string(end_ms) + ",\"results\":" + std::to_string(results) + "}";
}

// Three stages, two pipelines (one firing 300 ms after a window's end), random streams shaped as
// a stage sends them: per pipeline, each window's results, its end, and now and then a watermark
// somewhere before the next window fires; the pipelines' records interleaved at random, late
// events among them. Against the reference of what was sent: each result once, numbered 1, 2, 3...
// per pipeline, each stage's in its order; one marker per window, in end order, after every
// result of the window from every stage, counting them all; each late event in its stage's order.
TEST(Publisher, RandomStreamsAreNumberedAndMarkedAsTheReferenceSays) {
  constexpr std::size_t kStages = 3;
  constexpr int kWindows = 8;
  const std::vector<std::int64_t> delays{0, 300'000'000};
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    PublisherRig rig(kStages, delays);
    std::map<std::string, std::pair<std::size_t, std::int64_t>> windows_of;  // id -> (p, end)
    std::vector<std::vector<std::string>> sent_by_stage(kStages);            // ids and late texts
    std::map<std::pair<std::size_t, std::int64_t>, std::uint64_t> results;   // (p, end) -> count
    for (std::size_t s = 0; s < kStages; ++s) {
      std::vector<std::vector<std::function<void()>>> streams(delays.size());
      for (std::size_t p = 0; p < delays.size(); ++p) {
        const auto pipeline = static_cast<std::uint16_t>(p);
        for (int w = 1; w <= kWindows; ++w) {
          const std::int64_t end = w * kSecond;
          const std::uint64_t count = rng() % 4;
          for (std::uint64_t r = 0; r < count; ++r) {
            const std::string id = "s" + std::to_string(s) + "p" + std::to_string(p) + "w" +
                                   std::to_string(w) + "r" + std::to_string(r);
            windows_of[id] = {p, end};
            ++results[{p, end}];
            streams[p].push_back([&rig, &sent_by_stage, s, pipeline, end, id] {
              rig.stage(s).result(pipeline, ResultKind::kFinal, end, "p/k/", resultTail(id));
              sent_by_stage[s].push_back(id);
            });
          }
          streams[p].push_back([&rig, s, pipeline, end, count] {
            rig.stage(s).windowEnd(pipeline, end - kSecond, end, count);
          });
          if (rng() % 2 == 0) {
            // Past this window's fire time, short of the next one's.
            const std::int64_t watermark =
                end + delays[p] + static_cast<std::int64_t>(rng() % kSecond);
            streams[p].push_back([&rig, s, pipeline, watermark] {
              rig.stage(s).stageWatermark(pipeline, watermark);
            });
          }
          if (rng() % 4 == 0) {
            const std::string raw =
                "late s" + std::to_string(s) + " p" + std::to_string(p) + " w" + std::to_string(w);
            streams[p].push_back([&rig, &sent_by_stage, s, pipeline, raw] {
              rig.stage(s).late(pipeline, "_late/p" + std::to_string(pipeline) + "/", raw);
              sent_by_stage[s].push_back(raw);
            });
          }
        }
      }
      std::vector<std::size_t> next(delays.size(), 0);
      for (std::size_t left = streams[0].size() + streams[1].size(); left > 0; --left) {
        std::size_t p = rng() % delays.size();
        if (next[p] == streams[p].size()) p = 1 - p;
        streams[p][next[p]++]();
      }
      rig.stage(s).end(false);
    }
    rig.publisher().run();

    const std::vector<RecordingOutput::Sent>& out = rig.output.sent;
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().call, RecordingOutput::Call::kIdle) << "a last flush";
    std::vector<std::uint64_t> seq(delays.size(), 0);
    std::vector<std::int64_t> last_marker(delays.size(), 0);
    std::vector<std::size_t> markers(delays.size(), 0);
    std::map<std::pair<std::size_t, std::int64_t>, std::uint64_t> out_so_far;
    std::vector<std::vector<std::string>> got_by_stage(kStages);
    for (const RecordingOutput::Sent& sent : out) {
      if (sent.call == RecordingOutput::Call::kSend) {
        const std::size_t at = sent.payload.find("\"id\":\"s");
        ASSERT_NE(at, std::string::npos) << sent.payload;
        const std::string id = sent.payload.substr(at + 6, sent.payload.size() - at - 8);
        ASSERT_TRUE(windows_of.contains(id)) << sent.payload;
        const auto [p, end] = windows_of.at(id);
        EXPECT_EQ(sent.topic, "p/k/");
        EXPECT_EQ(sent.payload, resultPayload("p" + std::to_string(p), ++seq[p], id));
        ++out_so_far[{p, end}];
        got_by_stage[static_cast<std::size_t>(id[1] - '0')].push_back(id);
      } else if (sent.call == RecordingOutput::Call::kMarker && sent.topic.starts_with("_late/")) {
        EXPECT_EQ(sent.topic, "_late/p" + sent.payload.substr(9, 1) + "/");  // late sS pP wW
        got_by_stage[static_cast<std::size_t>(sent.payload[6] - '0')].push_back(sent.payload);
      } else if (sent.call == RecordingOutput::Call::kMarker) {
        ASSERT_TRUE(sent.topic == "_window/p0/" || sent.topic == "_window/p1/") << sent.topic;
        const std::size_t p = static_cast<std::size_t>(sent.topic[9] - '0');
        const std::int64_t end = last_marker[p] + kSecond;  // one marker per window, in order
        last_marker[p] = end;
        ++markers[p];
        const std::uint64_t all = results[{p, end}];
        EXPECT_EQ(out_so_far[std::make_pair(p, end)], all)
            << "the marker of p" << p << " window " << end << " before all its results";
        EXPECT_EQ(sent.payload, markerPayload("p" + std::to_string(p), (end - kSecond) / 1'000'000,
                                              end / 1'000'000, all));
      }
    }
    EXPECT_EQ(got_by_stage, sent_by_stage);
    for (std::size_t p = 0; p < delays.size(); ++p) {
      EXPECT_EQ(markers[p], static_cast<std::size_t>(kWindows));
      EXPECT_EQ(rig.stats(p).published[0].load(), seq[p]);
    }
  }
}

// A mark is acknowledged on the board only after a flush that follows the results before it, and
// before the next result; it counts for the stage that sent it.
TEST(Publisher, AcknowledgesAMarkAfterFlushingTheResultsBeforeIt) {
  CommitBoard board(2, 1);
  PublisherRig rig(1, {0}, &board);
  std::vector<std::pair<RecordingOutput::Call, std::uint64_t>> seen;  // call, safe(1) then
  rig.output.on_send = [&] { seen.emplace_back(RecordingOutput::Call::kSend, board.safe(1)); };
  rig.output.on_idle = [&] { seen.emplace_back(RecordingOutput::Call::kIdle, board.safe(1)); };
  rig.stage(0).result(0, ResultKind::kFinal, kSecond, "p0/a/", resultTail("a"));
  rig.stage(0).stageMark(1, 5);
  rig.stage(0).result(0, ResultKind::kFinal, kSecond, "p0/b/", resultTail("b"));
  rig.stage(0).end(false);
  rig.publisher().run();
  using enum RecordingOutput::Call;
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(kSend, std::uint64_t{0}));
  EXPECT_EQ(seen[1], std::make_pair(kIdle, std::uint64_t{0})) << "acknowledged before a flush";
  EXPECT_EQ(seen[2], std::make_pair(kSend, std::uint64_t{5}));
  EXPECT_EQ(board.safe(0), 0u);

  CommitBoard two(2, 2);
  PublisherRig stages(2, {0}, &two);
  stages.stage(0).stageMark(1, 3);
  stages.stage(0).end(false);
  stages.stage(1).stageMark(1, 5);
  stages.stage(1).stageMark(0, 2);
  stages.stage(1).end(false);
  stages.publisher().run();
  EXPECT_EQ(two.safe(1), 3u);
  EXPECT_EQ(two.safe(0), 0u) << "stage 0 never acknowledged a mark of source 0";
}

// Stage 0's barrier comes before result c: c waits until stage 1's barrier is in, so it follows
// b. The snapshot holds the seq at the barrier and window [0, 1 s), which stage 0 has ended and
// stage 1 has not passed: a publisher restored from it numbers on from 3 and counts the window's
// results from both sides of the checkpoint.
TEST(Publisher, BarrierAlignsTheStagesAndTheSnapshotCarriesSeqAndOpenWindows) {
  CheckpointBoard board(1, 2, true);
  PublisherRig rig(2, {0});
  rig.publisher().joinCheckpoints(board);
  rig.stage(0).result(0, ResultKind::kFinal, kSecond, "p0/a/", resultTail("a"));
  rig.stage(0).windowEnd(0, 0, kSecond, 1);
  rig.stage(0).stageWatermark(0, kSecond);
  rig.stage(0).barrier(1);
  rig.stage(0).result(0, ResultKind::kFinal, 2 * kSecond, "p0/c/", resultTail("c"));
  rig.stage(0).snapshotDone(1);  // a stage writes its part while it goes on
  rig.stage(0).end(false);
  rig.stage(1).result(0, ResultKind::kFinal, 2 * kSecond, "p0/b/", resultTail("b"));
  rig.stage(1).barrier(1);
  rig.stage(1).snapshotDone(1);
  rig.stage(1).end(false);
  rig.publisher().run();

  std::vector<std::string> sent;
  for (const RecordingOutput::Sent& s : rig.output.sent) {
    if (s.call == RecordingOutput::Call::kSend) sent.push_back(s.payload);
  }
  EXPECT_EQ(sent,
            (std::vector<std::string>{resultPayload("p0", 1, "a"), resultPayload("p0", 2, "b"),
                                      resultPayload("p0", 3, "c")}));
  EXPECT_EQ(board.completed(), 1u);

  PublisherRig restored(2, {0});
  ASSERT_TRUE(restored.publisher().restore(board.publisher()));
  restored.stage(0).end(false);
  restored.stage(1).result(0, ResultKind::kFinal, kSecond, "p0/d/", resultTail("d"));
  restored.stage(1).windowEnd(0, 0, kSecond, 1);
  restored.stage(1).end(false);
  restored.publisher().run();
  std::vector<std::pair<std::string, std::string>> after;
  for (const RecordingOutput::Sent& s : restored.output.sent) {
    if (s.call != RecordingOutput::Call::kIdle) after.emplace_back(s.topic, s.payload);
  }
  EXPECT_EQ(after, (std::vector<std::pair<std::string, std::string>>{
                       {"p0/d/", resultPayload("p0", 3, "d")},
                       {"_window/p0/", markerPayload("p0", 0, 1000, 2)}}));

  PublisherRig other_shape(3, {0});
  EXPECT_FALSE(other_shape.publisher().restore(board.publisher()));
}

// The checkpoint completes only once every stage whose barrier came has its part on the board.
TEST(Publisher, ACheckpointWaitsForEveryStagesPart) {
  CheckpointBoard board(1, 2, true);
  PublisherRig rig(2, {0});
  rig.publisher().joinCheckpoints(board);
  rig.stage(0).barrier(1);
  rig.stage(0).snapshotDone(1);
  rig.stage(0).end(false);
  rig.stage(1).barrier(1);  // its part never comes
  rig.stage(1).end(false);
  rig.publisher().run();
  EXPECT_EQ(board.completed(), 0u);

  CheckpointBoard both(1, 2, true);
  PublisherRig done(2, {0});
  done.publisher().joinCheckpoints(both);
  for (std::size_t i = 0; i < 2; ++i) {
    done.stage(i).barrier(1);
    done.stage(i).snapshotDone(1);
    done.stage(i).end(false);
  }
  done.publisher().run();
  EXPECT_EQ(both.completed(), 1u);
}

// A ranked tail: what the stage writes, ending with the values and the message's brace.
std::string rankedTail(int v) { return "\"values\":{\"v\":" + std::to_string(v) + "}}"; }

std::string rankedPayload(std::uint64_t seq, int v, int rank) {
  return "{\"pipeline\":\"p0\",\"seq\":" + std::to_string(seq) +
         ",\"values\":{\"v\":" + std::to_string(v) + ",\"rank\":" + std::to_string(rank) + "}}";
}

// top: {n: 2, by: v}, ties kept, over two stages. Nothing of window [0, 1 s) goes out before
// both stages are past it; then its best rows, ranked 1, 1 for the tie at the top (the 4 is
// third, after the tie: not kept). Stage 1's barrier comes after c: the snapshot holds a, b and c
// in the open window, and a publisher restored from it ranks them with d, which came after.
TEST(Publisher, RankedWindowsWaitForEveryStageAndTheirRowsAreInTheSnapshot) {
  config::TopSpec top{2, *config::parseExpression("v").expression, false, true};
  CheckpointBoard board(1, 2, true);
  PublisherRig rig(2, {0}, nullptr, top);
  rig.publisher().joinCheckpoints(board);
  rig.stage(0).result(0, ResultKind::kFinal, kSecond, "p0/a/", rankedTail(5), 5);
  rig.stage(0).result(0, ResultKind::kFinal, kSecond, "p0/b/", rankedTail(3), 3);
  rig.stage(0).windowEnd(0, 0, kSecond, 2);
  rig.stage(0).stageWatermark(0, kSecond);
  rig.stage(0).barrier(1);
  rig.stage(0).snapshotDone(1);
  rig.stage(0).end(false);
  rig.stage(1).result(0, ResultKind::kFinal, kSecond, "p0/c/", rankedTail(5), 5);
  rig.stage(1).barrier(1);
  rig.stage(1).snapshotDone(1);
  rig.stage(1).result(0, ResultKind::kFinal, kSecond, "p0/d/", rankedTail(4), 4);
  rig.stage(1).windowEnd(0, 0, kSecond, 2);
  rig.stage(1).end(false);
  rig.publisher().run();
  const auto sent = [](const RecordingOutput& output) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const RecordingOutput::Sent& s : output.sent) {
      if (s.call != RecordingOutput::Call::kIdle) out.emplace_back(s.topic, s.payload);
    }
    return out;
  };
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"p0/a/", rankedPayload(1, 5, 1)},
      {"p0/c/", rankedPayload(2, 5, 1)},
      {"_window/p0/", markerPayload("p0", 0, 1000, 2)}};
  EXPECT_EQ(sent(rig.output), expected);
  ASSERT_EQ(board.completed(), 1u);

  PublisherRig restored(2, {0}, nullptr, top);
  ASSERT_TRUE(restored.publisher().restore(board.publisher()));
  restored.stage(0).end(false);
  restored.stage(1).result(0, ResultKind::kFinal, kSecond, "p0/d/", rankedTail(4), 4);
  restored.stage(1).windowEnd(0, 0, kSecond, 2);
  restored.stage(1).end(false);
  restored.publisher().run();
  EXPECT_EQ(sent(restored.output), expected);

  // Ties dropped, the smallest first: exactly n, the tie broken in key (topic) order.
  config::TopSpec bottom{2, *config::parseExpression("v").expression, true, false};
  PublisherRig asc(1, {0}, nullptr, bottom);
  for (const auto& [topic, v] : {std::pair{"p0/z/", 1}, {"p0/y/", 1}, {"p0/x/", 1}, {"p0/w/", 0}}) {
    asc.stage(0).result(0, ResultKind::kFinal, kSecond, topic, rankedTail(v), v);
  }
  asc.stage(0).windowEnd(0, 0, kSecond, 4);
  asc.stage(0).end(false);
  asc.publisher().run();
  EXPECT_EQ(sent(asc.output), (std::vector<std::pair<std::string, std::string>>{
                                  {"p0/w/", rankedPayload(1, 0, 1)},
                                  {"p0/x/", rankedPayload(2, 1, 2)},
                                  {"_window/p0/", markerPayload("p0", 0, 1000, 2)}}));
}

// Random windows of up to 300 rows over three stages, values with many ties, every n, order and
// ties rule: what goes out (pruned while held, whenever a window grows past 2n + 64 rows) is the
// reference ranking of all the rows of the window.
TEST(Publisher, RankingMatchesTheReferenceWhateverThePruning) {
  std::mt19937_64 random(::testing::UnitTest::GetInstance()->random_seed());
  for (int round = 0; round < 40; ++round) {
    const std::size_t n = 1 + random() % 20;
    const bool ascending = random() % 2 == 0, keep_ties = random() % 2 == 0;
    const config::TopSpec top{static_cast<std::int64_t>(n),
                              *config::parseExpression("v").expression, ascending, keep_ties};
    PublisherRig rig(3, {0}, nullptr, top);
    const std::size_t rows = random() % 300;
    std::vector<std::pair<int, std::string>> all;  // (value, topic); -1: null
    std::vector<int> per_stage(3, 0);
    for (std::size_t r = 0; r < rows; ++r) {
      const int v = static_cast<int>(random() % 12) - 1;
      const std::string topic = "p0/k" + std::to_string(r) + "/";
      const std::size_t stage = random() % 3;
      const double value = v < 0 ? std::numeric_limits<double>::quiet_NaN() : v;
      rig.stage(stage).result(0, ResultKind::kFinal, kSecond, topic, rankedTail(v), value);
      ++per_stage[stage];
      all.emplace_back(v, topic);
    }
    for (std::size_t stage = 0; stage < 3; ++stage) {
      if (per_stage[stage] > 0) rig.stage(stage).windowEnd(0, 0, kSecond, per_stage[stage]);
      rig.stage(stage).end(false);
    }
    rig.publisher().run();

    // The reference: nulls last, then by value, then by topic.
    std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
      if ((a.first < 0) != (b.first < 0)) return b.first < 0;
      if (a.first != b.first) return ascending ? a.first < b.first : a.first > b.first;
      return a.second < b.second;
    });
    std::size_t keep = std::min(n, all.size());
    while (keep_ties && keep < all.size() && all[keep].first == all[n - 1].first) ++keep;
    std::vector<std::string> expected;
    int rank = 0;
    for (std::size_t i = 0; i < keep; ++i) {
      if (i == 0 || all[i].first != all[i - 1].first) rank = static_cast<int>(i) + 1;
      expected.push_back(all[i].second + " " + rankedPayload(i + 1, all[i].first, rank));
    }
    std::vector<std::string> got;
    for (const RecordingOutput::Sent& s : rig.output.sent) {
      if (s.call == RecordingOutput::Call::kSend) got.push_back(s.topic + " " + s.payload);
    }
    ASSERT_EQ(got, expected) << "round " << round << " n=" << n << " ascending=" << ascending
                             << " keep_ties=" << keep_ties << " rows=" << rows;
  }
}

}  // namespace
}  // namespace rivulet::pipeline
