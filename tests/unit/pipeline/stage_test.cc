// Stage, driven over real rings with hand-made records on the test thread: the input is written
// whole (each stream with its end), run() consumes it and returns, and what the stage sent the
// publisher is read back. Windows fire on the watermark and the rest at the end (final, or
// partial when stopped, or left to a checkpoint); late events are counted and published when
// asked; commit marks wait for their windows; a reset drops the source's state; a barrier aligns
// the inputs, and its snapshot holds exactly the events before it.
#include "pipeline/stage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/checkpoint_board.h"
#include "tests/unit/pipeline/hand_records.h"
#include "tests/unit/pipeline/stage_rig.h"

namespace rivulet::pipeline {
namespace {

using namespace testutil;

TEST(Stage, FiresAWindowOnTheWatermarkAndTheRestAtTheEnd) {
  StageRig rig;
  rig.input().event(0, ms(100), {1}, {"a"});
  rig.input().event(0, ms(200), {2}, {"b"});
  rig.input().event(0, ms(900), {3}, {"a"});
  rig.input().watermark(ms(1000));
  rig.input().event(0, ms(1500), {5}, {"a"});
  rig.input().end(false);
  const std::vector<OutRecord> out = rig.run();

  using enum RecordType;
  ASSERT_EQ(types(out), (std::vector<RecordType>{kResult, kResult, kWindowEnd, kWatermark, kResult,
                                                 kWindowEnd, kEnd}));
  // Window [0, 1 s), fired by the watermark: both keys, then its end, then the watermark that
  // tells the publisher this stage has passed it.
  const std::vector<std::string> sent = results(out);
  EXPECT_EQ(std::multiset<std::string>(sent.begin(), sent.begin() + 2),
            (std::multiset<std::string>{"counts/a/" + tail("final", 0, 1000, "a", 2, "4"),
                                        "counts/b/" + tail("final", 0, 1000, "b", 1, "2")}));
  EXPECT_EQ(out[0].kind(), ResultKind::kFinal);
  EXPECT_EQ(out[2].header.time, ms(1000));
  EXPECT_EQ(out[2].get<WindowEndPayload>().start, 0);
  EXPECT_EQ(out[2].get<WindowEndPayload>().results, 2u);
  EXPECT_EQ(out[3].header.time, ms(1000));
  // Window [1 s, 2 s), still open at the end of the input: flushed as final.
  EXPECT_EQ(sent[2], "counts/a/" + tail("final", 1000, 2000, "a", 1, "5"));
  EXPECT_EQ(out[5].get<WindowEndPayload>().results, 1u);
  EXPECT_EQ(rig.stats().events.load(), 4u);
  EXPECT_EQ(rig.stats().late.load(), 0u);
}

TEST(Stage, StoppedInputFlushesOpenWindowsAsPartial) {
  StageRig rig;
  rig.input().event(0, ms(100), {1}, {"a"});
  rig.input().end(true);
  const std::vector<OutRecord> out = rig.run();
  ASSERT_EQ(results(out),
            std::vector<std::string>{"counts/a/" + tail("partial", 0, 1000, "a", 1, "1")});
  EXPECT_EQ(out.front().kind(), ResultKind::kPartial);
  EXPECT_EQ(out.back().type(), RecordType::kEnd);
}

TEST(Stage, LateEventsAreCountedAndPublishedOnlyWhenAsked) {
  for (const bool topic : {false, true}) {
    StageRig rig(1, topic);
    rig.input().watermark(ms(1000));
    rig.input().event(0, ms(500), {1}, {"a"}, R"({"k":"a","ts":500})");  // its window has closed
    rig.input().event(0, ms(600), {1}, {"a"});  // late too, but carries no raw text
    rig.input().end(false);
    const std::vector<OutRecord> out = rig.run();
    EXPECT_EQ(rig.stats().late.load(), 2u);
    EXPECT_EQ(rig.stats().events.load(), 0u);
    EXPECT_TRUE(results(out).empty());
    std::vector<OutRecord> late;
    for (const OutRecord& r : out) {
      if (r.type() == RecordType::kLate) late.push_back(r);
    }
    ASSERT_EQ(late.size(), topic ? 1u : 0u);
    if (!topic) continue;
    const auto sizes = late[0].get<LatePayload>();
    EXPECT_EQ(late[0].payload.substr(sizeof sizes, sizes.topic_size), "_late/counts/");
    EXPECT_EQ(late[0].payload.substr(sizeof sizes + sizes.topic_size, sizes.raw_size),
              R"({"k":"a","ts":500})");
  }
}

// A mark goes on to the publisher only once every window holding an event before it is out, right
// behind those results; one whose windows never close by the watermark never goes on.
TEST(Stage, CommitMarkWaitsForTheResultsOfItsWindows) {
  StageRig rig;
  rig.input().event(0, ms(100), {1}, {"a"});
  rig.input().mark(7, ms(100));
  rig.input().event(0, ms(1200), {1}, {"a"});
  rig.input().mark(8, ms(1200));
  rig.input().watermark(ms(1000));
  rig.input().end(false);
  const std::vector<OutRecord> out = rig.run();
  using enum RecordType;
  ASSERT_EQ(types(out), (std::vector<RecordType>{kResult, kWindowEnd, kWatermark, kMark, kResult,
                                                 kWindowEnd, kEnd}));
  EXPECT_EQ(results(out)[0], "counts/a/" + tail("final", 0, 1000, "a", 1, "1"));
  EXPECT_EQ(out[3].header.pipeline, 0u) << "the source the mark came from";
  EXPECT_EQ(out[3].get<std::uint64_t>(), 7u);
}

// A reset (the source replays from its last commit) drops the source's state and pending marks,
// and raises the watermark to where the replayed events' windows were already published: those
// events count as late instead of reopening the windows.
TEST(Stage, ResetDropsStateAndReplayedEventsOfClosedWindowsAreLate) {
  StageRig rig;
  rig.input().event(0, ms(100), {1}, {"a"});
  rig.input().mark(1, ms(100));
  rig.input().reset(ms(500));                 // windows holding events up to 500 ms were published
  rig.input().event(0, ms(100), {1}, {"a"});  // replayed
  rig.input().event(0, ms(1200), {2}, {"a"});
  rig.input().watermark(ms(1100));
  rig.input().end(false);
  const std::vector<OutRecord> out = rig.run();
  EXPECT_EQ(results(out),
            std::vector<std::string>{"counts/a/" + tail("final", 1000, 2000, "a", 1, "2")});
  for (const OutRecord& r : out)
    EXPECT_NE(r.type(), RecordType::kMark) << "a mark of dropped state";
  EXPECT_EQ(rig.stats().late.load(), 1u);
  EXPECT_EQ(rig.stats().events.load(), 2u);
}

// A kPublishedEvent (replayed from a partition whose own floor is above the reset's) is late
// whatever the watermark, and published as late when asked; the window it falls in is built from
// the others alone.
TEST(Stage, PublishedEventsAreLate) {
  StageRig rig(1, true);
  rig.input().reset(ms(500));
  rig.input().event(0, ms(1100), {5}, {"a"}, R"({"k":"a","ts":1100})", RecordType::kPublishedEvent);
  rig.input().event(0, ms(1200), {2}, {"a"});
  rig.input().watermark(ms(2000));
  rig.input().end(false);
  const std::vector<OutRecord> out = rig.run();
  EXPECT_EQ(results(out),
            std::vector<std::string>{"counts/a/" + tail("final", 1000, 2000, "a", 1, "2")});
  EXPECT_EQ(rig.stats().late.load(), 1u);
  EXPECT_EQ(rig.stats().events.load(), 1u);
  std::size_t late = 0;
  for (const OutRecord& r : out) late += r.type() == RecordType::kLate ? 1 : 0;
  EXPECT_EQ(late, 1u);
}

// Input 0's barrier comes before event c: the stage reads none of input 0 after its barrier until
// input 1's barrier is in, so the snapshot holds a and b and not c; a stage restored from it holds
// the same.
TEST(Stage, BarrierAlignsTheInputsAndTheSnapshotIsTheCut) {
  StageRig rig(2);
  CheckpointBoard board(2, 1, true);
  rig.stage().joinCheckpoints(board, 0);
  rig.input(0).event(0, ms(100), {1}, {"a"});
  rig.input(0).barrier(1);
  rig.input(0).event(0, ms(200), {1}, {"c"});
  rig.input(0).end(false);
  rig.input(1).event(0, ms(150), {1}, {"b"});
  rig.input(1).barrier(1);
  rig.input(1).end(false);
  const std::vector<OutRecord> out = rig.run();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front().type(), RecordType::kBarrier);
  EXPECT_EQ(out.front().header.time, 1);
  EXPECT_EQ(results(out).size(), 3u);

  StageRig restored(2);
  ASSERT_TRUE(restored.stage().restore(board.stages()[0]));
  restored.input(0).end(false);
  restored.input(1).end(false);
  const std::vector<std::string> after = results(restored.run());
  EXPECT_EQ(std::multiset<std::string>(after.begin(), after.end()),
            (std::multiset<std::string>{"counts/a/" + tail("final", 0, 1000, "a", 1, "1"),
                                        "counts/b/" + tail("final", 0, 1000, "b", 1, "1")}));
}

// With checkpoints, a stop leaves the open windows to the last checkpoint: nothing is flushed.
TEST(Stage, StopWithCheckpointsLeavesOpenWindowsToTheCheckpoint) {
  StageRig rig;
  CheckpointBoard board(1, 1, true);
  rig.stage().joinCheckpoints(board, 0);
  rig.input().event(0, ms(100), {1}, {"a"});
  rig.input().end(true);
  EXPECT_EQ(types(rig.run()), std::vector<RecordType>{RecordType::kEnd});
}

// Two sources feed the pipeline, each its events out of order but never behind its own
// watermark, so that none is late whichever order the stage reads the inputs in; commit marks
// come between. Against a brute-force aggregation of every window: each result once, final and
// right; a window's results all before its end record, which counts them; window ends in order;
// a mark passed on only behind the results of every window holding an event before it.
TEST(Stage, RandomStreamsMatchABruteForceAggregation) {
  using WindowKey = std::pair<std::int64_t, std::string>;  // (start, key)
  for (const std::int64_t slide : {ms(1000), ms(250)}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      SCOPED_TRACE("slide " + std::to_string(slide) + " seed " + std::to_string(seed));
      std::mt19937_64 rng(seed);
      StageRig rig(2, false, slide);
      std::map<WindowKey, std::pair<int, int>> expected;  // (n, s)
      std::map<std::pair<std::uint16_t, std::uint64_t>, std::set<WindowKey>> covered;
      std::uint64_t events = 0;
      for (std::uint16_t source = 0; source < 2; ++source) {
        std::int64_t watermark = 0;
        std::int64_t max_time = kMinTime;
        std::uint64_t seq = 0;
        std::set<WindowKey> windows;
        for (int step = 0; step < 150; ++step) {
          const std::uint64_t choice = rng() % 10;
          if (choice < 7) {
            const std::int64_t time = watermark + static_cast<std::int64_t>(rng() % ms(3000));
            const std::string key(1, static_cast<char>('a' + rng() % 3));
            const int value = 1 + static_cast<int>(rng() % 9);
            rig.input(source).event(0, time, {static_cast<double>(value)}, {key});
            ++events;
            max_time = std::max(max_time, time);
            for (std::int64_t start = time / slide * slide; start > time - ms(1000);
                 start -= slide) {
              auto& [n, s] = expected[{start, key}];
              ++n;
              s += value;
              windows.insert({start, key});
            }
          } else if (choice < 9) {
            watermark += static_cast<std::int64_t>(rng() % ms(700));
            rig.input(source).watermark(watermark);
          } else {
            rig.input(source).mark(++seq, max_time);
            covered[{source, seq}] = windows;
          }
        }
        rig.input(source).end(false);
      }
      const std::vector<OutRecord> out = rig.run();

      std::multiset<std::string> want;
      for (const auto& [window, sums] : expected) {
        const auto& [start, key] = window;
        want.insert("counts/" + key + "/" +
                    tail("final", start / ms(1), (start + ms(1000)) / ms(1), key.c_str(),
                         sums.first, std::to_string(sums.second).c_str()));
      }
      const std::vector<std::string> sent = results(out);
      EXPECT_EQ(std::multiset<std::string>(sent.begin(), sent.end()), want);

      std::set<WindowKey> published;
      std::map<std::int64_t, std::uint64_t> results_by_end;
      std::int64_t last_end = kMinTime;
      std::map<std::uint16_t, std::uint64_t> last_mark;
      ASSERT_FALSE(out.empty());
      EXPECT_EQ(out.back().type(), RecordType::kEnd);
      for (std::size_t i = 0; i < out.size(); ++i) {
        const OutRecord& r = out[i];
        switch (r.type()) {
          case RecordType::kResult: {
            EXPECT_EQ(r.kind(), ResultKind::kFinal);
            EXPECT_GT(r.header.time, last_end) << "a result after its window's end record";
            const std::string_view topic = r.topic();  // counts/<k>/
            published.insert({r.header.time - ms(1000), std::string(topic.substr(7, 1))});
            ++results_by_end[r.header.time];
            break;
          }
          case RecordType::kWindowEnd: {
            EXPECT_GT(r.header.time, last_end);
            last_end = r.header.time;
            const auto window = r.get<WindowEndPayload>();
            EXPECT_EQ(window.start, r.header.time - ms(1000));
            EXPECT_EQ(window.results, results_by_end[r.header.time]);
            break;
          }
          case RecordType::kMark: {
            const std::uint16_t source = r.header.pipeline;
            const auto seq = r.get<std::uint64_t>();
            EXPECT_GT(seq, last_mark[source]) << "marks of a source in order, each once";
            last_mark[source] = seq;
            for (const WindowKey& window : covered.at({source, seq})) {
              EXPECT_TRUE(published.contains(window))
                  << "mark " << seq << " of source " << source << " passed before window "
                  << window.first << " of key " << window.second;
            }
            break;
          }
          case RecordType::kEnd:
            EXPECT_EQ(i + 1, out.size());
            break;
          default:
            break;
        }
      }
      EXPECT_EQ(rig.stats().events.load(), events);
      EXPECT_EQ(rig.stats().late.load(), 0u);
    }
  }
}

}  // namespace
}  // namespace rivulet::pipeline
