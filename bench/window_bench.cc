// Benchmarks of WindowOperator: events/s of one stage core for a tumbling and a hopping window
// over 10,000 keys, against the obvious alternative (one absl::flat_hash_map per window).
//
// Each event stream has 1 M events per second of event time, random keys, and a watermark every
// 1000 events, as a source would send it; the sink only reads the results.
#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/windows/window_operator.h"

namespace rivulet::pipeline {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kEventsPerSecond = 1'000'000;
constexpr std::int64_t kEventGap = kSecond / kEventsPerSecond;
constexpr std::size_t kKeys = 10'000;
constexpr std::size_t kWatermarkEvery = 1000;
constexpr std::size_t kStreamLength = 1 << 22;  // random key indices, reused cyclically

struct Stream {
  std::vector<std::string> keys;
  std::vector<std::uint64_t> hashes;
  std::vector<std::uint32_t> key_of;  // per event
  std::vector<double> values;         // per event
};

const Stream& stream() {
  static const Stream s = [] {
    Stream made;
    for (std::size_t k = 0; k < kKeys; ++k) {
      std::string key;
      appendKeyPart(key, KeyPartType::kString, "sym" + std::to_string(k));
      made.hashes.push_back(absl::Hash<std::string_view>{}(key));
      made.keys.push_back(std::move(key));
    }
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::uint32_t> key(0, kKeys - 1);
    std::uniform_real_distribution<double> value(0, 1000);
    for (std::size_t i = 0; i < kStreamLength; ++i) {
      made.key_of.push_back(key(rng));
      made.values.push_back(value(rng));
    }
    return made;
  }();
  return s;
}

PipelinePlan makePlan(std::int64_t size, std::int64_t slide) {
  config::Config config;
  config::SourceConfig source;
  source.name = "trades";
  config.sources.push_back(source);
  config::PipelineConfig p;
  p.name = "bench";
  p.from = {"trades"};
  p.group_by = {config::GroupBySpec{"symbol"}};
  p.window.kind = size == slide ? config::WindowKind::kTumbling : config::WindowKind::kHopping;
  p.window.size = size;
  p.window.slide = slide;
  p.aggregates = {{"trades", config::AggregateKind::kCount, ""},
                  {"volume", config::AggregateKind::kSum, "qty"},
                  {"low", config::AggregateKind::kMin, "qty"},
                  {"high", config::AggregateKind::kMax, "qty"}};
  config.pipelines.push_back(p);
  return compilePipeline(config, 0);
}

class CountingSink : public ResultSink {
 public:
  void onResult(const WindowResult& r) override { checksum_ += r.state[0].i; }
  void onWindowEnd(std::int64_t, std::int64_t, std::size_t results) override {
    results_ += results;
  }
  std::int64_t checksum_ = 0;
  std::size_t results_ = 0;
};

void runOperator(benchmark::State& state, std::int64_t size, std::int64_t slide) {
  const Stream& s = stream();
  const PipelinePlan plan = makePlan(size, slide);
  const Aggregates aggregates(plan.aggregates, plan.value_index);
  WindowOperator op(plan, aggregates);
  CountingSink sink;
  std::int64_t time = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    for (std::size_t n = 0; n < kWatermarkEvery; ++n, ++i) {
      const std::size_t e = i & (kStreamLength - 1);
      const std::uint32_t k = s.key_of[e];
      op.add(time, s.hashes[k], s.keys[k], &s.values[e]);
      time += kEventGap;
    }
    op.advanceWatermark(time, sink);
  }
  benchmark::DoNotOptimize(sink.checksum_);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kWatermarkEvery));
  state.counters["results"] = static_cast<double>(sink.results_);
}

void BM_WindowOperator_Tumbling(benchmark::State& state) { runOperator(state, kSecond, kSecond); }
void BM_WindowOperator_Hopping(benchmark::State& state) {
  runOperator(state, 10 * kSecond, kSecond);
}

// The obvious alternative: a flat_hash_map from key to state per open window, windows fired by
// scanning the map of windows.
void BM_FlatHashMap_Tumbling(benchmark::State& state) {
  const Stream& s = stream();
  struct Acc {
    std::int64_t count = 0;
    double sum = 0, low = 1e300, high = -1e300;
  };
  absl::flat_hash_map<std::int64_t, absl::flat_hash_map<std::string, Acc>> windows;
  std::int64_t checksum = 0;
  std::int64_t time = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    for (std::size_t n = 0; n < kWatermarkEvery; ++n, ++i) {
      const std::size_t e = i & (kStreamLength - 1);
      const std::string& key = s.keys[s.key_of[e]];
      const double v = s.values[e];
      Acc& a = windows[time - time % kSecond][key];
      ++a.count;
      a.sum += v;
      a.low = std::min(a.low, v);
      a.high = std::max(a.high, v);
      time += kEventGap;
    }
    for (auto it = windows.begin(); it != windows.end();) {
      if (it->first + kSecond <= time) {
        for (const auto& [key, acc] : it->second) checksum += acc.count;
        windows.erase(it++);
      } else {
        ++it;
      }
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kWatermarkEvery));
}

// Several repetitions: the VM is noisy, so median and spread are what to read.
BENCHMARK(BM_WindowOperator_Tumbling)->Repetitions(5)->DisplayAggregatesOnly(true);
BENCHMARK(BM_WindowOperator_Hopping)->Repetitions(5)->DisplayAggregatesOnly(true);
BENCHMARK(BM_FlatHashMap_Tumbling)->Repetitions(5)->DisplayAggregatesOnly(true);

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace
}  // namespace rivulet::pipeline

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("cpu_model", rivulet::pipeline::cpuModel());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
