// ProcessSignals with real signals, sent to this process: the stop and reload signals wait,
// pending, for the thread that takes them, also when threads started after it exist, and a
// Daemon run with it stops on a SIGTERM sent to the process. Each test starts when this process
// has a single thread, as ProcessSignals requires (so not under ThreadSanitizer, which has one of
// its own).
#include "daemon/signals.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "config/loader.h"
#include "daemon/daemon.h"
#include "tests/integration/harness/results.h"
#include "tests/support/files.h"
#include "tests/support/http.h"

namespace rivulet::daemon {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::size_t threads() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

TEST(ProcessSignals, TakesTheStopAndReloadSignalsSentToTheProcess) {
  ASSERT_EQ(threads(), 1u);
  ProcessSignals signals;
  EXPECT_EQ(signals.wait(1'000'000), 0) << "a signal before any was sent";
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    ASSERT_EQ(::kill(::getpid(), sig), 0);
    EXPECT_EQ(signals.wait(10 * kSecond), sig);
  }
  // SIGPIPE is ignored: a write to a closed connection is an error, not the end of the process.
  ASSERT_EQ(::raise(SIGPIPE), 0);
  EXPECT_EQ(signals.wait(1'000'000), 0);
}

TEST(ProcessSignals, ThreadsStartedAfterItLeaveTheSignalsToTheWaitingThread) {
  ASSERT_EQ(threads(), 1u);
  ProcessSignals signals;
  bool blocked = false;
  std::thread([&] {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    blocked = sigismember(&mask, SIGINT) == 1 && sigismember(&mask, SIGTERM) == 1 &&
              sigismember(&mask, SIGHUP) == 1;
    // Sent while this thread runs: were it not blocked here, it could be delivered here.
    ::kill(::getpid(), SIGHUP);
  }).join();
  EXPECT_TRUE(blocked);
  EXPECT_EQ(signals.wait(10 * kSecond), SIGHUP);
}

// Sends SIGTERM to the process once the daemon has counted events (or, failing, after a minute),
// then waits as the process's own signals do: the daemon's loop takes the real signal.
class TermOnceCounting final : public SignalSource {
 public:
  TermOnceCounting(ProcessSignals& signals, const Daemon& daemon)
      : signals_(signals), daemon_(daemon) {}

  int wait(std::int64_t timeout_ns) override {
    if (!sent_ && (counted() || std::chrono::steady_clock::now() >= deadline_)) {
      EXPECT_TRUE(counted()) << "no event counted in a minute";
      sent_ = ::kill(::getpid(), SIGTERM) == 0;
      EXPECT_TRUE(sent_);
    }
    return signals_.wait(timeout_ns);
  }
  bool sent() const { return sent_; }

 private:
  bool counted() const {
    std::string error;
    const auto response = testutil::httpGet(daemon_.metricsPort(), "/metrics", &error);
    if (!response) return false;
    const auto metrics = testutil::Metrics::parse(response->body, &error);
    return metrics && metrics->valueOr0("rivulet_pipeline_events_total", {{"pipeline", "p"}}) > 0;
  }

  ProcessSignals& signals_;
  const Daemon& daemon_;
  const std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  bool sent_ = false;
};

TEST(ProcessSignals, ADaemonStopsOnASigtermSentToTheProcess) {
  ASSERT_EQ(threads(), 1u);
  ProcessSignals signals;
  testutil::TempDir dir;
  // Endless, so that only the signal ends it, and it has an open window then.
  const std::string yaml = "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" +
                           dir.file("r.ipc") + "\n  output: " + dir.file("out.jsonl") +
                           "\n  stages: 1\nsources:\n  gen:\n    kind: generator\n    keys: 3\n"
                           "    events_per_second: 1000\n    throttle: 2000\n"
                           "pipelines:\n  p:\n    from: gen\n    window: {tumbling: 1h}\n"
                           "    aggregates: {n: count()}\n";
  testutil::writeFile(dir.file("rivulet.yaml"), yaml);
  const config::LoadResult loaded = config::loadFile(dir.file("rivulet.yaml"));
  ASSERT_TRUE(loaded.config.has_value());
  Options options;
  options.config = dir.file("rivulet.yaml");
  Daemon daemon(options, *loaded.config);
  TermOnceCounting term(signals, daemon);
  EXPECT_EQ(daemon.run(term), kExitOk);
  EXPECT_TRUE(term.sent());
  EXPECT_FALSE(daemon.abandoned());
  const std::vector<testutil::Result> results = testutil::parseResults(
      testutil::messagesFromJsonLines(testutil::readFile(dir.file("out.jsonl"))));
  ASSERT_FALSE(results.empty()) << "the open window was not published at the stop";
  EXPECT_EQ(results.back().kind, "partial");
}

}  // namespace
}  // namespace rivulet::daemon
