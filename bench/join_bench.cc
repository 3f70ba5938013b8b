// Benchmarks of JoinOperator: what a window join costs one stage core per row, what it costs to
// emit a window's joined rows, and the memory a key of an open window holds, against the obvious
// alternative: a std::unordered_map from key to two std::vector<std::string> of rows.
//
// The workload is NEXMark Q8's: per 10 s window, 10,000 keys (persons), each with one left row
// (a name, ~12 bytes) and one right row (no fields), the keys in random order. State memory is
// measured with mallinfo2() around building one window, and reported as bytes per key.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "pipeline/model/key.h"
#include "pipeline/windows/join_operator.h"

namespace rivulet::pipeline {
namespace {

constexpr std::size_t kKeys = 10'000;
constexpr std::int64_t kSecond = 1'000'000'000;

struct Row {
  std::string key;  // encoded: the join key, then the row's parts
  std::string join_key, row;
  double side;
};

// Each key's left row and right row, shuffled.
const std::vector<Row>& rows() {
  static const std::vector<Row> made = [] {
    std::vector<Row> out;
    for (std::size_t k = 0; k < kKeys; ++k) {
      std::string id;
      appendKeyPart(id, KeyPartType::kNumber, std::to_string(1000 + k));
      std::string name;
      appendKeyPart(name, KeyPartType::kString, "Person " + std::to_string(k));
      out.push_back({id + name, id, name, 0});
      out.push_back({id, id, "", 1});
    }
    std::shuffle(out.begin(), out.end(), std::mt19937_64(7));
    return out;
  }();
  return made;
}

PipelinePlan joinPlan() {
  PipelinePlan plan;
  plan.size = plan.slide = plan.slice = 10 * kSecond;
  plan.join = JoinPlan{false, 1, {"name"}, {}};
  return plan;
}

class CountingSink : public ResultSink {
 public:
  void onResult(const WindowResult& r) override { bytes += r.left_row.size() + r.right_row.size(); }
  void onWindowEnd(std::int64_t, std::int64_t, std::size_t n) override { results += n; }
  std::size_t bytes = 0, results = 0;
};

std::size_t heapBytes() { return mallinfo2().uordblks; }

// Rows into one window, the window fired: per row.
void BM_Join_Operator(benchmark::State& state) {
  const PipelinePlan plan = joinPlan();
  const std::vector<Row>& input = rows();
  CountingSink sink;
  std::int64_t window = 0;
  double bytes_per_key = 0;
  for (auto _ : state) {
    JoinOperator op(plan);
    const std::size_t before = heapBytes();
    for (const Row& r : input) op.add(window + 1, 0, r.key, &r.side);
    bytes_per_key = static_cast<double>(heapBytes() - before) / kKeys;
    op.advanceWatermark(window + 10 * kSecond, sink);
    window += 10 * kSecond;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(input.size()));
  state.counters["bytes_per_key"] = bytes_per_key;
  benchmark::DoNotOptimize(sink.results);
}

// The obvious alternative: a map of two vectors of row strings, the join a loop over it.
void BM_Join_UnorderedMapOfVectors(benchmark::State& state) {
  const std::vector<Row>& input = rows();
  std::size_t results = 0;
  double bytes_per_key = 0;
  for (auto _ : state) {
    std::unordered_map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>>
        window;
    const std::size_t before = heapBytes();
    for (const Row& r : input) {
      auto& sides = window[r.join_key];
      (r.side == 0 ? sides.first : sides.second).emplace_back(r.row);
    }
    bytes_per_key = static_cast<double>(heapBytes() - before) / kKeys;
    for (const auto& [key, sides] : window) {
      for (const std::string& l : sides.first) {
        for (const std::string& r : sides.second) results += l.size() + r.size() + 1;
      }
    }
    benchmark::DoNotOptimize(results);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(input.size()));
  state.counters["bytes_per_key"] = bytes_per_key;
}

BENCHMARK(BM_Join_Operator)->Repetitions(5)->DisplayAggregatesOnly(true);
BENCHMARK(BM_Join_UnorderedMapOfVectors)->Repetitions(5)->DisplayAggregatesOnly(true);

}  // namespace
}  // namespace rivulet::pipeline

BENCHMARK_MAIN();
