// CheckpointBoard on one thread: ids (request, complete, idle, resume), the change a request
// carries, the parts each thread leaves, which position a source has in a checkpoint (its
// barrier's, or its final one when it had ended), and durability.
#include "pipeline/checkpoint_board.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/reconfiguration.h"

namespace rivulet::pipeline {
namespace {

TEST(CheckpointBoard, StartsIdleWithNothingRequested) {
  const CheckpointBoard board(2, 1, true);
  EXPECT_TRUE(board.checkpointing());
  EXPECT_FALSE(CheckpointBoard(2, 1, false).checkpointing());
  EXPECT_EQ(board.requested(), 0u);
  EXPECT_EQ(board.completed(), 0u);
  EXPECT_EQ(board.durable(), 0u);
  EXPECT_TRUE(board.idle());
  EXPECT_EQ(board.nextId(), 1u);
  EXPECT_EQ(board.change(), nullptr);
  EXPECT_EQ(board.stages().size(), 1u);
}

TEST(CheckpointBoard, ARequestIsInFlightUntilCompleted) {
  CheckpointBoard board(1, 1, true);
  board.request(board.nextId());
  EXPECT_EQ(board.requested(), 1u);
  EXPECT_FALSE(board.idle());
  EXPECT_EQ(board.nextId(), 2u);
  EXPECT_EQ(board.change(), nullptr) << "a checkpoint, not a reconfiguration";
  board.complete(1);
  EXPECT_EQ(board.completed(), 1u);
  EXPECT_TRUE(board.idle());
}

TEST(CheckpointBoard, AReconfigurationTravelsWithItsRequestOnly) {
  CheckpointBoard board(1, 1, false);
  Reconfiguration change;
  board.request(1, &change);
  EXPECT_EQ(board.change(), &change);
  board.complete(1);
  board.request(2);
  EXPECT_EQ(board.change(), nullptr);
}

TEST(CheckpointBoard, ResumeGoesOnFromTheRestoredId) {
  CheckpointBoard board(1, 1, true);
  board.resume(7);
  EXPECT_TRUE(board.idle());
  EXPECT_EQ(board.requested(), 7u);
  EXPECT_EQ(board.completed(), 7u);
  EXPECT_EQ(board.nextId(), 8u);
}

TEST(CheckpointBoard, PositionsAreThoseOfTheBarrierOrTheFinalOne) {
  CheckpointBoard board(3, 2, true);
  board.request(1);
  board.setSource(0, 1, "file@100");
  board.setSource(1, 1, "kafka@7");
  board.setFinal(2, "gen@end");              // ended before the request: no barrier for 1
  board.setStage(0, {"stage 0 ", "state"});  // a part in pieces is read whole
  board.setStage(1, {"stage 1 state"});
  board.publisher() = "seqs";
  board.complete(1);
  EXPECT_EQ(board.positions(1), (std::vector<std::string>{"file@100", "kafka@7", "gen@end"}));
  EXPECT_EQ(board.stages(), (std::vector<std::string>{"stage 0 state", "stage 1 state"}));
  EXPECT_EQ(board.publisher(), "seqs");

  // Checkpoint 2: source 1 ends before its barrier; source 0's barrier moves it on.
  board.request(2);
  board.setSource(0, 2, "file@250");
  board.setFinal(1, "kafka@9");
  board.complete(2);
  EXPECT_EQ(board.positions(2), (std::vector<std::string>{"file@250", "kafka@9", "gen@end"}));
}

TEST(CheckpointBoard, DurableIsTheLatestCheckpointOnDisk) {
  CheckpointBoard board(1, 1, true);
  board.request(1);
  board.complete(1);
  EXPECT_EQ(board.durable(), 0u) << "complete is not durable: the file is not written yet";
  board.setDurable(1);
  EXPECT_EQ(board.durable(), 1u);
}

}  // namespace
}  // namespace rivulet::pipeline
