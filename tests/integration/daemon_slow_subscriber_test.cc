// A stuck subscriber never holds the pipeline back. rivulet-sub is stopped (SIGSTOP) while the
// daemon publishes far more than `publish_hwm` and every socket buffer between them hold; a
// subscriber that keeps up meanwhile gets every result, its seq without a gap. Run again,
// rivulet-sub has lost the results over its queue, says so on stderr, and its output has exactly
// that gap.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <charconv>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

// Far above the 2,000 results a window close publishes at once, and half a second of results
// (~100,000 a second): a subscriber that keeps up never loses any, even on a loaded machine under
// a sanitizer, where its I/O thread may lag; far below what the daemon publishes while
// rivulet-sub is stopped.
constexpr int kHwm = 50'000;
// Results published while rivulet-sub is stopped: many times its queue plus the kernel's socket
// buffers (a few MB, ~150 bytes a result).
constexpr std::int64_t kWhileStopped = 500'000;

std::string configYaml() {
  return daemonYaml({.publish = "tcp://127.0.0.1:0",
                     .stages = 1,
                     .more = "  publish_hwm: " + std::to_string(kHwm) + "\n"}) +
         "sources:\n" + generatorYaml("gen", 2000, 4000, 200000) + "pipelines:\n" +
         perKeyPipelineYaml("per_key", "gen");
}

// The seq of a result payload ({"pipeline":"per_key","seq":N,...}), 0 if it has none.
std::int64_t seqOf(std::string_view payload) {
  const std::size_t at = payload.find("\"seq\":");
  if (at == std::string_view::npos) return 0;
  std::int64_t seq = 0;
  std::from_chars(payload.data() + at + 6, payload.data() + payload.size(), seq);
  return seq;
}

TEST(DaemonSlowSubscriber, IsDroppedForAloneAndSeesTheGap) {
  TempDir dir;
  Daemon daemon(dir, configYaml());
  ASSERT_TRUE(daemon.waitReady());
  const std::string endpoint = daemon.publishEndpoint("tcp://");
  Subscriber keeping_up(endpoint, {"per_key/"});
  ASSERT_TRUE(keeping_up.waitConnected());

  const std::string out = dir.file("sub.out");
  const std::string err = dir.file("sub.err");
  ChildProcess slow({RIVULET_BINARY_DIR "/daemon/rivulet-sub", endpoint, "per_key/"}, out, err);
  ASSERT_TRUE(waitUntil([&] { return readFile(out).size() > 100'000; }, 60s))
      << "rivulet-sub printed nothing";
  ASSERT_TRUE(slow.signal(SIGSTOP));

  // Every result reaches the subscriber that keeps up, in seq order, while the other is stopped.
  std::int64_t last = 0;
  std::int64_t first_after_stop = 0;
  while (last - first_after_stop < kWhileStopped) {
    ASSERT_TRUE(keeping_up.receiveUntil(
        [](const auto& received) { return received.size() >= 10'000; }, 60s))
        << "results stopped at seq " << last;
    for (const Message& m : keeping_up.messages()) {
      const std::int64_t seq = seqOf(m.payload);
      if (last != 0) {
        ASSERT_EQ(seq, last + 1) << "a gap for the subscriber that keeps up";
      }
      last = seq;
      if (first_after_stop == 0) first_after_stop = seq;
    }
    keeping_up.clear();
  }
  ASSERT_TRUE(slow.signal(SIGCONT));

  // Run again, rivulet-sub reads what was queued for it, then finds the gap.
  const std::regex missed(R"(rivulet-sub: missed (\d+) results of per_key \(seq (\d+)\.\.(\d+)\))");
  std::smatch match;
  std::string report;
  ASSERT_TRUE(waitUntil(
      [&] {
        report = readFile(err);
        return std::regex_search(report, match, missed);
      },
      60s))
      << "no gap reported; stderr: " << report;
  const std::int64_t count = std::stoll(match[1]);
  const std::int64_t from = std::stoll(match[2]);
  const std::int64_t to = std::stoll(match[3]);
  EXPECT_EQ(count, to - from + 1);
  EXPECT_GT(count, 0);

  // Its output has that gap and no other: seq A-1 is followed by B+1.
  ASSERT_TRUE(slow.signal(SIGTERM));
  ASSERT_EQ(slow.wait(20s), 0);
  std::int64_t previous = 0;
  bool jumped = false;
  for (const std::string& line : splitLines(readFile(out))) {
    const std::int64_t seq = seqOf(line);
    if (previous != 0 && seq != previous + 1) {
      EXPECT_FALSE(jumped) << "a second gap at seq " << previous;
      EXPECT_EQ(previous, from - 1);
      EXPECT_EQ(seq, to + 1);
      jumped = true;
    }
    previous = seq;
  }
  EXPECT_TRUE(jumped);
  EXPECT_THAT(report, testing::Not(testing::HasSubstr("missed 0")));
}

}  // namespace
}  // namespace rivulet::testutil
