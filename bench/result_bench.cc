// What a result costs on the stage when the pipeline computes values from its aggregates: one
// result of sum, max, min and count written as JSON (the obvious alternative: the plain
// aggregates, which is all a pipeline without computed values does), against the same result
// with vwap = sum(px * qty) / sum(qty), range = max(px) - min(px) and a having over them
// evaluated first. Computed values cost per result, never per event: these are the numbers to
// multiply by keys per window.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/computed_values.h"
#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"

namespace rivulet::pipeline {
namespace {

struct Rig {
  explicit Rig(const std::string& entries)
      : config(
            *config::loadString("sources:\n"
                                "  in: {kind: file, path: /dev/null, time: {field: ts, unit: ms}}\n"
                                "pipelines:\n"
                                "  p:\n"
                                "    from: in\n"
                                "    group_by: [sym]\n"
                                "    window: {tumbling: 1s}\n"
                                "    aggregates:\n" +
                                    entries,
                                "bench.yaml")
                 .config),
        plan(compilePipeline(config, 0)),
        aggregates(plan.aggregates, plan.value_index),
        sketches(aggregates),
        state(aggregates.words()) {
    aggregates.init(state.data());
    std::vector<double> values(plan.value_fields.size());
    for (int i = 0; i < 10; ++i) {
      for (std::size_t v = 0; v < values.size(); ++v) values[v] = 10.0 + i * 0.37 + v;
      aggregates.update(state.data(), i, values.data(), sketches);
    }
    appendKeyPart(key, KeyPartType::kString, "AAPL");
  }

  config::Config config;
  PipelinePlan plan;
  Aggregates aggregates;
  SketchPool sketches;
  std::vector<Word> state;
  std::string key;
};

constexpr const char* kPlain =
    "      volume: sum(qty)\n"
    "      notional: sum(px * qty)\n"
    "      high: max(px)\n"
    "      low: min(px)\n"
    "      n: count()\n";

void BM_Result_PlainAggregates(benchmark::State& bench) {
  Rig rig(kPlain);
  std::string out;
  for (auto _ : bench) {
    out.clear();
    JsonWriter json(out);
    rig.aggregates.writeJson(rig.state.data(), rig.sketches, json);
    benchmark::DoNotOptimize(out.data());
  }
  bench.SetItemsProcessed(bench.iterations());
}

void BM_Result_ComputedAndHaving(benchmark::State& bench) {
  Rig rig(std::string(kPlain) +
          "      vwap: notional / volume\n"
          "      range: high - low\n"
          "    having: n > 2 and vwap > 0\n");
  ComputedValues computed(rig.plan, rig.aggregates);
  std::string out;
  for (auto _ : bench) {
    out.clear();
    JsonWriter json(out);
    if (computed.evaluate(rig.state.data(), rig.sketches, rig.key)) {
      computed.writeJson(rig.state.data(), rig.sketches, json);
    }
    benchmark::DoNotOptimize(out.data());
  }
  bench.SetItemsProcessed(bench.iterations());
}

// Several repetitions: the VM is noisy, so median and spread are what to read.
BENCHMARK(BM_Result_PlainAggregates)->Repetitions(5)->DisplayAggregatesOnly(true);
BENCHMARK(BM_Result_ComputedAndHaving)->Repetitions(5)->DisplayAggregatesOnly(true);

}  // namespace
}  // namespace rivulet::pipeline

BENCHMARK_MAIN();
