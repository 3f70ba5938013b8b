// CommitBoard: a source's safe mark is the least every stage has acknowledged (checked against a
// brute-force minimum over random acknowledgements), sources do not mix, and with nothing
// acknowledged, or no stage at all, it is 0.
#include "pipeline/commit_board.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace rivulet::pipeline {
namespace {

TEST(CommitBoard, NothingAcknowledgedIsZero) {
  const CommitBoard board(2, 3);
  EXPECT_EQ(board.safe(0), 0u);
  EXPECT_EQ(board.safe(1), 0u);
}

TEST(CommitBoard, NoStageIsZero) {
  const CommitBoard board(1, 0);
  EXPECT_EQ(board.safe(0), 0u);
}

TEST(CommitBoard, SafeIsTheLeastEveryStageAcknowledgedPerSource) {
  constexpr std::size_t kSources = 3, kStages = 4;
  std::mt19937_64 random(17);
  for (int run = 0; run < 50; ++run) {
    CommitBoard board(kSources, kStages);
    std::vector<std::uint64_t> acked(kSources * kStages, 0);  // the reference
    for (int step = 0; step < 200; ++step) {
      const std::size_t source = random() % kSources;
      const std::size_t stage = random() % kStages;
      std::uint64_t& seq = acked[source * kStages + stage];
      seq += random() % 3;  // a stage passes a source's marks on in order: never back
      board.ack(source, stage, seq);
      for (std::size_t s = 0; s < kSources; ++s) {
        const auto begin = acked.begin() + static_cast<std::ptrdiff_t>(s * kStages);
        ASSERT_EQ(board.safe(s), *std::min_element(begin, begin + kStages))
            << "run " << run << " step " << step << " source " << s;
      }
    }
  }
}

}  // namespace
}  // namespace rivulet::pipeline
