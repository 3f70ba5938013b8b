// rivuletd under a service manager's eyes: the test owns the NOTIFY_SOCKET datagram socket and
// checks the notices the real daemon sends — READY=1 first, STATUS= lines, WATCHDOG=1 keep-alives,
// RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM or at the end of the input — and
// that a stalled stage stops the keep-alives. The stage is stalled for real: ptrace stops that one
// thread of the running daemon (the test is its parent, so it may), the others run on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>

#include <functional>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr milliseconds kWatchdog = 1000ms;  // WATCHDOG_USEC: the daemon pings every 0.5 s
const std::string kWatchdogUsec = "WATCHDOG_USEC=1000000";

// A generator whose event time runs with the wall clock: one 1 s window per key per second.
std::string generatorConfig(const TempDir& dir, int throttle, int count = 0) {
  return daemonYaml(dir) + "sources:\n" +
         generatorYaml("gen", 100, throttle > 0 ? throttle : 100000, throttle,
                       "    count: " + std::to_string(count) + "\n") +
         "pipelines:\n" + perKeyPipelineYaml("counts", "gen");
}

using NoticeTest = std::function<bool(const Notice&)>;

bool isPing(const Notice& n) { return n.has("WATCHDOG", "1"); }
bool isReady(const Notice& n) { return n.has("READY", "1"); }
bool isStatus(const Notice& n) { return n.get("STATUS").has_value(); }

// Index of the first notice from `from` on that passes `test`; notices.size() if none.
std::size_t find(const std::vector<Notice>& notices, const NoticeTest& test, std::size_t from = 0) {
  for (std::size_t i = from; i < notices.size(); ++i) {
    if (test(notices[i])) return i;
  }
  return notices.size();
}

std::size_t count(const std::vector<Notice>& notices, const NoticeTest& test,
                  std::size_t from = 0) {
  std::size_t n = 0;
  for (std::size_t i = from; i < notices.size(); ++i) n += test(notices[i]) ? 1 : 0;
  return n;
}

std::string dump(const std::vector<Notice>& notices) {
  std::string out;
  for (std::size_t i = 0; i < notices.size(); ++i) {
    std::string text = notices[i].text;
    std::replace(text.begin(), text.end(), '\n', '|');
    out += "  [" + std::to_string(i) + "] " + text + "\n";
  }
  return out;
}

// "events/s" of a "running: ..." status, or -1.
long eventsPerSecond(const Notice& n) {
  const std::optional<std::string> status = n.get("STATUS");
  if (!status || status->rfind("running: ", 0) != 0) return -1;
  const std::size_t unit = status->find(" events/s");
  if (unit == std::string::npos) return -1;
  const std::size_t start = status->rfind(' ', unit - 1);
  return std::atol(status->c_str() + start + 1);
}

TEST(DaemonSystemd, ReadyFirstThenStatusAndKeepAlivesThenStoppingOnSigterm) {
  TempDir dir;
  NotifySocket notify(dir);
  Daemon daemon(dir, generatorConfig(dir, 20000), {}, {notify.environment(), kWatchdogUsec});
  const pid_t pid = daemon.process().pid();

  // A status with a rate (the first comes 2 s after READY=1) and keep-alives after it.
  const auto rate_and_pings = [](const std::vector<Notice>& n) {
    const std::size_t rated = find(n, [](const Notice& x) { return eventsPerSecond(x) > 0; });
    return rated < n.size() && count(n, isPing, rated) >= 2;
  };
  ASSERT_TRUE(notify.receiveUntil(rate_and_pings, 30s)) << dump(notify.notices());
  ASSERT_TRUE(daemon.waitReady());  // READY=1 comes after the sockets are bound and logged

  const std::vector<Notice>& notices = notify.notices();
  EXPECT_TRUE(isReady(notices.front())) << dump(notices);
  EXPECT_EQ(notices.front().get("STATUS"), "running: 1 pipeline, 2 stages");
  EXPECT_EQ(count(notices, isReady), 1u);
  EXPECT_GE(count(notices, isPing), 3u);
  for (const Notice& n : notices) {
    EXPECT_EQ(n.pid, pid) << "a notice not from the main process: " << n.text;
    if (const auto status = n.get("STATUS")) {
      EXPECT_THAT(*status, StartsWith("running: "));
    }
  }

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  ASSERT_TRUE(notify.receiveUntil(
      [](const std::vector<Notice>& n) {
        return find(n, [](const Notice& x) { return x.has("STOPPING", "1"); }) < n.size();
      },
      30s))
      << dump(notify.notices());
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value()) << "still running 30 s after SIGTERM";
  EXPECT_EQ(*exit_code, 0);

  const std::size_t stopping =
      find(notices, [](const Notice& n) { return n.has("STOPPING", "1"); });
  EXPECT_THAT(notices[stopping].get("STATUS").value_or(""), StartsWith("stopping: "));
  EXPECT_EQ(count(notices, [](const Notice& n) { return n.has("STOPPING", "1"); }), 1u);
  EXPECT_EQ(find(notices, isReady, stopping), notices.size()) << "READY=1 after STOPPING=1";
  EXPECT_EQ(find(
                notices, [](const Notice& n) { return isStatus(n) && !n.has("STOPPING", "1"); },
                stopping + 1),
            notices.size())
      << "a status line replaced the stopping one:\n"
      << dump(notices);
}

TEST(DaemonSystemd, SighupSendsReloadingThenReadyAndKeepsRunning) {
  TempDir dir;
  NotifySocket notify(dir);
  Daemon daemon(dir, generatorConfig(dir, 20000), {}, {notify.environment(), kWatchdogUsec});
  ASSERT_TRUE(notify.receiveUntil(
      [](const std::vector<Notice>& n) { return !n.empty() && count(n, isPing) >= 1; }, 30s))
      << dump(notify.notices());
  ASSERT_TRUE(isReady(notify.notices().front())) << dump(notify.notices());

  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  const auto ready_again = [](const std::vector<Notice>& n) {
    const std::size_t reloading = find(n, [](const Notice& x) { return x.has("RELOADING", "1"); });
    return find(n, isReady, reloading) < n.size() &&
           count(n, isPing, find(n, isReady, reloading)) >= 2;
  };
  ASSERT_TRUE(notify.receiveUntil(ready_again, 30s)) << dump(notify.notices());
  const std::vector<Notice>& notices = notify.notices();
  const std::size_t reloading =
      find(notices, [](const Notice& n) { return n.has("RELOADING", "1"); });
  const std::size_t ready = find(notices, isReady, reloading);
  EXPECT_TRUE(notices[reloading].get("MONOTONIC_USEC").has_value()) << notices[reloading].text;
  EXPECT_EQ(ready, reloading + 1) << "READY=1 must follow RELOADING=1 directly:\n" << dump(notices);
  EXPECT_THAT(notices[ready].get("STATUS").value_or(""), StartsWith("running: "));
  EXPECT_EQ(count(notices, isReady), 2u);
  EXPECT_TRUE(daemon.process().running());
  EXPECT_THAT(daemon.log(), HasSubstr("reload: pipelines unchanged"));

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
}

TEST(DaemonSystemd, EndOfBoundedInputSendsStoppingBeforeExit) {
  TempDir dir;
  NotifySocket notify(dir);
  Daemon daemon(dir, generatorConfig(dir, 0, 200000), {}, {notify.environment(), kWatchdogUsec});
  const auto exit_code = daemon.process().wait(60s);
  ASSERT_TRUE(exit_code.has_value()) << "a bounded run still going after 60 s";
  EXPECT_EQ(*exit_code, 0);
  // Everything the daemon sent is queued on the socket by now.
  ASSERT_TRUE(notify.receiveUntil(
      [](const std::vector<Notice>& n) {
        return find(n, [](const Notice& x) { return x.has("STOPPING", "1"); }) < n.size();
      },
      5s))
      << dump(notify.notices());
  const std::vector<Notice>& notices = notify.notices();
  EXPECT_TRUE(isReady(notices.front())) << dump(notices);
  const std::size_t stopping =
      find(notices, [](const Notice& n) { return n.has("STOPPING", "1"); });
  EXPECT_EQ(notices[stopping].get("STATUS"), "input ended: publishing the last windows");
  EXPECT_EQ(find(notices, isReady, stopping), notices.size());
}

TEST(DaemonSystemd, KeepAliveIsForTheProcessNamedByWatchdogPid) {
  TempDir dir;
  NotifySocket notify(dir);
  // The variables a service manager set for some other process (sd_watchdog_enabled(3)): this
  // daemon must not ping for it. Its notices still come.
  Daemon daemon(dir, generatorConfig(dir, 20000), {},
                {notify.environment(), kWatchdogUsec, "WATCHDOG_PID=" + std::to_string(getpid())});
  // A status refresh comes 2 s after READY=1: four keep-alive intervals.
  ASSERT_TRUE(notify.receiveUntil(
      [](const std::vector<Notice>& n) { return count(n, isStatus) >= 2; }, 30s))
      << dump(notify.notices());
  EXPECT_TRUE(isReady(notify.notices().front()));
  EXPECT_EQ(count(notify.notices(), isPing), 0u) << dump(notify.notices());
  EXPECT_THAT(daemon.log(), ::testing::Not(HasSubstr("watchdog: keep-alive every")));
}

TEST(DaemonSystemd, StalledStageWithholdsKeepAlivesUntilItMovesAgain) {
  TempDir dir;
  NotifySocket notify(dir);
  // Fast enough that the stopped stage's ring fills within a few seconds and the source waits on
  // it: a source held back by a stage is not stalled itself.
  Daemon daemon(dir, generatorConfig(dir, 200000), {}, {notify.environment(), kWatchdogUsec});
  ASSERT_TRUE(
      notify.receiveUntil([](const std::vector<Notice>& n) { return count(n, isPing) >= 2; }, 30s))
      << dump(notify.notices());
  ASSERT_TRUE(daemon.waitReady());

  const pid_t stage = threadNamed(daemon.process().pid(), "rv-stage-1");
  ASSERT_GT(stage, 0) << "no thread named rv-stage-1";
  ThreadStop stop(stage);
  if (stop.refused()) GTEST_SKIP() << "ptrace is not permitted here: " << stop.error();
  ASSERT_TRUE(stop.stopped()) << stop.error();
  const std::size_t before = notify.notices().size();

  // The stall is reported on the socket: keep-alives stop from that notice on.
  const std::string stalled = "stalled: stage 1 (no progress for over 1 s), keep-alive withheld";
  const auto reported = [&](const std::vector<Notice>& n) {
    return find(
               n, [&](const Notice& x) { return x.has("STATUS", stalled); }, before) < n.size();
  };
  ASSERT_TRUE(notify.receiveUntil(reported, 20s)) << dump(notify.notices());
  const std::size_t report = find(
      notify.notices(), [&](const Notice& x) { return x.has("STATUS", stalled); }, before);

  // Only that stage: the source, held back by its full ring, and the publisher still beat.
  std::string error;
  const auto held_back = daemon.scrapeUntil(
      [](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_ring_full_waits_total", {{"source", "gen"}}) > 0;
      },
      30s, &error);
  ASSERT_TRUE(held_back) << error;
  ASSERT_GT(held_back->valueOr0("rivulet_ring_full_waits_total", {{"source", "gen"}}), 0);
  const auto age = [&](const char* thread) {
    return held_back->valueOr0("rivulet_thread_heartbeat_age_seconds", {{"thread", thread}});
  };
  EXPECT_GT(age("stage 1"), 1.0);
  EXPECT_LT(age("stage 0"), 1.0);
  EXPECT_LT(age("publisher"), 1.0);
  EXPECT_LT(age("source gen"), 1.0);

  // Three keep-alive timeouts more: no keep-alive, while the status line, refreshed every 2 s,
  // shows the daemon alive and still names the one stage.
  notify.receiveFor(3 * kWatchdog);
  const std::vector<Notice>& notices = notify.notices();
  EXPECT_EQ(find(notices, isPing, report), notices.size()) << dump(notices);
  EXPECT_GE(count(notices, isStatus, report + 1), 1u) << dump(notices);
  for (std::size_t i = report; i < notices.size(); ++i) {
    if (isStatus(notices[i])) {
      EXPECT_EQ(notices[i].get("STATUS"), stalled);
    }
  }
  EXPECT_TRUE(daemon.process().running());

  // Let it go: it catches up, and the keep-alives come back.
  stop.resume();
  const std::size_t resumed = notices.size();
  ASSERT_TRUE(notify.receiveUntil(
      [&](const std::vector<Notice>& n) {
        const std::size_t running = find(
            n,
            [](const Notice& x) { return x.get("STATUS").value_or("").rfind("running: ", 0) == 0; },
            resumed);
        return running < n.size() && count(n, isPing, running) >= 1;
      },
      20s))
      << dump(notify.notices());
  const std::string log = daemon.log();
  EXPECT_THAT(log, HasSubstr("watchdog: stage 1 made no progress for over 1 s"));
  EXPECT_EQ(log.find("watchdog: stage 1 made no progress"),
            log.rfind("watchdog: stage 1 made no progress"))
      << "the stall is logged once";
  EXPECT_THAT(log, HasSubstr("watchdog: stage 1 makes progress again"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("watchdog: source")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("watchdog: publisher")));

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
}

// The cpus the test may run on, ascending.
std::vector<int> allowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  return cpus;
}

// A thread's Cpus_allowed_list from /proc ("1", "0-1").
std::string cpusAllowed(pid_t pid, pid_t tid) {
  const std::string status =
      readFile("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
  for (const std::string& line : splitLines(status)) {
    if (line.rfind("Cpus_allowed_list:", 0) == 0) {
      return line.substr(line.find_first_not_of(" \t", 18));
    }
  }
  return {};
}

TEST(DaemonSystemd, DefaultPlacementStaysWithinTheAffinityMaskItWasStartedWith) {
  const std::vector<int> cpus = allowedCpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two cpus to leave one out";
  TempDir dir;
  const std::string only = std::to_string(cpus.front());
  writeFile(dir.file("rivulet.yaml"), generatorConfig(dir, 1000));
  // As a unit's CPUAffinity= would: the daemon starts on one cpu of the machine's several.
  ChildProcess daemon(
      {"/usr/bin/taskset", "-c", only, kDaemonPath, "--config", dir.file("rivulet.yaml")},
      dir.file("out"), dir.file("log"));
  ASSERT_TRUE(waitUntil(
      [&] {
        return readFile(dir.file("log")).find(" running: ") != std::string::npos ||
               !daemon.running();
      },
      30s))
      << readFile(dir.file("log"));
  ASSERT_TRUE(daemon.running()) << readFile(dir.file("log"));
  for (const char* name : {"rv-stage-0", "rv-stage-1", "rv-publisher", "rv-source-0"}) {
    const pid_t tid = threadNamed(daemon.pid(), name);
    ASSERT_GT(tid, 0) << name;
    EXPECT_EQ(cpusAllowed(daemon.pid(), tid), only) << name;
  }
  ASSERT_TRUE(daemon.signal(SIGTERM));
  EXPECT_EQ(daemon.wait(30s), 0);
}

TEST(DaemonSystemd, PinOutsideTheAffinityMaskIsRefusedAtStart) {
  const std::vector<int> cpus = allowedCpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two cpus to leave one out";
  TempDir dir;
  const std::string outside = std::to_string(cpus.back());
  std::string config = generatorConfig(dir, 1000);
  config.insert(config.find("  stages: 2\n"), "  cpus: {stages: [" + outside + "]}\n");
  writeFile(dir.file("rivulet.yaml"), config);
  const CommandResult run = runCommand(dir, {"/usr/bin/taskset", "-c", std::to_string(cpus.front()),
                                             kDaemonPath, "--config", dir.file("rivulet.yaml")});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_THAT(run.err, HasSubstr("daemon.cpus: cpu " + outside +
                                 " is not among the cpus this process may run on (" +
                                 std::to_string(cpus.front()) + ";"));
}

}  // namespace
}  // namespace rivulet::testutil
