// Parsing one event of three fields ({ts, key, value}, ~50 bytes) into FieldValues: CsvParser
// on a CSV row against JsonEventParser (simdjson on-demand) on the same event as a JSON line,
// and the CSV splitter alone (no field read) for what typing costs. How to run it: bench/README.md.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include "connectors/formats/csv_parser.h"
#include "connectors/formats/json_event_parser.h"
#include "connectors/formats/line_framer.h"

namespace rivulet::bench {
namespace {

constexpr int kEvents = 4096;  // distinct events, cycled through
const std::vector<std::string> kFields = {"ts", "key", "value"};

// Each event followed by the parsers' padding, as a line source hands it over.
struct Lines {
  std::vector<std::string> storage;
  std::size_t size(std::size_t i) const {
    return storage[i].size() - connectors::LineFramer::kPadding;
  }
};

Lines makeLines(bool csv) {
  Lines lines;
  for (int i = 0; i < kEvents; ++i) {
    const std::string ts = std::to_string(1'700'000'000'000 + i);
    const std::string key = "k" + std::to_string(i % 100);
    const std::string value = std::to_string(i % 997) + ".25";
    std::string text = csv ? ts + "," + key + "," + value
                           : "{\"ts\":" + ts + ",\"key\":\"" + key + "\",\"value\":" + value + "}";
    text.resize(text.size() + connectors::LineFramer::kPadding);
    lines.storage.push_back(std::move(text));
  }
  return lines;
}

void BM_CsvParser_Row(benchmark::State& state) {
  const Lines lines = makeLines(true);
  connectors::CsvParser parser(kFields);
  const connectors::CsvLayout layout = parser.layout(kFields);
  std::vector<config::FieldValue> out(kFields.size());
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& line = lines.storage[i];
    benchmark::DoNotOptimize(parser.parse({line.data(), lines.size(i)}, layout, out));
    benchmark::DoNotOptimize(out.data());
    i = (i + 1) % kEvents;
  }
  state.SetItemsProcessed(state.iterations());
}

// The same rows with no column read: splitting and checking only.
void BM_CsvParser_RowNoFieldRead(benchmark::State& state) {
  const Lines lines = makeLines(true);
  connectors::CsvParser parser(kFields);
  const connectors::CsvLayout layout{{-1, -1, -1}, {}};
  std::vector<config::FieldValue> out(kFields.size());
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& line = lines.storage[i];
    benchmark::DoNotOptimize(parser.parse({line.data(), lines.size(i)}, layout, out));
    i = (i + 1) % kEvents;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_JsonEventParser_Line(benchmark::State& state) {
  const Lines lines = makeLines(false);
  connectors::JsonEventParser parser(kFields);
  std::vector<config::FieldValue> out(kFields.size());
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& line = lines.storage[i];
    benchmark::DoNotOptimize(parser.parse({line.data(), lines.size(i)}, line.size(), out));
    benchmark::DoNotOptimize(out.data());
    i = (i + 1) % kEvents;
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_CsvParser_Row);
BENCHMARK(BM_CsvParser_RowNoFieldRead);
BENCHMARK(BM_JsonEventParser_Line);

std::string cpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace
}  // namespace rivulet::bench

int main(int argc, char** argv) {
  // Defaults first, so flags given on the command line override them.
  static char repetitions[] = "--benchmark_repetitions=5";
  static char aggregates_only[] = "--benchmark_report_aggregates_only=true";
  std::vector<char*> args{argv[0], repetitions, aggregates_only};
  args.insert(args.end(), argv + 1, argv + argc);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::AddCustomContext("cpu_model", rivulet::bench::cpuModel());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
