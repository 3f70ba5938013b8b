// What a lookup (`lookup:`) costs the source core per event: the EventRouter projecting events of
// 1,000 symbols into records grouped by the symbol (no lookup), grouped by a sector looked up
// from a 1,000-row table, and the obvious alternative: the caller probing a
// std::unordered_map<std::string, std::string> per event and handing the router the sector as an
// event field. Parsing is left out (the fields are given), so the difference is the lookup's.
// The rings are drained between batches on the same thread.
#include <benchmark/benchmark.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/loader.h"
#include "pipeline/event_router.h"
#include "pipeline/model/plan.h"
#include "pipeline/source_plan.h"
#include "pipeline/tables/lookup_table.h"

namespace rivulet::pipeline {
namespace {

constexpr int kSymbols = 1000;
constexpr int kSectors = 11;
constexpr int kBatch = 4096;

std::string symbol(int i) { return "SYM" + std::to_string(i); }
std::string sector(int i) { return "sector-" + std::to_string(i % kSectors); }

config::Config configOf(const std::string& pipeline) {
  // The table's path must exist for the loader; its rows are made below, not read.
  config::LoadResult loaded = config::loadString(
      "sources:\n"
      "  in: {kind: file, path: /dev/null, time: {field: ts, unit: ms}}\n"
      "tables:\n"
      "  sectors: {path: /dev/null, format: csv, key: sym}\n"
      "pipelines:\n" +
          pipeline,
      "bench.yaml");
  if (!loaded.config) throw std::runtime_error(loaded.errors.at(0).toString());
  return *loaded.config;
}

std::shared_ptr<TableStore> sectorTable() {
  auto table = std::make_shared<LookupTable>(std::vector<std::string>{"sym", "sector"}, 0);
  for (int i = 0; i < kSymbols; ++i) {
    const std::string sym = symbol(i), sec = sector(i);
    config::FieldValue row[2];
    row[0].type = row[1].type = config::FieldType::kString;
    row[0].text = sym;
    row[1].text = sec;
    table->addRow(row);
  }
  table->seal();
  return std::make_shared<TableStore>(std::move(table));
}

// A router over one ring for `config`'s source, and events in its field order.
class Rig {
 public:
  explicit Rig(const config::Config& config, std::shared_ptr<TableStore> store = nullptr)
      : ring_(std::make_unique<Ring>((32 << 20) / sizeof(Cell))) {
    plans_.push_back(compilePipeline(config, 0));
    SourcePlan plan = planSource(config, 0, plans_);
    for (SourcePlan::Lookup& l : plan.lookups) l.store = store;
    router_ =
        std::make_unique<EventRouter>(std::move(plan), std::vector<Ring*>{ring_.get()}, stats_);
    const std::vector<std::string>& fields = router_->plan().fields;
    for (int i = 0; i < kBatch; ++i) {
      symbols_.push_back(symbol((i * 7919) % kSymbols));
      std::vector<config::FieldValue> values(fields.size());
      for (std::size_t f = 0; f < fields.size(); ++f) {
        config::FieldValue& v = values[f];
        if (fields[f] == "ts") {
          v.type = config::FieldType::kNumber;
          v.is_integer = true;
          v.integer = 1'700'000'000'000 + i / 8;
          v.number = static_cast<double>(v.integer);
        } else if (fields[f] == "value") {
          v.type = config::FieldType::kNumber;
          v.number = i % 97;
        }
      }
      events_.push_back(std::move(values));
    }
    for (int i = 0; i < kBatch; ++i) {
      for (std::size_t f = 0; f < fields.size(); ++f) {
        if (fields[f] == "key") {
          events_[i][f].type = config::FieldType::kString;
          events_[i][f].text = symbols_[static_cast<std::size_t>(i)];
        }
      }
    }
  }
  const std::vector<std::string>& fields() const { return router_->plan().fields; }
  std::vector<std::vector<config::FieldValue>>& events() { return events_; }
  const std::vector<std::string>& symbols() const { return symbols_; }
  void route(const config::FieldValue* fields) {
    router_->route(fields, 1'700'000'000'000'000'000);
  }
  void drain() {
    router_->flush(1'700'000'000'000'000'000, 1);
    ring_->consume(ring_->available());
  }

 private:
  std::unique_ptr<Ring> ring_;
  std::vector<PipelinePlan> plans_;
  SourceStats stats_;
  std::unique_ptr<EventRouter> router_;
  std::vector<std::string> symbols_;
  std::vector<std::vector<config::FieldValue>> events_;
};

void BM_Route_NoLookup(benchmark::State& state) {
  Rig rig(
      configOf("  p: {from: in, group_by: [key], window: {tumbling: 1s}, "
               "aggregates: {total: sum(value)}}\n"));
  for (auto _ : state) {
    for (const auto& e : rig.events()) rig.route(e.data());
    rig.drain();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Route_Lookup(benchmark::State& state) {
  Rig rig(configOf("  p:\n"
                   "    from: in\n"
                   "    lookup: [{table: sectors, key: key, fields: [sector]}]\n"
                   "    group_by: [sector]\n"
                   "    window: {tumbling: 1s}\n"
                   "    aggregates: {total: sum(value)}\n"),
          sectorTable());
  for (auto _ : state) {
    for (const auto& e : rig.events()) rig.route(e.data());
    rig.drain();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// The alternative: a map of strings probed by the caller, its value handed over as a field.
void BM_Route_UnorderedMapThenRoute(benchmark::State& state) {
  Rig rig(
      configOf("  p: {from: in, group_by: [sector], window: {tumbling: 1s}, "
               "aggregates: {total: sum(value)}}\n"));
  std::unordered_map<std::string, std::string> sectors;
  for (int i = 0; i < kSymbols; ++i) sectors[symbol(i)] = sector(i);
  std::size_t sector_field = 0;
  for (std::size_t f = 0; f < rig.fields().size(); ++f) {
    if (rig.fields()[f] == "sector") sector_field = f;
  }
  for (auto _ : state) {
    for (std::size_t i = 0; i < rig.events().size(); ++i) {
      std::vector<config::FieldValue>& e = rig.events()[i];
      const auto it = sectors.find(rig.symbols()[i]);
      e[sector_field].type =
          it == sectors.end() ? config::FieldType::kNull : config::FieldType::kString;
      if (it != sectors.end()) e[sector_field].text = it->second;
      rig.route(e.data());
    }
    rig.drain();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_Route_NoLookup);
BENCHMARK(BM_Route_Lookup);
BENCHMARK(BM_Route_UnorderedMapThenRoute);

}  // namespace
}  // namespace rivulet::pipeline

BENCHMARK_MAIN();
