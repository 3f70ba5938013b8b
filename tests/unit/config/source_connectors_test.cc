// The keys of the udp and zmq sources, `overflow`, and `format: csv` with `columns` and `header`:
// valid configs field by field, and the exact "file:line:column: path: message" of each mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

Config loadOk(std::string_view yaml) {
  LoadResult result = loadString(yaml, "t.yaml");
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.toString();
  EXPECT_TRUE(result.config.has_value());
  return result.config.value_or(Config{});
}

TEST(ConnectorSources, EveryKeyFieldByField) {
  const Config config = loadOk(R"yaml(sources:
  feed:
    kind: zmq
    socket: sub
    connect: tcp://127.0.0.1:5556
    subscribe: [trades/, quotes/]
    overflow: drop
    max_message: 4096
    format: csv
    columns: [ts, sym, px]
  jobs: { kind: zmq, socket: pull, bind: "ipc:///tmp/jobs" }
  packets: { kind: udp, listen: "[::1]:9000", rcvbuf: 8388608, max_datagram: 1500 }
  replay: { kind: file, path: in.csv, format: csv, header: true }
  renamed: { kind: tcp, listen: 127.0.0.1:0, format: csv, columns: [a, b], header: true }
pipelines:
  p:
    from: [feed, jobs, packets, replay, renamed]
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml");
  ASSERT_EQ(config.sources.size(), 5u);

  const SourceConfig& feed = config.sources[0];
  EXPECT_EQ(feed.kind, SourceKind::kZmq);
  EXPECT_EQ(feed.zmq.socket, ZmqSocketType::kSub);
  EXPECT_EQ(feed.zmq.endpoint, "tcp://127.0.0.1:5556");
  EXPECT_FALSE(feed.zmq.bind);
  EXPECT_EQ(feed.zmq.subscribe, (std::vector<std::string>{"trades/", "quotes/"}));
  EXPECT_EQ(feed.zmq.max_message, 4096);
  EXPECT_EQ(feed.overflow, Overflow::kDrop);
  EXPECT_EQ(feed.format, Format::kCsv);
  EXPECT_EQ(feed.csv.columns, (std::vector<std::string>{"ts", "sym", "px"}));
  EXPECT_FALSE(feed.csv.header);

  const SourceConfig& jobs = config.sources[1];
  EXPECT_EQ(jobs.kind, SourceKind::kZmq);
  EXPECT_EQ(jobs.zmq.socket, ZmqSocketType::kPull);
  EXPECT_EQ(jobs.zmq.endpoint, "ipc:///tmp/jobs");
  EXPECT_TRUE(jobs.zmq.bind);
  EXPECT_EQ(jobs.zmq.subscribe, (std::vector<std::string>{""}));  // the default: everything
  EXPECT_EQ(jobs.zmq.max_message, 1 << 20);
  EXPECT_EQ(jobs.overflow, Overflow::kBlock);
  EXPECT_EQ(jobs.format, Format::kJson);

  const SourceConfig& packets = config.sources[2];
  EXPECT_EQ(packets.kind, SourceKind::kUdp);
  EXPECT_EQ(packets.udp.listen.host, "::1");
  EXPECT_EQ(packets.udp.listen.port, 9000);
  EXPECT_EQ(packets.udp.rcvbuf, 8388608);
  EXPECT_EQ(packets.udp.max_datagram, 1500);
  EXPECT_EQ(packets.overflow, Overflow::kBlock);

  const SourceConfig& replay = config.sources[3];
  EXPECT_EQ(replay.format, Format::kCsv);
  EXPECT_TRUE(replay.csv.columns.empty());
  EXPECT_TRUE(replay.csv.header);

  const SourceConfig& renamed = config.sources[4];
  EXPECT_EQ(renamed.csv.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(renamed.csv.header);

  EXPECT_EQ(summary(config),
            "t.yaml: ok: 5 sources (feed: zmq, jobs: zmq, packets: udp, replay: file, renamed: "
            "tcp), 1 pipeline (p: tumbling 1s)");
}

TEST(ConnectorSources, UdpDefaults) {
  const Config config = loadOk(R"yaml(sources:
  u: { kind: udp, listen: 0.0.0.0:9000 }
pipelines:
  p: { from: u, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml");
  EXPECT_EQ(config.sources[0].udp.rcvbuf, 0);  // the system's
  EXPECT_EQ(config.sources[0].udp.max_datagram, 65535);
  EXPECT_EQ(config.sources[0].overflow, Overflow::kBlock);
}

TEST(ConnectorSourceErrors, Zmq) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  a: { kind: zmq, socket: sub }
  b: { kind: zmq, socket: pull, bind: "tcp://*:5000", connect: "tcp://h:1", subscribe: [x] }
  c: { kind: zmq, socket: pub, connect: "inproc://x", overflow: spill }
  d: { kind: zmq, connect: "http://x", subscribe: [] }
  e: { kind: zmq, socket: sub, connect: "ipc:///tmp/x", subscribe: [a, "", a], max_message: 0 }
pipelines:
  p: { from: [a, b, c, d, e], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre(
          "t.yaml:2:6: sources.a: missing \"bind\" or \"connect\" (a ZeroMQ endpoint, e.g. "
          "connect: tcp://127.0.0.1:5556)",
          "t.yaml:3:55: sources.b.connect: \"bind\" and \"connect\" exclude each other: a source "
          "binds or connects",
          "t.yaml:3:77: sources.b.subscribe: \"subscribe\" is for sub sockets (a pull socket "
          "takes every message)",
          "t.yaml:4:27: sources.c.socket: \"pub\" is not a socket type (did you mean \"sub\"?)",
          "t.yaml:4:41: sources.c.connect: \"inproc://x\" is not a ZeroMQ endpoint a source can "
          "use (use tcp://host:port or ipc://path)",
          "t.yaml:4:65: sources.c.overflow: \"spill\" is not an overflow policy (expected one "
          "of: block, drop)",
          "t.yaml:5:6: sources.d: missing required key \"socket\"",
          "t.yaml:5:28: sources.d.connect: \"http://x\" is not a ZeroMQ endpoint a source can use "
          "(use tcp://host:port or ipc://path)",
          "t.yaml:5:51: sources.d.subscribe: at least one prefix is required (omit subscribe for "
          "everything)",
          "t.yaml:6:76: sources.e.subscribe[2]: \"a\" is listed twice",
          "t.yaml:6:93: sources.e.max_message: \"0\" is out of range (expected an integer in "
          "1..1073741824)"));
}

TEST(ConnectorSourceErrors, Udp) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  f: { kind: udp, listen: "127.0.0.1:0", rcvbuf: 10, max_datagram: 65536, overflow: dropp }
  g: { kind: udp, rcvbuf: 1e6 }
  t: { kind: tcp, listen: "127.0.0.1:0", overflow: drop, rcvbuf: 4096 }
pipelines:
  p: { from: [f, g, t], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre("t.yaml:2:50: sources.f.rcvbuf: \"10\" is out of range (expected an integer in "
                  "4096..1073741823)",
                  "t.yaml:2:68: sources.f.max_datagram: \"65536\" is out of range (expected an "
                  "integer in 1..65535)",
                  "t.yaml:2:85: sources.f.overflow: \"dropp\" is not an overflow policy (did you "
                  "mean \"drop\"?)",
                  "t.yaml:3:6: sources.g: missing required key \"listen\"",
                  "t.yaml:3:27: sources.g.rcvbuf: \"1e6\" is not an integer",
                  "t.yaml:4:42: sources.t.overflow: \"overflow\" is a key of udp and zmq sources, "
                  "not of tcp",
                  "t.yaml:4:58: sources.t.rcvbuf: \"rcvbuf\" is a key of udp sources, not of tcp"));
}

TEST(ConnectorSourceErrors, CsvFormat) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  g: { kind: udp, listen: "127.0.0.1:0", format: csv }
  h: { kind: udp, listen: "127.0.0.1:0", format: csv, header: true }
  i: { kind: generator, format: csv, columns: [ts] }
  j: { kind: file, path: x, columns: [a], header: false }
  k: { kind: file, path: x, format: csv, columns: [a, "", a, b], header: 1 }
  l: { kind: tcp, listen: "127.0.0.1:0", format: csv, columns: [] }
  m: { kind: file, path: x, format: cvs, colums: [a] }
  n: { kind: generator, colour: red }
  z: { kind: zmq, socket: pull, bind: "ipc:///x", format: csv, columns: x, header: true }
pipelines:
  p: { from: [g, h, i, j, k, l, m, n, z], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre(
          "t.yaml:2:50: sources.g.format: format csv needs columns (e.g. columns: [ts, sym, px]) "
          "or header: true",
          "t.yaml:3:63: sources.h.header: a udp source has no header line: each datagram is one "
          "row (name the fields with columns)",
          "t.yaml:4:33: sources.i.format: \"csv\" is not a format of generator sources (they "
          "make their own events)",
          "t.yaml:5:29: sources.j.columns: \"columns\" needs format: csv",
          "t.yaml:5:43: sources.j.header: \"header\" needs format: csv",
          "t.yaml:6:55: sources.k.columns[1]: expected a non-empty string, got \"\"",
          "t.yaml:6:59: sources.k.columns[2]: \"a\" is listed twice",
          "t.yaml:6:74: sources.k.header: \"1\" is not a boolean (use true or false)",
          "t.yaml:7:64: sources.l.columns: at least one column is required",
          "t.yaml:8:37: sources.m.format: \"cvs\" is not a format (did you mean \"csv\"?)",
          "t.yaml:8:42: sources.m.colums: unknown key \"colums\" (did you mean \"columns\"?)",
          // A generator takes no csv keys: they are not offered as known keys.
          "t.yaml:9:25: sources.n.colour: unknown key \"colour\" (known keys: kind, format, time, "
          "watermark, fields, profile, keys, events_per_second, start, throttle, count, seed)",
          "t.yaml:10:73: sources.z.columns: expected a list, got \"x\"",
          "t.yaml:10:84: sources.z.header: a zmq source has no header line: each message is one "
          "row (name the fields with columns)"));
}

// With `columns`, a csv source's fields are known: the time field and every field a pipeline
// reads must be one of them, as for a generator. With only a header they are not known.
TEST(ConnectorSourceErrors, FieldsMustBeColumns) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  s:
    kind: file
    path: x
    format: csv
    columns: [ts, sym, px, "price usd"]
    time: { field: tss }
  h: { kind: tcp, listen: "127.0.0.1:0", format: csv, header: true, time: { field: anything } }
pipelines:
  p:
    from: [s, h]
    where: "qty > 0 and `price usd` > 1 and order.id == 3"
    group_by: [sym, venue, { band: floor(pxx / 10) }]
    window: { tumbling: 1s }
    aggregates: { n: count(), t: sum(px), u: avg(prc), v: sum(`price usd`) }
)yaml"),
      ElementsAre(
          "t.yaml:7:20: sources.s.time.field: \"tss\" is not a column of csv source \"s\" "
          "(columns: ts, sym, px, price usd)",
          "t.yaml:12:12: pipelines.p.where: \"qty\" is not a column of csv source \"s\" (columns: "
          "ts, sym, px, price usd)",
          "t.yaml:12:12: pipelines.p.where: \"order.id\" is not a column of csv source \"s\" "
          "(columns: ts, sym, px, price usd)",
          "t.yaml:13:21: pipelines.p.group_by[1]: \"venue\" is not a column of csv source \"s\" "
          "(columns: ts, sym, px, price usd)",
          "t.yaml:13:36: pipelines.p.group_by[2].band: \"pxx\" is not a column of csv source "
          "\"s\" (columns: ts, sym, px, price usd)",
          "t.yaml:15:46: pipelines.p.aggregates.u: \"prc\" is not a column of csv source \"s\" "
          "(columns: ts, sym, px, price usd)"));
}

}  // namespace
}  // namespace rivulet::config
