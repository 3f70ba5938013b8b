// Stage on its own thread, fed while it runs: what inputs written whole cannot show, since those
// all end in the stage's first pass. A live input that is idle is left out of the watermark's
// minimum, so the other input's watermark closes windows; a live input that is active holds them
// back. Runs under ThreadSanitizer in CI (label "concurrency").
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/stage.h"
#include "tests/unit/pipeline/hand_records.h"
#include "tests/unit/pipeline/stage_rig.h"

namespace rivulet::pipeline {
namespace {

using namespace testutil;

// Reads the stage's output into `out` until `done(out)`; false at the deadline.
template <typename Done>
bool readUntil(StageRig& rig, std::vector<OutRecord>& out, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + testutil::kDeadline;
  while (!done(out)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (OutRecord& r : testutil::readAll(rig.output())) out.push_back(std::move(r));
    std::this_thread::yield();
  }
  return true;
}

bool hasWindowEnd(const std::vector<OutRecord>& out) {
  for (const OutRecord& r : out) {
    if (r.type() == RecordType::kWindowEnd) return true;
  }
  return false;
}

TEST(StageConcurrent, AnIdleInputDoesNotHoldBackTheWatermark) {
  StageRig rig(2);
  std::thread stage([&rig] { rig.stage().run(); });
  rig.input(1).idle(ms(500));
  rig.input(0).event(0, ms(100), {1}, {"a"});
  rig.input(0).watermark(ms(1000));
  std::vector<OutRecord> out;
  // Input 1 has neither ended nor passed 1 s: only its being idle lets window [0, 1 s) close.
  const bool fired = readUntil(rig, out, hasWindowEnd);
  rig.input(1).event(0, ms(1200), {2}, {"b"});  // active again, in a window still open
  rig.input(0).end(false);
  rig.input(1).end(false);
  stage.join();
  for (OutRecord& r : testutil::readAll(rig.output())) out.push_back(std::move(r));

  EXPECT_TRUE(fired) << "the window waited for the idle input";
  EXPECT_EQ(results(out),
            (std::vector<std::string>{"counts/a/" + tail("final", 0, 1000, "a", 1, "1"),
                                      "counts/b/" + tail("final", 1000, 2000, "b", 1, "2")}));
  EXPECT_EQ(rig.stats().late.load(), 0u);
}

// Input 1 stays at 500 ms while input 0 passes 1 s: its event at 600 ms, read only after input
// 0's watermark, still counts in window [0, 1 s).
TEST(StageConcurrent, AnActiveInputHoldsBackTheWatermark) {
  StageRig rig(2);
  std::thread stage([&rig] { rig.stage().run(); });
  rig.input(1).watermark(ms(500));
  rig.input(0).event(0, ms(100), {1}, {"a"});
  rig.input(0).watermark(ms(1000));
  std::vector<OutRecord> out;
  const bool read = readUntil(rig, out, [&rig](const std::vector<OutRecord>&) {
    return rig.input(0).consumed() && rig.input(1).consumed();
  });
  rig.input(1).event(0, ms(600), {2}, {"a"});
  rig.input(0).end(false);
  rig.input(1).end(false);
  stage.join();
  for (OutRecord& r : testutil::readAll(rig.output())) out.push_back(std::move(r));

  EXPECT_TRUE(read);
  EXPECT_EQ(results(out),
            std::vector<std::string>{"counts/a/" + tail("final", 0, 1000, "a", 2, "3")});
  EXPECT_EQ(rig.stats().late.load(), 0u);
}

}  // namespace
}  // namespace rivulet::pipeline
