// A quiet stream closes its last window (issue: with `watermark: {delay: 0s, idle: 2s}`, a burst of
// events then silence left the last window open until SIGTERM turned it partial). After `idle`
// without events a source's watermark goes on with the wall clock from its last event, so the
// last window is published final while the daemon runs. The event times are years in the past,
// as in a replay: what counts is the time since the last event, not the event clock.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'500'000'000'000;  // ms: 2017, a replay

std::vector<Result> finals(const TempDir& dir) {
  std::vector<Result> out;
  for (Result& r : parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))))) {
    if (r.kind == "final") out.push_back(std::move(r));
  }
  return out;
}

TEST(DaemonIdle, LastWindowOfAQuietStreamClosesAfterIdle) {
  TempDir dir;
  Daemon daemon(dir, "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" + dir.file("r.ipc") +
                         "\n  output: " + dir.file("out.jsonl") +
                         "\nsources:\n  in:\n    kind: tcp\n    listen: 127.0.0.1:0\n"
                         "    time: {field: ts, unit: ms}\n    watermark: {delay: 0s, idle: 1s}\n"
                         "pipelines:\n  per_second:\n    from: in\n    window: {tumbling: 1s}\n"
                         "    aggregates: {n: count()}\n");
  ASSERT_TRUE(daemon.waitReady());
  TcpClient client(daemon.sourcePort("in"));
  std::string burst;
  for (int i = 0; i <= 25; ++i) burst += R"({"ts":)" + std::to_string(kBase + i * 100) + "}\n";
  ASSERT_TRUE(client.send(burst));

  // The first two windows close with the events; the third, [2000, 3000), only once the source
  // has been silent for a second. The connection stays open: no end of input closes it.
  ASSERT_TRUE(waitUntil([&] { return finals(dir).size() == 3; }, 30s))
      << "last window not closed while running:\n"
      << readFile(dir.file("out.jsonl")) << daemon.log();
  const std::vector<Result> results = finals(dir);
  EXPECT_EQ(results[2].start, kBase + 2000);
  EXPECT_EQ(results[2].end, kBase + 3000);
  EXPECT_EQ(results[2].values.at("n").integer, 6);  // 2000, 2100, ..., 2500
  EXPECT_EQ(results[0].values.at("n").integer + results[1].values.at("n").integer, 20);

  // The stream goes on after its pause; what the silence closed stays closed (late), the next
  // windows fill as before.
  ASSERT_TRUE(client.send(R"({"ts":)" + std::to_string(kBase + 2900) + "}\n" + R"({"ts":)" +
                          std::to_string(kBase + 60'000) + "}\n" + R"({"ts":)" +
                          std::to_string(kBase + 60'500) + "}\n"));
  ASSERT_TRUE(waitUntil([&] { return finals(dir).size() == 4; }, 30s)) << daemon.log();
  EXPECT_EQ(finals(dir)[3].start, kBase + 60'000);
  EXPECT_EQ(finals(dir)[3].values.at("n").integer, 2);
  std::string error;
  const auto m = daemon.scrape(&error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->value("rivulet_pipeline_late_events_total", {{"pipeline", "per_second"}}), 1.0);
}

}  // namespace
}  // namespace rivulet::testutil
