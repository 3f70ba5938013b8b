// Watchdog: when the keep-alive goes out, and what it reports, against a scripted set of stalled
// threads and a clock the test moves.
#include "daemon/service/watchdog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rivulet::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::int64_t kSecond = 1'000'000'000;

struct Threads {
  std::vector<std::string> stalled;
  std::int64_t limit_seen = 0;
  int checks = 0;

  Watchdog::StallCheck check() {
    return [this](std::int64_t, std::int64_t limit) {
      limit_seen = limit;
      ++checks;
      return stalled;
    };
  }
};

TEST(Watchdog, PingsAtStartThenEveryHalfInterval) {
  Threads threads;
  Watchdog dog(10 * kSecond, threads.check(), 100 * kSecond);
  EXPECT_TRUE(dog.tick(100 * kSecond).ping);
  EXPECT_EQ(threads.limit_seen, 10 * kSecond);
  EXPECT_FALSE(dog.tick(100 * kSecond + 4 * kSecond).ping);
  EXPECT_FALSE(dog.tick(104'999'999'999).ping);
  EXPECT_TRUE(dog.tick(105 * kSecond).ping);
  EXPECT_FALSE(dog.tick(105 * kSecond + 1).ping);
  EXPECT_EQ(threads.checks, 2);  // threads are looked at only when a ping is due
}

TEST(Watchdog, WithholdsThePingWhileAThreadIsStalledAndReportsItOnce) {
  Threads threads;
  Watchdog dog(2 * kSecond, threads.check(), 0);
  EXPECT_TRUE(dog.tick(0).ping);

  threads.stalled = {"stage 1"};
  Watchdog::Tick t = dog.tick(kSecond);
  EXPECT_FALSE(t.ping);
  EXPECT_THAT(t.stalled, ElementsAre("stage 1"));
  EXPECT_THAT(t.recovered, IsEmpty());
  EXPECT_THAT(dog.stalled(), ElementsAre("stage 1"));

  t = dog.tick(2 * kSecond);
  EXPECT_FALSE(t.ping);
  EXPECT_THAT(t.stalled, IsEmpty()) << "reported once, not at every check";

  threads.stalled = {"stage 1", "publisher"};
  t = dog.tick(3 * kSecond);
  EXPECT_FALSE(t.ping);
  EXPECT_THAT(t.stalled, ElementsAre("publisher"));

  threads.stalled = {"publisher"};
  t = dog.tick(4 * kSecond);
  EXPECT_FALSE(t.ping);
  EXPECT_THAT(t.recovered, ElementsAre("stage 1"));

  threads.stalled.clear();
  t = dog.tick(5 * kSecond);
  EXPECT_TRUE(t.ping);
  EXPECT_THAT(t.recovered, ElementsAre("publisher"));
  EXPECT_THAT(dog.stalled(), IsEmpty());
}

TEST(Watchdog, WithoutAnIntervalFindsStallsButNeverPings) {
  Threads threads;
  Watchdog dog(0, threads.check(), 0);
  EXPECT_FALSE(dog.tick(0).ping);
  EXPECT_EQ(threads.limit_seen, Watchdog::kStallLimitNs);
  threads.stalled = {"source trades"};
  const Watchdog::Tick t = dog.tick(Watchdog::kStallLimitNs / 2);
  EXPECT_FALSE(t.ping);
  EXPECT_THAT(t.stalled, ElementsAre("source trades"));
}

}  // namespace
}  // namespace rivulet::daemon
