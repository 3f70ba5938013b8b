// One pipeline's bad data must not starve the others (issue: `avg(symbol)` of a string field
// refused every event for every pipeline of the source, silently). Over a real tcp source: the
// pipeline that cannot evaluate an event refuses it for itself, counted in
// rivulet_pipeline_refused_total{pipeline,reason} and named in a warning with a sample of the
// event, while the other pipeline publishes every result; an event no pipeline can take is the
// source's error. With `fields:` declared, --check refuses the config instead, and a value of
// another type is refused at the source.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kEvents = 300;

std::string configYaml(const TempDir& dir, const std::string& fields = "") {
  return "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" + dir.file("r.ipc") +
         "\n  output: " + dir.file("out.jsonl") +
         "\n  stages: 2\nsources:\n  trades:\n    kind: tcp\n    listen: 127.0.0.1:0\n"
         "    time: {field: ts, unit: ms}\n" +
         fields +
         "pipelines:\n"
         "  good:\n    from: trades\n    group_by: [symbol]\n    window: {tumbling: 1s}\n"
         "    aggregates: {n: count(), avg: avg(price)}\n"
         "  strmath:\n    from: trades\n    window: {tumbling: 1s}\n"
         "    aggregates: {avg: avg(symbol)}\n";
}

std::string trade(std::int64_t ts, const std::string& symbol, const std::string& price) {
  return R"({"ts":)" + std::to_string(ts) + R"(,"symbol":)" + symbol + R"(,"price":)" + price +
         "}\n";
}

TEST(DaemonRefusal, OnePipelinesTypeErrorDoesNotStarveTheOthers) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir));
  ASSERT_TRUE(daemon.waitReady());
  std::string text;
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> counts;  // (second, symbol)
  for (int i = 0; i < kEvents; ++i) {
    const std::int64_t ts = kBase + i * 10;
    const std::string symbol = i % 3 == 0 ? "AAPL" : "MSFT";
    text += trade(ts, "\"" + symbol + "\"", std::to_string(100 + i % 7));
    ++counts[{(ts - kBase) / 1000, symbol}];
  }
  // No pipeline can take these: good's key is not a scalar, and strmath's argument is not a number.
  text += trade(kBase + 2500, "[1]", "1");
  text += trade(kBase + 2600, "{\"x\":1}", "1");
  {
    TcpClient client(daemon.sourcePort("trades"));
    ASSERT_TRUE(client.send(text));
  }
  Metrics m;
  ASSERT_TRUE(waitCounted(daemon, "trades", kEvents + 2, &m));
  expectSourceCounters(m, "trades", kEvents, {{"wrong_type", 2}});
  EXPECT_EQ(m.value("rivulet_pipeline_refused_total",
                    {{"pipeline", "strmath"}, {"reason", "wrong_type"}}),
            kEvents);
  EXPECT_EQ(
      m.value("rivulet_pipeline_refused_total", {{"pipeline", "good"}, {"reason", "wrong_type"}}),
      0.0);
  EXPECT_EQ(m.sum("rivulet_pipeline_refused_total"), kEvents);

  // Warned, with who, why and a sample of the event; and the source's own refusal too.
  ASSERT_TRUE(waitUntil(
      [&] {
        const std::string log = daemon.log();
        return log.find("pipeline strmath (source trades): refused an event (wrong_type") !=
                   std::string::npos &&
               log.find("source trades: refused an event (wrong_type") != std::string::npos;
      },
      30s))
      << daemon.log();
  EXPECT_NE(daemon.log().find(R"(: {"ts":1700000000000,"symbol":"AAPL","price":100})"),
            std::string::npos)
      << daemon.log();

  daemon.process().signal(SIGTERM);
  const auto status = daemon.process().wait(60s);
  ASSERT_TRUE(status.has_value() && exitCodeOf(*status) == 0) << daemon.log();

  // good published every window of every key, with every event in it.
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> published;
  for (const Result& r : parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))))) {
    if (r.pipeline != "good") continue;
    ASSERT_EQ(r.key.size(), 1u);
    published[{(r.start - kBase) / 1000, r.key[0].second}] += r.values.at("n").integer;
  }
  EXPECT_EQ(published, counts);
}

TEST(DaemonRefusal, DeclaredFieldsAreCheckedAtLoadAndAtTheSource) {
  TempDir dir;
  writeFile(dir.file("bad.yaml"), configYaml(dir, "    fields: {symbol: string, price: number}\n"));
  const CommandResult check =
      runCommand(dir, {kDaemonPath, "--check", "--config", dir.file("bad.yaml")});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find("bad.yaml:21:23: pipelines.strmath.aggregates.avg: \"avg(symbol)\": "
                           "\"symbol\" is declared string, and the argument must be a number"),
            std::string::npos)
      << check.err;

  // Without strmath: a price that is not a number is refused at the source.
  std::string yaml = configYaml(dir, "    fields: {symbol: string, price: number}\n");
  yaml = yaml.substr(0, yaml.find("  strmath:"));
  Daemon daemon(dir, yaml);
  ASSERT_TRUE(daemon.waitReady());
  {
    TcpClient client(daemon.sourcePort("trades"));
    ASSERT_TRUE(client.send(trade(kBase, "\"AAPL\"", "1.5") +
                            trade(kBase + 1, "\"AAPL\"", "\"1.5\"") +
                            trade(kBase + 2, "\"AAPL\"", "null") + trade(kBase + 3, "7", "2")));
  }
  Metrics m;
  ASSERT_TRUE(waitCounted(daemon, "trades", 4, &m));
  expectSourceCounters(m, "trades", 2, {{"wrong_type", 2}});
  EXPECT_TRUE(waitUntil(
      [&] {
        return daemon.log().find(
                   R"(source trades: refused an event (wrong_type; 1 more not shown): {"ts":1700000000001)") !=
                   std::string::npos ||
               daemon.log().find(
                   R"(source trades: refused an event (wrong_type): {"ts":1700000000001)") !=
                   std::string::npos;
      },
      30s))
      << daemon.log();
}

}  // namespace
}  // namespace rivulet::testutil
