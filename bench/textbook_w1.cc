// The textbook way to run workload W1, for comparison with rivuletd in bench/e2e.sh: a producer
// thread -> std::mutex + condition variables + std::deque -> a consumer thread aggregating
// tumbling 1 s windows in a std::unordered_map keyed by the key string. Same events (the
// generator's), same window semantics, same results (count, sum, min, max per key and second),
// written as JSON lines like rivuletd's output so both can be checked the same way.
//
// usage: textbook_w1 EVENTS KEYS EVENTS_PER_SECOND OUTPUT.jsonl
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "connectors/sources/generator_source.h"

namespace {

struct Event {
  std::int64_t ts_ms;
  std::string key;
  double value;
};

// Bounded (so a fast producer cannot run out of memory), one event per push and pop.
class MutexQueue {
 public:
  void push(Event&& event) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return queue_.size() < kCapacity; });
    queue_.push_back(std::move(event));
    not_empty_.notify_one();
  }
  bool pop(Event& event) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) return false;
    event = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    done_ = true;
    not_empty_.notify_all();
  }

 private:
  static constexpr std::size_t kCapacity = 65536;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Event> queue_;
  bool done_ = false;
};

struct Acc {
  std::int64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s EVENTS KEYS EVENTS_PER_SECOND OUTPUT.jsonl\n", argv[0]);
    return 2;
  }
  rivulet::config::GeneratorSpec spec;
  const std::uint64_t events = std::strtoull(argv[1], nullptr, 10);
  spec.keys = std::atoll(argv[2]);
  spec.events_per_second = std::atoll(argv[3]);
  const std::int64_t start_ms = 1'700'000'000'000;
  std::FILE* out = std::fopen(argv[4], "w");
  if (out == nullptr) return 1;

  const auto began = std::chrono::steady_clock::now();
  MutexQueue queue;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < events; ++i) {
      const auto e = rivulet::connectors::generateEvent(spec, start_ms, i);
      queue.push(Event{e.ts_ms, "k" + std::to_string(e.key), e.value});
    }
    queue.close();
  });

  // In-order input, so a window closes when the first event of a later window arrives.
  std::unordered_map<std::string, Acc> window;
  std::int64_t window_start = std::numeric_limits<std::int64_t>::min();
  std::uint64_t results = 0;
  auto emit = [&] {
    for (const auto& [key, acc] : window) {
      std::fprintf(
          out,
          "{\"start\":%lld,\"end\":%lld,\"key\":{\"key\":\"%s\"},\"values\":{\"count\":%lld,"
          "\"sum\":%.17g,\"min\":%.17g,\"max\":%.17g}}\n",
          static_cast<long long>(window_start), static_cast<long long>(window_start + 1000),
          key.c_str(), static_cast<long long>(acc.count), acc.sum, acc.min, acc.max);
      ++results;
    }
    window.clear();
  };
  Event e;
  while (queue.pop(e)) {
    const std::int64_t start = e.ts_ms - e.ts_ms % 1000;
    if (start != window_start) {
      if (!window.empty()) emit();
      window_start = start;
    }
    Acc& acc = window[e.key];
    ++acc.count;
    acc.sum += e.value;
    acc.min = std::min(acc.min, e.value);
    acc.max = std::max(acc.max, e.value);
  }
  emit();
  producer.join();
  std::fclose(out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf("%llu events, %llu results, %.3f s, %.0f events/s\n",
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(results),
              seconds, static_cast<double>(events) / seconds);
  return 0;
}
