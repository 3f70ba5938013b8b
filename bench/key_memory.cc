// key_memory: resident memory per key of one window's state, next to the obvious alternative.
//
// Each measurement runs alone in a child process (this binary again, with --child), which adds
// one event for each of KEYS distinct keys to one tumbling window and reports how far its peak
// resident set (VmHWM, so growth spikes count) rose over the adds, divided by KEYS. Keys are the
// generator's, "k<i>" as a string key part. Measured:
//   rivulet   WindowOperator, count/sum/min/max
//   absl      absl::flat_hash_map<std::string, Acc> with the four aggregates hard-coded
//   rivulet_q WindowOperator, count and p99 (a quantile sketch per key)
// Usage: key_memory [KEYS] [RUNS]; prints the median and the range over RUNS children.
#include <absl/container/flat_hash_map.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/hash.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/windows/window_operator.h"

namespace rivulet::pipeline {
namespace {

constexpr std::int64_t kMinute = 60'000'000'000;

// Peak resident set of this process, in bytes.
std::int64_t peakResidentBytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

// "k<i>" as an encoded key, in `out`.
std::string_view keyOf(std::size_t i, std::string& out) {
  char text[24] = {'k'};
  const char* end = std::to_chars(text + 1, text + sizeof text, i).ptr;
  out.clear();
  appendKeyPart(out, KeyPartType::kString, {text, static_cast<std::size_t>(end - text)});
  return out;
}

PipelinePlan makePlan(bool quantile) {
  config::Config config;
  config::SourceConfig source;
  source.name = "events";
  config.sources.push_back(source);
  config::PipelineConfig p;
  p.name = "memory";
  p.from = {"events"};
  p.group_by = {config::GroupBySpec{"key"}};
  p.window.kind = config::WindowKind::kTumbling;
  p.window.size = kMinute;
  p.window.slide = kMinute;
  if (quantile) {
    config::AggregateSpec p99{"p99", config::AggregateKind::kQuantile, "value"};
    p99.quantile = 0.99;
    p.aggregates = {{"n", config::AggregateKind::kCount, ""}, p99};
  } else {
    p.aggregates = {{"n", config::AggregateKind::kCount, ""},
                    {"total", config::AggregateKind::kSum, "value"},
                    {"low", config::AggregateKind::kMin, "value"},
                    {"high", config::AggregateKind::kMax, "value"}};
  }
  config.pipelines.push_back(p);
  return compilePipeline(config, 0);
}

// Bytes per key that the peak resident set grew by over `add(i)` for i < keys.
template <typename Add>
double measure(std::size_t keys, Add&& add) {
  const std::int64_t before = peakResidentBytes();
  for (std::size_t i = 0; i < keys; ++i) add(i);
  return static_cast<double>(peakResidentBytes() - before) / static_cast<double>(keys);
}

double rivuletBytes(std::size_t keys, bool quantile) {
  const PipelinePlan plan = makePlan(quantile);
  const Aggregates aggregates(plan.aggregates, plan.value_index);
  WindowOperator op(plan, aggregates);
  std::string key;
  return measure(keys, [&](std::size_t i) {
    const double value = static_cast<double>(i % 1000);
    const std::string_view k = keyOf(i, key);
    op.add(static_cast<std::int64_t>(i), hashEncodedKey(k), k, &value);
  });
}

double abslBytes(std::size_t keys) {
  struct Acc {
    std::int64_t count = 0;
    double sum = 0, low = 1e300, high = -1e300;
  };
  absl::flat_hash_map<std::string, Acc> window;
  std::string key;
  return measure(keys, [&](std::size_t i) {
    const double value = static_cast<double>(i % 1000);
    keyOf(i, key);
    Acc& a = window[key];
    ++a.count;
    a.sum += value;
    a.low = std::min(a.low, value);
    a.high = std::max(a.high, value);
  });
}

int child(const std::string& what, std::size_t keys) {
  double bytes = 0;
  if (what == "rivulet") {
    bytes = rivuletBytes(keys, false);
  } else if (what == "rivulet_q") {
    bytes = rivuletBytes(keys, true);
  } else if (what == "absl") {
    bytes = abslBytes(keys);
  } else {
    return 2;
  }
  std::printf("%.2f\n", bytes);
  return 0;
}

double runChild(const std::string& self, const std::string& what, std::size_t keys) {
  const std::string command = self + " --child " + what + " " + std::to_string(keys);
  FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return -1;
  double bytes = -1;
  if (std::fscanf(out, "%lf", &bytes) != 1) bytes = -1;
  pclose(out);
  return bytes;
}

}  // namespace
}  // namespace rivulet::pipeline

int main(int argc, char** argv) {
  using namespace rivulet::pipeline;
  if (argc == 4 && std::string(argv[1]) == "--child") {
    return child(argv[2], static_cast<std::size_t>(std::atoll(argv[3])));
  }
  const std::size_t keys = argc > 1 ? static_cast<std::size_t>(std::atoll(argv[1])) : 1'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0 || keys == 0 || runs <= 0) return 2;
  self[n] = '\0';
  std::printf("%zu keys, one tumbling window, one event per key; bytes of peak RSS per key\n",
              keys);
  std::printf("%-34s %8s %8s %8s\n", "state", "median", "min", "max");
  const std::pair<const char*, const char*> kinds[] = {
      {"rivulet", "rivulet count/sum/min/max"},
      {"absl", "absl::flat_hash_map count/sum/min/max"},
      {"rivulet_q", "rivulet count, p99"},
  };
  for (const auto& [what, label] : kinds) {
    std::vector<double> bytes;
    for (int r = 0; r < runs; ++r) bytes.push_back(runChild(self, what, keys));
    std::sort(bytes.begin(), bytes.end());
    std::printf("%-34s %8.1f %8.1f %8.1f\n", label, bytes[bytes.size() / 2], bytes.front(),
                bytes.back());
  }
  return 0;
}
