// The operators' metrics of the real daemon, scraped over HTTP while real clients feed it: bytes
// read per tcp and udp source equal the bytes sent, connected clients follow the tcp clients;
// with an `emit: updates` pipeline beside a final one, results published by kind, the emit-latency
// histogram per pipeline (one observation per result), the absolute watermark and the time of the
// last result; the config's load time at start and at a reload; and the final counts logged at a
// stop — the non-zero ones at info, every one at debug.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms, a multiple of the 1 s window

// Seconds since the epoch, as the daemon's wall clock reads it.
double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string pipeline(const std::string& name, const std::string& from, const std::string& extra) {
  return "  " + name + ":\n    from: " + from +
         "\n    group_by: [sym]\n    window: {tumbling: 1s}\n" + extra +
         "    aggregates:\n      n: count()\n";
}

std::string configYaml(const TempDir& dir, const std::string& sources,
                       const std::string& pipelines) {
  return daemonYaml(dir, {.stages = 1}) + "sources:\n" + sources + "pipelines:\n" + pipelines;
}

std::string listener(const std::string& name, const std::string& kind) {
  return "  " + name + ":\n    kind: " + kind +
         "\n    listen: 127.0.0.1:0\n    time: {field: ts, unit: ms}\n    watermark: {delay: 0s}\n";
}

std::string line(std::int64_t offset_ms, const std::string& sym = "a") {
  return "{\"ts\":" + std::to_string(kBase + offset_ms) + ",\"sym\":\"" + sym + "\"}\n";
}

// A sum over the samples of `name` whose labels include `labels`.
double sumWhere(const Metrics& m, const std::string& name, const Labels& labels) {
  double total = 0;
  for (const Sample& s : m.all(name)) {
    bool match = true;
    for (const auto& [key, value] : labels) {
      const auto it = s.labels.find(key);
      match = match && it != s.labels.end() && it->second == value;
    }
    if (match) total += s.value;
  }
  return total;
}

// The final counts a stopped daemon logged, as a scrape would show them.
Metrics finalCounts(const std::string& log) {
  std::string counts;
  for (const std::string& l : splitLines(log)) {
    if (const std::size_t at = l.find("final count: "); at != std::string::npos)
      counts += l.substr(at + 13) + "\n";
  }
  std::string error;
  std::optional<Metrics> parsed = Metrics::parse(counts, &error);
  EXPECT_TRUE(parsed) << error;
  return parsed.value_or(Metrics{});
}

TEST(DaemonOperatorMetrics, BytesReadAndClientsConnectedPerSource) {
  TempDir dir;
  Daemon daemon(
      dir, configYaml(dir, listener("lines", "tcp") + listener("packets", "udp"),
                      pipeline("by_line", "lines", "") + pipeline("by_packet", "packets", "")));
  ASSERT_TRUE(daemon.waitReady());
  std::string error;
  const auto waitMetric = [&](const std::string& name, const Labels& labels, double want) {
    const auto m = daemon.scrapeUntil(
        [&](const Metrics& scraped) { return scraped.value(name, labels) == want; }, 30s, &error);
    EXPECT_TRUE(m) << error;
    return m ? m->value(name, labels) : std::nullopt;
  };
  const Labels lines{{"source", "lines"}};
  const Labels packets{{"source", "packets"}};
  EXPECT_EQ(waitMetric("rivulet_source_connections", lines, 0), 0.0);

  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int c = 0; c < 3; ++c) {
    clients.push_back(std::make_unique<TcpClient>(daemon.sourcePort("lines")));
  }
  EXPECT_EQ(waitMetric("rivulet_source_connections", lines, 3), 3.0);

  // Good lines and bad ones: every byte read counts, whatever became of the line.
  double sent = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string text =
        i % 7 == 0 ? "not json at all\n" : line(i, "s" + std::to_string(i % 5));
    ASSERT_TRUE(clients[static_cast<std::size_t>(i) % 3]->send(text));
    sent += static_cast<double>(text.size());
  }
  EXPECT_EQ(waitMetric("rivulet_source_bytes_total", lines, sent), sent);
  clients[0]->close();
  clients[1]->reset();
  EXPECT_EQ(waitMetric("rivulet_source_connections", lines, 1), 1.0);

  UdpSender udp(daemon.sourcePort("packets"));
  double datagram_bytes = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string text = i % 5 == 0 ? "[1,2]" : line(i);
    ASSERT_TRUE(udp.send(text));
    datagram_bytes += static_cast<double>(text.size());
  }
  const auto m = daemon.scrapeUntil(
      [&](const Metrics& scraped) { return countedBy(scraped, "packets") >= 40; }, 30s, &error);
  ASSERT_TRUE(m) << error;
  ASSERT_EQ(countedBy(*m, "packets"), 40) << "datagrams lost on loopback";
  EXPECT_EQ(m->value("rivulet_source_bytes_total", packets), datagram_bytes);
  // UDP has no connections, and its senders are not tracked: no such series.
  EXPECT_FALSE(m->value("rivulet_source_connections", packets).has_value());

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

TEST(DaemonOperatorMetrics, ResultsByKindLatencyPerPipelineWatermarkAndLastResult) {
  TempDir dir;
  Daemon daemon(dir,
                configYaml(dir, listener("in", "tcp"),
                           pipeline("upd", "in", "    allowed_lateness: 10s\n    emit: updates\n") +
                               pipeline("fin", "in", "")));
  ASSERT_TRUE(daemon.waitReady());
  Subscriber sub(daemon.publishEndpoint("ipc://"));
  ASSERT_TRUE(waitSubscribed(daemon, sub));
  std::string error;
  TcpClient client(daemon.sourcePort("in"));
  const auto results = [&](std::size_t n) {
    return sub.receiveUntil([&](const std::vector<Message>& got) { return countResults(got) >= n; },
                            30s);
  };
  const auto waitFor = [&](const auto& condition) {
    const auto m = daemon.scrapeUntil(condition, 30s, &error);
    EXPECT_TRUE(m && condition(*m)) << error;
    return m;
  };

  // Before any result: 0 for the time of the last, no watermark yet.
  ASSERT_TRUE(client.send(line(100)));
  auto m = waitFor([](const Metrics& scraped) {
    return scraped.valueOr0("rivulet_pipeline_events_total", {{"pipeline", "fin"}}) == 1 &&
           scraped.valueOr0("rivulet_pipeline_events_total", {{"pipeline", "upd"}}) == 1;
  });
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value("rivulet_last_result_timestamp_seconds", {{"pipeline", "fin"}}), 0.0);

  // The watermark passes 1 s: both pipelines' first window fires, final.
  const double before_finals = wallSeconds();
  ASSERT_TRUE(client.send(line(1500)));
  ASSERT_TRUE(results(2));
  const double after_finals = wallSeconds();
  // A late event: an update of `upd`'s window, a late event for `fin`.
  ASSERT_TRUE(client.send(line(200)));
  ASSERT_TRUE(results(3));
  const double after_update = wallSeconds();

  m = waitFor([](const Metrics& scraped) {
    // The stage adds its late count to the metrics apart from its results: wait for both.
    return sumWhere(scraped, "rivulet_results_published_total", {}) == 3 &&
           sumWhere(scraped, "rivulet_emit_latency_seconds_count", {}) == 3 &&
           sumWhere(scraped, "rivulet_pipeline_late_events_total", {}) == 1;
  });
  ASSERT_TRUE(m);
  const auto published = [&](const char* p, const char* kind) {
    return m->value("rivulet_results_published_total", {{"pipeline", p}, {"kind", kind}});
  };
  EXPECT_EQ(published("upd", "final"), 1.0);
  EXPECT_EQ(published("upd", "update"), 1.0);
  EXPECT_EQ(published("upd", "partial"), 0.0);
  EXPECT_EQ(published("fin", "final"), 1.0);
  EXPECT_EQ(published("fin", "update"), 0.0);
  EXPECT_EQ(published("fin", "partial"), 0.0);
  EXPECT_EQ(m->value("rivulet_pipeline_late_events_total", {{"pipeline", "fin"}}), 1.0);
  // One latency per result, in its own pipeline's histogram.
  for (const auto& [p, n] : {std::pair{"upd", 2.0}, {"fin", 1.0}}) {
    EXPECT_EQ(m->value("rivulet_emit_latency_seconds_count", {{"pipeline", p}}), n) << p;
    EXPECT_EQ(m->value("rivulet_emit_latency_seconds_bucket", {{"pipeline", p}, {"le", "+Inf"}}), n)
        << p;
    EXPECT_EQ(sumWhere(*m, "rivulet_results_published_total", {{"pipeline", p}}), n) << p;
    // The event time the watermark has reached: the latest event's, the delay being 0.
    EXPECT_EQ(m->value("rivulet_watermark_seconds", {{"pipeline", p}}),
              static_cast<double>(kBase + 1500) / 1000)
        << p;
  }
  // Handed to the outputs after the event that made it, before the subscriber had it.
  const auto last = [&](const char* p) {
    return m->valueOr0("rivulet_last_result_timestamp_seconds", {{"pipeline", p}});
  };
  EXPECT_GE(last("fin"), before_finals);
  EXPECT_LE(last("fin"), after_finals);
  EXPECT_GE(last("upd"), after_finals - 1e-3);  // the update's, the later one
  EXPECT_LE(last("upd"), after_update);

  // At the stop the open window [1 s, 2 s) goes out as partial, in both.
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  ASSERT_EQ(daemon.process().wait(30s), 0);
  const Metrics f = finalCounts(daemon.log());
  EXPECT_EQ(f.value("rivulet_results_published_total", {{"pipeline", "upd"}, {"kind", "partial"}}),
            1.0);
  EXPECT_EQ(f.value("rivulet_results_published_total", {{"pipeline", "fin"}, {"kind", "partial"}}),
            1.0);
  EXPECT_EQ(f.value("rivulet_results_published_total", {{"pipeline", "upd"}, {"kind", "update"}}),
            1.0);
}

TEST(DaemonOperatorMetrics, FinalCountsAreTheNonZeroOnesAtInfoAndEveryOneAtDebug) {
  const std::string gen =
      generatorYaml("gen", 10, 1000, 0, "    start: 1700000000000\n    count: 5000\n");
  for (const bool debug : {false, true}) {
    TempDir dir;
    Daemon daemon(
        dir, configYaml(dir, gen, perKeyPipelineYaml("p", "gen")),
        debug ? std::vector<std::string>{"--log-level", "debug"} : std::vector<std::string>{});
    ASSERT_EQ(daemon.process().wait(60s), 0) << daemon.log();
    const std::string log = daemon.log();
    const Metrics f = finalCounts(log);
    EXPECT_EQ(f.value("rivulet_source_events_total", {{"source", "gen"}}), 5000.0) << debug;
    EXPECT_EQ(f.value("rivulet_results_published_total", {{"pipeline", "p"}, {"kind", "final"}}),
              50.0)
        << debug;
    const std::string zero =
        "final count: rivulet_results_published_total{pipeline=\"p\",kind=\"update\"} 0\n";
    if (debug) {
      EXPECT_THAT(log, HasSubstr(zero));
      EXPECT_THAT(log, HasSubstr("final count: rivulet_source_dropped_total{source=\"gen\"} 0\n"));
    } else {
      EXPECT_THAT(log, Not(HasSubstr(zero)));
      for (const Sample& s : f.samples()) EXPECT_NE(s.value, 0) << s.name << " logged at info";
    }
  }
}

TEST(DaemonOperatorMetrics, ConfigLoadTimeAtStartAndAtEachAppliedReload) {
  TempDir dir;
  const double before_start = wallSeconds();
  Daemon daemon(dir, configYaml(dir, listener("in", "tcp"), pipeline("p", "in", "")));
  ASSERT_TRUE(daemon.waitReady());
  const double after_start = wallSeconds();
  std::string error;
  const auto started = daemon.scrape(&error);
  ASSERT_TRUE(started) << error;
  const auto loaded = [](const Metrics& scraped) {
    return scraped.valueOr0("rivulet_config_last_reload_success_timestamp_seconds");
  };
  EXPECT_GE(loaded(*started), before_start);
  EXPECT_LE(loaded(*started), after_start);

  const double before_reload = wallSeconds();
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  const auto reloaded = daemon.scrapeUntil(
      [](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_config_reloads_total", {{"result", "applied"}}) == 1;
      },
      30s, &error);
  ASSERT_TRUE(reloaded) << error;
  EXPECT_GE(loaded(*reloaded), before_reload);
  EXPECT_LE(loaded(*reloaded), wallSeconds());

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

}  // namespace
}  // namespace rivulet::testutil
