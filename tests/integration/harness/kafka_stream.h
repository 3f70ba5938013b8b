// A keyed event stream on librdkafka's mock cluster and the checks on what the daemon published
// from it, shared by the Kafka daemon tests.
//
// Each partition's events are in time order (as a keyed producer writes them) and the watermark
// delay is 0, so no event is late whatever the interleaving of partitions: the reference is exact.
// Results are read from the daemons' JSON-lines outputs, which survive the daemons.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/reference.h"
#include "tests/integration/harness/results.h"
#include "tests/support/files.h"
#include "tests/support/mock_kafka.h"

namespace rivulet::testutil {

inline constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
inline constexpr int kKeys = 24;
inline const std::string kTopic = "trades";

inline const std::vector<AggregateSpec> kAggregates = {
    {"n", Agg::kCount}, {"total", Agg::kSum}, {"high", Agg::kMax}, {"open", Agg::kFirst}};

// `idle` stays far above the pauses of the tests (a group join, a restart) unless a test is about
// idleness: a stream silent for `idle` has its windows closed by the wall clock, and the events
// after the pause that continue its event time would be late.
std::string configYaml(const TempDir& dir, const MockKafka& kafka, const std::string& output,
                       const std::string& extra_properties = "",
                       const std::string& extra_daemon = "", const std::string& idle = "120s");

// An `outputs:` section with one Kafka output, `results`, to the topic `results`; `more` holds
// further lines of the output as they are ("    pipelines: [trades]\n").
std::string kafkaOutputYaml(const MockKafka& kafka, const std::string& more = "");

std::string sym(int key);
// Keyed like a producer partitioning by the group-by key.
inline int partitionOf(int key, int partitions) { return key % partitions; }

// Events per partition in time order; the reference gets every one (none is late).
class Stream {
 public:
  Stream(MockKafka& kafka, int partitions, std::uint64_t seed);

  // `events` more events on the partitions in `used`, each partition's clock moving on by
  // 0..20 ms per event.
  void produce(int events, const std::vector<int>& used);

  // Topic kTopic created with the stream's partitions, and `events` events on all of them,
  // flushed.
  void startTopic(int events);

  // An event far ahead on each partition in `used`: the watermark passes every window before.
  void closeWindows(const std::vector<int>& used);

  WindowReference reference{"trades", {"sym"}, 1000, 1000};

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int keyOn(int partition);

  MockKafka& kafka_;
  int partitions_;
  std::mt19937 rng_;
  std::vector<std::int64_t> clock_;
};

// The results in the JSON-lines files `outputs`, but those of the closing events.
std::vector<Result> readResults(const std::vector<std::string>& outputs);

// One result per window: a window published again (by a restart, or another instance) must have
// the same values.
std::vector<Result> distinctFinals(const std::vector<Result>& results, std::size_t* repeated);

// Distinct windows published as final.
std::size_t countFinals(const std::vector<std::string>& outputs);

::testing::AssertionResult waitForFinals(const std::vector<std::string>& outputs,
                                         std::size_t windows);

// Until `daemon` holds a partition (it exports a consumer lag), at most 60 s.
::testing::AssertionResult waitForPartition(Daemon& daemon);

// SIGTERM, then the daemon must exit 0.
void stop(Daemon& daemon);

// Every window of the stream published as final with the reference's values, every event counted
// once; with `repeats_allowed`, a window may be published more than once (with the same values).
void expectEveryWindow(const std::vector<Result>& results, const Stream& stream,
                       bool repeats_allowed);

// A second instance joins the group while the first is consuming (cooperative-sticky: the first
// gives up half its partitions): every window is still published, and any published by both, or
// twice, has the same values. `daemon_lines(dir)`: further lines of each instance's daemon:
// section. Nothing counts a failed checkpoint (there is none without checkpoints).
void expectJoiningInstanceLosesNoWindow(
    std::uint64_t seed, const std::function<std::string(const TempDir&)>& daemon_lines);

}  // namespace rivulet::testutil
