// Bad `sources:` entries: the exact "file:line:column: path: message" of every error, in file
// order. The YAML literals start at line 1, column 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

TEST(SourceErrors, Kafka) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  a:
    kind: kafka
    topics: []
    group: ""
    commit_interval: 0s
    properties:
      enable.auto.commit: "true"
      group.id: other
      fetch.min.bytes: [1]
  b: { kind: kafka, brokers: 127.0.0.1:9092, topics: t, group: g, path: x }
pipelines:
  p: { from: [a, b], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre(
          "t.yaml:3:5: sources.a: missing required key \"brokers\"",
          "t.yaml:4:13: sources.a.topics: a kafka source needs at least one topic",
          "t.yaml:5:12: sources.a.group: expected a non-empty string, got \"\"",
          "t.yaml:6:22: sources.a.commit_interval: commit_interval must be positive",
          "t.yaml:8:7: sources.a.properties.enable.auto.commit: \"enable.auto.commit\" is set by "
          "rivulet (brokers and group have keys of their own; offsets are committed once their "
          "windows are published)",
          "t.yaml:9:7: sources.a.properties.group.id: \"group.id\" is set by rivulet (brokers and "
          "group have keys of their own; offsets are committed once their windows are "
          "published)",
          "t.yaml:10:24: sources.a.properties.fetch.min.bytes: expected a property value (a "
          "string), got a list",
          "t.yaml:11:67: sources.b.path: \"path\" is a key of file sources, not of kafka"));
}

// `properties` written as one string, in the Java client's form: the error must not echo it, since
// it holds the password.
TEST(SourceErrors, KafkaPropertiesAsAStringAreNotEchoed) {
  const std::vector<std::string> errors = errorsOf(R"yaml(sources:
  a:
    kind: kafka
    brokers: 127.0.0.1:9092
    topics: [t]
    group: g
    properties: "sasl.username=u sasl.password=hunter2-secret"
pipelines:
  p: { from: a, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml");
  EXPECT_THAT(errors, ElementsAre("t.yaml:7:17: sources.a.properties: expected a map of librdkafka "
                                  "properties, got a string (not shown: it may hold a password)"));
}

TEST(SourceErrors, UnknownKind) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  a: { kind: genrator }
  b: { kind: socket }
  c: { kind: [file] }
pipelines:
  p: { from: [a, b, c], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre(
          "t.yaml:2:14: sources.a.kind: \"genrator\" is not a source kind (did you mean "
          "\"generator\"?)",
          "t.yaml:3:14: sources.b.kind: \"socket\" is not a source kind (supported: generator, "
          "file, tcp, udp, zmq, kafka)",
          "t.yaml:4:14: sources.c.kind: expected a source kind, got a list"));
}

TEST(SourceErrors, KeyOfAnotherKind) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  x:
    kind: file
    path: in.jsonl
    listen: 127.0.0.1:9000
    keys: 10
    brokers: localhost:9092
    overflow: drop
pipelines:
  p: { from: x, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre(
          "t.yaml:5:5: sources.x.listen: \"listen\" is a key of tcp and udp sources, not of file",
          "t.yaml:6:5: sources.x.keys: \"keys\" is a key of generator sources, not of file",
          "t.yaml:7:5: sources.x.brokers: \"brokers\" is a key of kafka sources, not of file",
          "t.yaml:8:5: sources.x.overflow: \"overflow\" is a key of udp and zmq sources, not of "
          "file"));
}

TEST(SourceErrors, BadHostPort) {
  EXPECT_THAT(
      errorsOf(R"yaml(daemon:
  metrics: localhost
sources:
  a: { kind: tcp, listen: "0.0.0.0:70000" }
  b: { kind: tcp, listen: "::1:9000" }
  c: { kind: tcp, listen: "[::1]:x" }
  d: { kind: tcp, listen: [127.0.0.1, 80] }
pipelines:
  p: { from: [a, b, c, d], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre("t.yaml:2:12: daemon.metrics: \"localhost\" is not host:port (e.g. "
                  "127.0.0.1:9464)",
                  "t.yaml:4:27: sources.a.listen: \"0.0.0.0:70000\": port must be a number in "
                  "0..65535",
                  "t.yaml:5:27: sources.b.listen: \"::1:9000\" is not host:port (an IPv6 address "
                  "goes in brackets, e.g. [::1]:9464)",
                  "t.yaml:6:27: sources.c.listen: \"[::1]:x\": port must be a number in 0..65535",
                  "t.yaml:7:27: sources.d.listen: expected host:port, got a list"));
}

TEST(SourceErrors, IntegersAndBooleans) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  g:
    kind: generator
    keys: 1.5
    events_per_second: 1e6
    start: yesterday
    throttle: -1
    count: 99999999999999999999
    seed: -5
  f:
    kind: file
    path: ""
    follow: yes
  t:
    kind: tcp
    listen: 127.0.0.1:0
    max_line: 0
    max_connections: 65537
  h: { kind: generator, start: 9223372036855 }
pipelines:
  p: { from: [g, f, t, h], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre(
          "t.yaml:4:11: sources.g.keys: \"1.5\" is not an integer",
          "t.yaml:5:24: sources.g.events_per_second: \"1e6\" is not an integer",
          "t.yaml:6:12: sources.g.start: \"yesterday\" is not a start time (use now or epoch "
          "milliseconds)",
          "t.yaml:7:15: sources.g.throttle: \"-1\" is out of range (expected an integer >= 0)",
          "t.yaml:8:12: sources.g.count: \"99999999999999999999\" is out of range (expected an "
          "integer >= 0)",
          "t.yaml:9:11: sources.g.seed: \"-5\" is out of range (expected an integer in "
          "0..18446744073709551615)",
          "t.yaml:12:11: sources.f.path: expected a non-empty string, got \"\"",
          "t.yaml:13:13: sources.f.follow: \"yes\" is not a boolean (use true or false)",
          "t.yaml:17:15: sources.t.max_line: \"0\" is out of range (expected an integer in "
          "1..1073741824)",
          "t.yaml:18:22: sources.t.max_connections: \"65537\" is out of range (expected an "
          "integer in 1..65536)",
          "t.yaml:19:32: sources.h.start: \"9223372036855\" is out of range (expected an integer "
          "in 0..9223372036854)"));
}

TEST(SourceErrors, TimeSpec) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  s:
    kind: file
    path: x
    time: { unit: sec, zone: utc }
  u:
    kind: file
    path: y
    time: { field: 1st, unit: mss }
pipelines:
  p: { from: [s, u], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre("t.yaml:5:11: sources.s.time: missing required key \"field\"",
                  "t.yaml:5:19: sources.s.time.unit: \"sec\" is not a time unit (expected one "
                  "of: s, ms, us, ns, iso8601)",
                  "t.yaml:5:24: sources.s.time.zone: unknown key \"zone\" (known keys: field, "
                  "unit)",
                  "t.yaml:9:20: sources.u.time.field: \"1st\" is not a field name (letters, "
                  "digits and '_', not starting with a digit)",
                  "t.yaml:9:31: sources.u.time.unit: \"mss\" is not a time unit (did you mean "
                  "\"ms\"?)"));
}

}  // namespace
}  // namespace rivulet::config
