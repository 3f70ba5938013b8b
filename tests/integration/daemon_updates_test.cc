// The real daemon behind a tcp source, checked message by message over ZeroMQ, for what a window
// publishes beyond its final result (with a quantile among the aggregates): `emit: updates` (final
// when the watermark reaches the end, then an update per late event until end + allowed_lateness,
// then late), session windows, the
// `_late/` topic, expressions over nested fields, and group_by expressions in topics and keys.
// Each step waits for the messages it must produce (or the metric it must move) before the next
// is sent, so the daemon's watermark is known exactly at every event.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms, a multiple of the 1 s window

// One tcp source "in" (ms timestamps, no watermark delay) into one stage; `pipelines` is the
// YAML under `pipelines:`.
std::string configYaml(const TempDir& dir, const std::string& pipelines) {
  return daemonYaml(dir, {.stages = 1}) +
         "sources:\n  in:\n    kind: tcp\n    listen: 127.0.0.1:0\n"
         "    time: {field: ts, unit: ms}\n    watermark: {delay: 0s}\npipelines:\n" +
         pipelines;
}

// The daemon on configYaml(pipelines), a subscriber it has seen, and a client of its source.
class DaemonUpdates : public SubscribedDaemonTest {
 protected:
  void startPipelines(const std::string& pipelines) {
    ASSERT_NO_FATAL_FAILURE(start(configYaml(dir_, pipelines)));
    client_ = std::make_unique<TcpClient>(daemon_->sourcePort("in"));
  }
  // Until `messages` messages have arrived.
  bool waitFor(std::size_t messages) {
    return subscriber_->receiveUntil(
        [&](const std::vector<Message>& got) { return got.size() >= messages; }, 30s);
  }

  // SIGTERM: the daemon publishes up to `messages` messages in all, then exits 0.
  void stopAfter(std::size_t messages) {
    ASSERT_TRUE(daemon_->process().signal(SIGTERM));
    ASSERT_TRUE(waitFor(messages));
    const auto exit_code = daemon_->process().wait(30s);
    ASSERT_TRUE(exit_code.has_value());
    EXPECT_EQ(*exit_code, 0) << daemon_->log();
  }

  std::unique_ptr<TcpClient> client_;
};

std::string line(const std::string& sym, std::int64_t offset_ms, double px) {
  return "{\"ts\":" + std::to_string(kBase + offset_ms) + ",\"sym\":\"" + sym +
         "\",\"px\":" + std::to_string(px) + "}\n";
}

// An event of symbol A with the object `order`.
std::string event(std::int64_t offset_ms, const std::string& order) {
  return "{\"ts\":" + std::to_string(kBase + offset_ms) + ",\"sym\":\"A\",\"order\":" + order +
         "}\n";
}

struct Expected {
  std::string topic;
  std::string kind;  // empty for an end-of-window marker
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::int64_t n = 0;
  double total = 0;
  double median = 0;  // p50 of px: exact for these few values, interpolated as numpy does
};

// A result message as `want`, its seq `seq`; the times after kBase.
void expectResult(const Message& got, std::int64_t seq, const Expected& want) {
  EXPECT_EQ(got.topic, want.topic);
  std::string parse_error;
  const auto r = parseResult(got, &parse_error);
  ASSERT_TRUE(r.has_value()) << parse_error;
  EXPECT_EQ(r->seq, seq);
  EXPECT_EQ(r->kind, want.kind);
  EXPECT_EQ(r->start, kBase + want.start);
  EXPECT_EQ(r->end, kBase + want.end);
  EXPECT_EQ(r->values.at("n").integer, want.n);
  EXPECT_DOUBLE_EQ(r->values.at("total").number, want.total);
  EXPECT_EQ(r->values.at("median").number, want.median);
}

TEST_F(DaemonUpdates, FinalAtTheEndThenAnUpdatePerLateEventThenLate) {
  ASSERT_NO_FATAL_FAILURE(startPipelines(
      "  u:\n    from: in\n    group_by: [sym]\n    window: {tumbling: 1s}\n"
      "    allowed_lateness: 2s\n    emit: updates\n"
      "    aggregates:\n      n: count()\n      total: sum(px)\n      median: p50(px)\n"));
  // Window [0, 1000) fires as final when an event of the next second moves the watermark.
  ASSERT_TRUE(client_->send(line("A", 100, 1) + line("B", 200, 2)));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_source_events_total", {{"source", "in"}}, 2));
  ASSERT_TRUE(client_->send(line("A", 1500, 4)));
  ASSERT_TRUE(waitFor(3)) << subscriber_->messages().size() << " messages";
  // Late but within the allowed lateness: each re-emits its key in the window.
  ASSERT_TRUE(client_->send(line("A", 300, 8)));
  ASSERT_TRUE(waitFor(4));
  ASSERT_TRUE(client_->send(line("C", 400, 16)));
  ASSERT_TRUE(waitFor(5));
  // The watermark passes 3000: [1000, 2000) fires, [0, 1000) closes for good.
  ASSERT_TRUE(client_->send(line("D", 3500, 32)));
  ASSERT_TRUE(waitFor(7));
  ASSERT_TRUE(client_->send(line("A", 600, 64)));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_pipeline_late_events_total", {{"pipeline", "u"}}, 1));
  // The late event made no message: the next one is the partial window at shutdown.
  ASSERT_TRUE(client_->send(line("D", 3600, 128)));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_pipeline_events_total", {{"pipeline", "u"}}, 7));
  ASSERT_NO_FATAL_FAILURE(stopAfter(9));

  const std::vector<Expected> expected = {
      {"u/A/", "final", 0, 1000, 1, 1, 1},
      {"u/B/", "final", 0, 1000, 1, 2, 2},
      {"_window/u/", "", 0},
      {"u/A/", "update", 0, 1000, 2, 9, 4.5},
      {"u/C/", "update", 0, 1000, 1, 16, 16},
      {"u/A/", "final", 1000, 2000, 1, 4, 4},
      {"_window/u/", "", 1000},
      {"u/D/", "partial", 3000, 4000, 2, 160, 80},
      {"_window/u/", "", 3000},
  };
  const std::vector<Message>& got = subscriber_->messages();
  ASSERT_EQ(got.size(), expected.size());
  std::int64_t seq = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i) + ": " + got[i].topic + " " + got[i].payload);
    const Expected& want = expected[i];
    if (want.kind.empty()) {
      EXPECT_EQ(got[i].topic, want.topic);
      EXPECT_NE(got[i].payload.find("\"start\":" + std::to_string(kBase + want.start)),
                std::string::npos);
      continue;
    }
    ASSERT_NO_FATAL_FAILURE(expectResult(got[i], ++seq, want));
  }
}

// late: { topic: true }: an event too late for every window goes out on _late/<pipeline>/ with its
// raw text, byte for byte, besides being counted; an event in time does not. The raw text follows
// the bytes of the event's top_k items in its record.
TEST_F(DaemonUpdates, LateEventsGoOutOnTheLateTopicWithTheirRawText) {
  ASSERT_NO_FATAL_FAILURE(
      startPipelines("  l:\n    from: in\n    group_by: [sym]\n    window: {tumbling: 1s}\n"
                     "    late: {topic: true}\n    aggregates:\n      n: count()\n"
                     "      notes: top_k(note, 2)\n"));
  ASSERT_TRUE(client_->send(line("A", 100, 1)));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_source_events_total", {{"source", "in"}}, 1));
  ASSERT_TRUE(client_->send(line("A", 1500, 2)));  // window [0, 1000) fires
  ASSERT_TRUE(waitFor(2));
  const std::string late = "{\"ts\": " + std::to_string(kBase + 200) +
                           ", \"sym\":\"A\", \"note\":\"caf\u00e9 \\\"x\\\"\"}";
  ASSERT_TRUE(client_->send(late + "\n"));
  ASSERT_TRUE(waitFor(3));
  ASSERT_TRUE(daemon_->process().signal(SIGTERM));
  ASSERT_TRUE(waitFor(5));  // the partial window [1000, 2000) and its marker
  const std::vector<Message>& got = subscriber_->messages();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].topic, "l/A/");
  EXPECT_EQ(got[1].topic, "_window/l/");
  EXPECT_EQ(got[2].topic, "_late/l/");
  EXPECT_EQ(got[2].payload, late);
  EXPECT_EQ(got[3].topic, "l/A/");
  EXPECT_NE(got[3].payload.find("\"kind\":\"partial\""), std::string::npos) << got[3].payload;
  EXPECT_NE(got[3].payload.find("\"values\":{\"n\":1,\"notes\":null}"), std::string::npos)
      << got[3].payload;
  EXPECT_EQ(got[4].topic, "_window/l/");
}

// Nested fields in expressions, end to end: a where and an aggregate argument read fields inside
// an object of the event; events whose object lacks them, or whose filter is false, are skipped.
TEST_F(DaemonUpdates, ExpressionsReadNestedFields) {
  ASSERT_NO_FATAL_FAILURE(startPipelines(
      "  buys:\n    from: in\n    where: \"order.side == 'buy'\"\n    group_by: [sym]\n"
      "    window: {tumbling: 1s}\n    aggregates:\n      n: count()\n"
      "      notional: sum(order.qty * order.px)\n"));
  ASSERT_TRUE(client_->send(event(100, R"({"side":"buy","qty":2,"px":10.5})") +
                            event(200, R"({"side":"sell","qty":3,"px":11})") +
                            event(300, R"({"qty":4,"px":12,"side":"buy","extra":{"x":[1]}})") +
                            event(400, R"({"px":13})") + event(1500, R"({"side":"buy"})")));
  ASSERT_TRUE(waitFor(2));
  const std::vector<Message>& got = subscriber_->messages();
  EXPECT_EQ(got[0].topic, "buys/A/");
  std::string parse_error;
  const auto r = parseResult(got[0], &parse_error);
  ASSERT_TRUE(r.has_value()) << parse_error;
  EXPECT_EQ(r->start, kBase);
  EXPECT_EQ(r->values.at("n").integer, 2);
  EXPECT_DOUBLE_EQ(r->values.at("notional").number, 2 * 10.5 + 4 * 12);
  EXPECT_EQ(got[1].topic, "_window/buys/");
}

// Session windows with emit updates: finals when the watermark passes a session's end, an update
// when a late event extends a fired session or bridges it with a newer one, late (and on the
// late topic) once the session is gone, and no end-of-window markers (a session is a window of
// one key).
TEST_F(DaemonUpdates, SessionsFireGrowMergeAndClose) {
  ASSERT_NO_FATAL_FAILURE(startPipelines(
      "  s:\n    from: in\n    group_by: [sym]\n    window: {session: {gap: 1s}}\n"
      "    allowed_lateness: 2s\n    emit: updates\n    late: {topic: true}\n"
      "    aggregates:\n      n: count()\n      total: sum(px)\n      median: p50(px)\n"));
  ASSERT_TRUE(client_->send(line("A", 0, 1) + line("A", 500, 2) + line("B", 200, 4)));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_source_events_total", {{"source", "in"}}, 3));
  ASSERT_TRUE(client_->send(line("C", 1300, 8)));  // B's session [200, 1200) fires
  ASSERT_TRUE(waitFor(1));
  ASSERT_TRUE(client_->send(line("C", 1600, 16)));  // A's session [0, 1500) fires
  ASSERT_TRUE(waitFor(2));
  ASSERT_TRUE(client_->send(line("A", 1400, 32)));  // late: A's session grows to [0, 2400)
  ASSERT_TRUE(waitFor(3));
  // A new session of A at 3000; the watermark fires C's [1300, 2600).
  ASSERT_TRUE(client_->send(line("A", 3000, 64)));
  ASSERT_TRUE(waitFor(4));
  ASSERT_TRUE(client_->send(line("A", 2200, 128)));  // bridges A's two sessions: [0, 4000)
  ASSERT_TRUE(waitFor(5));
  ASSERT_TRUE(client_->send(line("B", 100, 256)));  // B's fired session grows back to 100
  ASSERT_TRUE(waitFor(6));
  // The watermark passes B's end + lateness (3200): B's session is freed, and B at 150 is late.
  ASSERT_TRUE(client_->send(line("D", 5000, 512)));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_pipeline_events_total", {{"pipeline", "s"}}, 10));
  ASSERT_TRUE(client_->send(line("B", 150, 1024)));
  ASSERT_TRUE(waitFor(7));  // on the late topic
  ASSERT_NO_FATAL_FAILURE(stopAfter(8));

  const std::vector<Expected> expected = {
      {"s/B/", "final", 200, 1200, 1, 4, 4},        {"s/A/", "final", 0, 1500, 2, 3, 1.5},
      {"s/A/", "update", 0, 2400, 3, 35, 2},        {"s/C/", "final", 1300, 2600, 2, 24, 12},
      {"s/A/", "update", 0, 4000, 5, 227, 32},      {"s/B/", "update", 100, 1200, 2, 260, 130},
      {"s/D/", "partial", 5000, 6000, 1, 512, 512},
  };
  std::vector<Message> got = subscriber_->messages();
  ASSERT_EQ(got.size(), expected.size() + 1);
  EXPECT_EQ(got[6].topic, "_late/s/");
  const std::string late = line("B", 150, 1024);
  EXPECT_EQ(got[6].payload, late.substr(0, late.size() - 1));
  got.erase(got.begin() + 6);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i) + ": " + got[i].topic + " " + got[i].payload);
    ASSERT_NO_FATAL_FAILURE(expectResult(got[i], static_cast<std::int64_t>(i + 1), expected[i]));
  }
}

// group_by expressions end to end: each computed part is in the topic as its text and in the key
// as a JSON value of its type, a number in one canonical form (18.73 and 18.5 round to 19; -0.3
// rounds to -0, which is 0); an event whose expression is null is refused and counted as
// missing_field, like one that lacks a plain group_by field.
TEST_F(DaemonUpdates, GroupByExpressionsInTheTopicAndTheKey) {
  ASSERT_NO_FATAL_FAILURE(
      startPipelines("  bands:\n    from: in\n    group_by:\n      - sym\n"
                     "      - band: round(order.px / 10)\n      - side: upper(order.side)\n"
                     "      - big: order.qty >= 100\n"
                     "    window: {tumbling: 1s}\n    aggregates:\n      n: count()\n"));
  ASSERT_TRUE(client_->send(event(100, R"({"side":"buy","qty":150,"px":187.3})") +
                            event(200, R"({"side":"Buy","qty":100,"px":185})") +
                            event(300, R"({"side":"sell","qty":5,"px":-3})") +
                            event(400, R"({"side":"sell","qty":5})")));
  ASSERT_TRUE(daemon_->waitMetric("rivulet_source_errors_total",
                                  {{"source", "in"}, {"reason", "missing_field"}}, 1));
  ASSERT_TRUE(client_->send(event(1500, R"({"side":"buy","qty":1,"px":1})")));
  ASSERT_TRUE(waitFor(3));                  // [0, 1000) fires: two keys and the marker
  std::map<std::string, std::string> keys;  // topic -> key object
  std::map<std::string, std::int64_t> counts;
  for (const Message& m : subscriber_->messages()) {
    if (m.topic.starts_with("_window/")) continue;
    std::string parse_error;
    const auto r = parseResult(m, &parse_error);
    ASSERT_TRUE(r.has_value()) << parse_error;
    const std::size_t key = m.payload.find("\"key\":");
    ASSERT_NE(key, std::string::npos);
    keys[m.topic] = m.payload.substr(key, m.payload.find('}', key) + 1 - key);
    counts[m.topic] = r->values.at("n").integer;
  }
  EXPECT_EQ(
      keys,
      (std::map<std::string, std::string>{
          {"bands/A/19/BUY/true/", R"("key":{"sym":"A","band":19,"side":"BUY","big":true})"},
          {"bands/A/0/SELL/false/", R"("key":{"sym":"A","band":0,"side":"SELL","big":false})"}}));
  EXPECT_EQ(counts, (std::map<std::string, std::int64_t>{{"bands/A/19/BUY/true/", 2},
                                                         {"bands/A/0/SELL/false/", 1}}));
}

}  // namespace
}  // namespace rivulet::testutil
