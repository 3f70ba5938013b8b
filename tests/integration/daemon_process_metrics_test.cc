// The process and stage-thread metrics, scraped from the real daemon over HTTP and checked against
// what the kernel says about the same process (/proc/<pid>) and against the test's own clock:
// CPU time, threads, file descriptors, start time, resident memory, and each stage's busy and
// idle time, which together must account for the wall clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

constexpr int kStages = 2;

// A throttled generator: the stages have work, and time to wait for more.
std::string configYaml() {
  return daemonYaml({.publish = "tcp://127.0.0.1:0", .stages = kStages}) + "sources:\n" +
         generatorYaml("gen", 1000, 100000, 200000) + "pipelines:\n" +
         perKeyPipelineYaml("per_key", "gen", "      n: count()\n      total: sum(value)\n");
}

// User + system CPU seconds of a process, from /proc/<pid>/stat (fields 14 and 15).
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 13) return -1;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

double stageSeconds(const Metrics& m, int stage, const char* state) {
  return m.valueOr0("rivulet_stage_seconds_total",
                    {{"stage", std::to_string(stage)}, {"state", state}});
}

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ProcessMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    started_ = wallSeconds();
    daemon_.emplace(dir_, configYaml());
    ASSERT_TRUE(daemon_->waitReady());
    pid_ = daemon_->process().pid();
  }

  TempDir dir_;
  std::optional<Daemon> daemon_;
  double started_ = 0;
  pid_t pid_ = 0;
  std::string error_;
};

TEST_F(ProcessMetrics, MatchWhatTheKernelSaysAboutTheProcess) {
  const double cpu_before = cpuSeconds(pid_);
  const auto m = daemon_->scrapeUntil(
      [](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_source_events_total", {{"source", "gen"}}) > 0;
      },
      30s, &error_);
  const double cpu_after = cpuSeconds(pid_);
  ASSERT_TRUE(m) << error_;

  // CPU: a counter of the same ticks the kernel reports, read between the test's two readings.
  const auto cpu = m->value("rivulet_process_cpu_seconds_total");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_GE(*cpu, cpu_before);
  EXPECT_LE(*cpu, cpu_after);

  // Threads: main, the source, the stages, the publisher, and the metrics server's.
  const auto threads = m->value("rivulet_process_threads");
  ASSERT_TRUE(threads.has_value());
  EXPECT_GE(*threads, 1 + 1 + kStages + 1);
  EXPECT_EQ(*threads, static_cast<double>(entries("/proc/" + std::to_string(pid_) + "/task")));

  // File descriptors: at least stdin, stdout, stderr and the sockets; the scrape's own connection
  // comes and goes, so allow a few either way.
  const auto fds = m->value("rivulet_process_open_fds");
  ASSERT_TRUE(fds.has_value());
  const auto now_fds = static_cast<double>(entries("/proc/" + std::to_string(pid_) + "/fd"));
  EXPECT_GE(*fds, 3 + 2);
  EXPECT_NEAR(*fds, now_fds, 3);
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);  // inherited by the daemon
  EXPECT_EQ(m->value("rivulet_process_max_fds"), static_cast<double>(limit.rlim_cur));

  // Start time: between the test starting the daemon and the first scrape; /proc/stat gives the
  // boot time in whole seconds.
  const auto start = m->value("rivulet_process_start_time_seconds");
  ASSERT_TRUE(start.has_value());
  EXPECT_GE(*start, started_ - 1.5);
  EXPECT_LE(*start, wallSeconds() + 1.5);

  EXPECT_GT(m->valueOr0("rivulet_process_resident_memory_bytes"), 1 << 20);
}

TEST_F(ProcessMetrics, StageBusyAndIdleTimeAccountForTheWallClock) {
  const auto first = daemon_->scrapeUntil(
      [](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_pipeline_events_total", {{"pipeline", "per_key"}}) > 0;
      },
      30s, &error_);
  ASSERT_TRUE(first) << error_;
  const auto after_first = Clock::now();
  ASSERT_EQ(first->all("rivulet_stage_seconds_total").size(), 2u * kStages);

  // Wait until every stage has accounted for at least one more second; then compare what it
  // accounted for with the time that passed between the two scrapes.
  std::optional<Metrics> second;
  Clock::time_point before_second;
  ASSERT_TRUE(waitUntil(
      [&] {
        before_second = Clock::now();
        second = daemon_->scrape(&error_);
        if (!second) return false;
        for (int s = 0; s < kStages; ++s) {
          const double grown = stageSeconds(*second, s, "busy") + stageSeconds(*second, s, "idle") -
                               stageSeconds(*first, s, "busy") - stageSeconds(*first, s, "idle");
          if (grown < 1.0) return false;
        }
        return true;
      },
      30s, 50ms))
      << error_;
  const double inner = std::chrono::duration<double>(before_second - after_first).count();

  double busy_grown = 0;
  for (int s = 0; s < kStages; ++s) {
    const double busy = stageSeconds(*second, s, "busy") - stageSeconds(*first, s, "busy");
    const double idle = stageSeconds(*second, s, "idle") - stageSeconds(*first, s, "idle");
    EXPECT_GE(busy, 0) << "stage " << s;
    EXPECT_GT(idle, 0) << "stage " << s << ": a throttled stage waits for input";
    busy_grown += busy;
    // Each stage's time is its wall clock, split: it grows with the time between the scrapes,
    // give or take the iteration in progress at either scrape (a park is at most 50 ms) and
    // the scrapes' own latency.
    EXPECT_NEAR(busy + idle, inner, 0.25 + 0.1 * inner) << "stage " << s;
  }
  EXPECT_GT(busy_grown, 0) << "events flowed, yet no stage was busy";
}

}  // namespace
}  // namespace rivulet::testutil
