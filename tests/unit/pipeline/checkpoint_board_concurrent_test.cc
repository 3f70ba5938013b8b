// CheckpointBoard between real threads, as the daemon uses it: a coordinator requests barrier
// after barrier, every other one a reconfiguration it builds just before; source threads see
// each request, read its change and note their positions; a publisher thread, once every source
// has passed the barrier on (an atomic per source here, the rings in the daemon), notes its part
// and completes it; the coordinator then reads every part and marks it durable. What each thread
// reads must be what the others wrote for that id: under ThreadSanitizer (label "concurrency"),
// an order weaker than the board's (requested() relaxed, complete() relaxed) is reported as a
// race on the change or on the parts.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/checkpoint_board.h"
#include "pipeline/reconfiguration.h"
#include "pipeline/runtime/backoff.h"

namespace rivulet::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kSources = 3;
constexpr std::uint64_t kBarriers = 300;
constexpr auto kDeadline = std::chrono::seconds(30);

// Barriers with an even id are reconfigurations; `previous` holds the id, so a thread can tell
// that it reads the change of its own barrier, whole.
bool isChange(std::uint64_t id) { return id % 2 == 0; }

TEST(CheckpointBoardConcurrent, EveryThreadReadsWhatTheOthersWroteForTheSameBarrier) {
  CheckpointBoard board(kSources, 1, true);
  std::vector<std::unique_ptr<Reconfiguration>> changes(kBarriers + 1);
  std::array<std::atomic<std::uint64_t>, kSources> passed{};  // each source's last barrier sent
  std::atomic<bool> failed{false};
  const Clock::time_point deadline = Clock::now() + kDeadline;
  // Waits for `done()`; false (and the test failed) past the deadline or once another gave up.
  const auto waitFor = [&](auto done) {
    Backoff backoff;
    while (!done()) {
      if (failed.load() || Clock::now() > deadline) {
        failed.store(true);
        return false;
      }
      backoff.pause();
    }
    return true;
  };

  std::vector<std::thread> sources;
  for (std::size_t s = 0; s < kSources; ++s) {
    sources.emplace_back([&, s] {
      for (std::uint64_t seen = 0; seen < kBarriers;) {
        std::uint64_t id = 0;
        if (!waitFor([&] { return (id = board.requested()) > seen; })) return;
        EXPECT_EQ(id, seen + 1) << "a barrier was skipped";
        const Reconfiguration* change = board.change();
        if (isChange(id)) {
          EXPECT_TRUE(change != nullptr && change->previous == std::vector<int>{int(id)});
        } else {
          EXPECT_EQ(change, nullptr);
          board.setSource(s, id, "source " + std::to_string(s) + " at " + std::to_string(id));
        }
        passed[s].store(id, std::memory_order_release);  // the barrier goes on, as a ring's publish
        seen = id;
      }
    });
  }
  std::thread publisher([&] {
    std::string stage_part;  // the board's view of it lasts until the next request
    for (std::uint64_t id = 1; id <= kBarriers; ++id) {
      for (std::size_t s = 0; s < kSources; ++s) {
        if (!waitFor([&] { return passed[s].load(std::memory_order_acquire) >= id; })) return;
      }
      const Reconfiguration* change = board.change();
      EXPECT_EQ(change != nullptr, isChange(id));
      if (!isChange(id)) {
        stage_part = "stage at " + std::to_string(id);
        board.setStage(0, {stage_part});
        board.publisher() = "publisher at " + std::to_string(id);
      }
      board.complete(id);
    }
  });

  for (std::uint64_t id = 1; id <= kBarriers && !failed.load(); ++id) {
    EXPECT_TRUE(board.idle());
    EXPECT_EQ(board.nextId(), id);
    if (isChange(id)) {
      changes[id] = std::make_unique<Reconfiguration>();
      changes[id]->previous = {static_cast<int>(id)};
      board.request(id, changes[id].get());
    } else {
      board.request(id);
    }
    if (!waitFor([&] { return board.completed() == id; })) break;
    if (isChange(id)) continue;
    const std::vector<std::string> positions = board.positions(id);
    for (std::size_t s = 0; s < kSources; ++s) {
      EXPECT_EQ(positions[s], "source " + std::to_string(s) + " at " + std::to_string(id));
    }
    EXPECT_EQ(board.stages()[0], "stage at " + std::to_string(id));
    EXPECT_EQ(board.publisher(), "publisher at " + std::to_string(id));
    board.setDurable(id);
  }
  for (std::thread& t : sources) t.join();
  publisher.join();
  EXPECT_FALSE(failed.load()) << "a thread waited past the deadline";
  EXPECT_EQ(board.completed(), kBarriers);
  EXPECT_EQ(board.durable(), kBarriers - 1);
}

}  // namespace
}  // namespace rivulet::pipeline
