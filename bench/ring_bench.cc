// Throughput of handing records from one core to another: SpscRing with batched and with
// per-item publication, against moodycamel::ReaderWriterQueue and a mutex + condition variable
// queue, for 8- and 64-byte records. How to run it: bench/README.md.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/ring.h"

namespace rivulet::pipeline {
namespace {

// The same capacity for every queue, so none wins by buffering more.
constexpr std::size_t kCapacity = 65536;
// Records moved per benchmark iteration.
constexpr std::uint64_t kItems = 10'000'000;
// Enough to wrap every queue a few times, so no page is touched for the first time while timed.
constexpr std::uint64_t kWarmUpItems = 4 * kCapacity;
// Batched ring: the producer publishes every 32 records (256 for the *Batched256* variants) or
// when the ring is full; the consumer takes at most kConsumeAtMost of what available() reports
// before it frees them. Each publish costs about two cache-line transfers between the cores, so
// the cadence that pays off depends on how far apart the cores are.
constexpr std::size_t kConsumeAtMost = 256;

// A record of Bytes bytes whose every word holds the sequence number, so the producer writes and
// the consumer reads the whole record, not just its first word.
template <std::size_t Bytes>
struct Record {
  static_assert(Bytes % 8 == 0);
  std::uint64_t words[Bytes / 8];
};
using Record8 = Record<8>;
using Record64 = Record<64>;
static_assert(sizeof(Record8) == 8 && sizeof(Record64) == 64);

template <typename T>
T makeRecord(std::uint64_t seq) {
  T r;
  std::fill(std::begin(r.words), std::end(r.words), seq);
  return r;
}

// Reads the first and the last word: together they touch every cache line the record spans.
template <typename T>
std::uint64_t digest(const T& r) {
  return r.words[0] + r.words[std::size(r.words) - 1];
}

// What the consumer's digests add up to when every record 0..n-1 arrived once.
constexpr std::uint64_t expectedDigest(std::uint64_t n) { return n * (n - 1); }

// ---- threads and cpus ----

struct CpuPair {
  int producer = -1;  // -1: not pinned
  int consumer = -1;
};

// The first two cpus this process may run on. On a single cpu nothing is pinned: both threads must
// share it anyway.
CpuPair pickCpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return {};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  if (cpus.size() < 2) return {};
  return {cpus[0], cpus[1]};
}

void pinThisThread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Restores the affinity of the benchmark's own thread (the producer) when a benchmark ends.
class AffinityGuard {
 public:
  AffinityGuard() {
    CPU_ZERO(&saved_);
    pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_);
  }
  ~AffinityGuard() { pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_); }
  AffinityGuard(const AffinityGuard&) = delete;
  AffinityGuard& operator=(const AffinityGuard&) = delete;

 private:
  cpu_set_t saved_;
};

// The wait of the lock-free variants on a full or empty queue, and of the timed hand-offs. Plain
// pause, no Backoff: these waits are inside the timed region and a back-off sleep would add up to
// 200 µs to it. They are bounded because the other side is always making progress. On one cpu,
// spinning would only burn the time slice the other thread needs, so yield instead.
const bool kSharedCpu = pickCpus().producer < 0;

inline void relax() noexcept {
  if (kSharedCpu) {
    sched_yield();
  } else {
    cpuRelax();
  }
}

template <typename Pred>
void spinUntil(Pred pred) noexcept {
  while (!pred()) relax();
}

// Moves kItems records per iteration from this thread to a persistent consumer thread. What is
// timed is one transfer: from the store that starts the consumer's round until the consumer has
// read the last record. Thread start, pinning and queue construction happen outside the loop, and
// one untimed round of kWarmUpItems warms caches and faults in every page of the queue.
//
// produce(n) pushes records 0..n-1; consume(n) reads n records and returns the sum of digests.
template <typename T, typename Produce, typename Consume>
void runTransfer(benchmark::State& state, Produce produce, Consume consume) {
  const CpuPair cpus = pickCpus();
  AffinityGuard restore_affinity;

  std::atomic<std::uint64_t> started{0};   // round the consumer should run
  std::atomic<std::uint64_t> finished{0};  // last round the consumer completed
  std::atomic<bool> quit{false};
  std::uint64_t items = 0;  // records in this round; written before `started` is published
  std::uint64_t sum = 0;    // written by the consumer before it publishes `finished`

  // A new thread inherits its creator's affinity: the consumer starts on its own cpu rather than
  // pinning itself later, which it could not do while a spinning (or real-time) producer holds the
  // cpu it was created on.
  pinThisThread(cpus.consumer);
  std::thread consumer([&] {
    for (std::uint64_t round = 1;; ++round) {
      // Between rounds, idle politely: this wait is not timed.
      Backoff backoff;
      while (started.load(std::memory_order_acquire) < round) {
        if (quit.load(std::memory_order_relaxed)) return;
        backoff.pause();
      }
      sum = consume(items);
      finished.store(round, std::memory_order_release);
    }
  });

  pinThisThread(cpus.producer);

  std::uint64_t round = 0;
  auto transfer = [&](std::uint64_t n) {
    items = n;
    started.store(++round, std::memory_order_release);
    produce(n);
    spinUntil([&] { return finished.load(std::memory_order_acquire) == round; });
    return sum == expectedDigest(n);
  };

  bool ok = transfer(kWarmUpItems);
  for (auto _ : state) {
    if (!ok) break;
    ok = transfer(kItems);
  }
  quit.store(true, std::memory_order_relaxed);
  consumer.join();

  if (!ok) state.SkipWithError("records lost, duplicated or corrupted");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kItems));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kItems * sizeof(T)));
}

// ---- (a) SpscRing, batched publish and consume ----

template <typename T, std::size_t PublishEvery>
void ringBatched(benchmark::State& state) {
  SpscRing<T> ring(kCapacity);
  runTransfer<T>(
      state,
      [&](std::uint64_t n) {
        for (std::uint64_t seq = 0; seq < n; ++seq) {
          const T record = makeRecord<T>(seq);
          if (!ring.tryPush(record)) {
            ring.publish();  // full: the consumer can only make room by reading what it sees
            spinUntil([&] { return ring.tryPush(record); });
          }
          if (ring.staged() >= PublishEvery) ring.publish();
        }
        ring.publish();
      },
      [&](std::uint64_t n) {
        std::uint64_t sum = 0;
        for (std::uint64_t got = 0; got < n;) {
          std::size_t k = ring.available();
          if (k == 0) {
            relax();
            continue;
          }
          k = std::min(k, kConsumeAtMost);
          for (std::size_t i = 0; i < k; ++i) sum += digest(ring.at(i));
          ring.consume(k);
          got += k;
        }
        return sum;
      });
}

// ---- (b) SpscRing, one publish and one consume per record (rigtorp-style push/pop) ----

template <typename T>
void ringPerItem(benchmark::State& state) {
  SpscRing<T> ring(kCapacity);
  runTransfer<T>(
      state,
      [&](std::uint64_t n) {
        for (std::uint64_t seq = 0; seq < n; ++seq) {
          const T record = makeRecord<T>(seq);
          spinUntil([&] { return ring.tryPush(record); });
          ring.publish();
        }
      },
      [&](std::uint64_t n) {
        std::uint64_t sum = 0;
        for (std::uint64_t got = 0; got < n; ++got) {
          spinUntil([&] { return ring.available() != 0; });
          sum += digest(ring.at(0));
          ring.consume(1);
        }
        return sum;
      });
}

// ---- (c) moodycamel::ReaderWriterQueue, pre-sized so it never allocates ----

template <typename T>
void readerWriterQueue(benchmark::State& state) {
  moodycamel::ReaderWriterQueue<T> queue(kCapacity);
  runTransfer<T>(
      state,
      [&](std::uint64_t n) {
        for (std::uint64_t seq = 0; seq < n; ++seq) {
          const T record = makeRecord<T>(seq);
          spinUntil([&] { return queue.try_enqueue(record); });
        }
      },
      [&](std::uint64_t n) {
        std::uint64_t sum = 0;
        T record;
        for (std::uint64_t got = 0; got < n; ++got) {
          spinUntil([&] { return queue.try_dequeue(record); });
          sum += digest(record);
        }
        return sum;
      });
}

// ---- (d) the textbook bounded queue: std::deque under a mutex, two condition variables ----

template <typename T>
class MutexQueue {
 public:
  explicit MutexQueue(std::size_t capacity) : capacity_(capacity) {}

  void push(const T& item) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [&] { return items_.size() < capacity_; });
      items_.push_back(item);
    }
    not_empty_.notify_one();
  }

  T pop() {
    T item;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return !items_.empty(); });
      item = items_.front();
      items_.pop_front();
    }
    not_full_.notify_one();
    return item;
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
};

template <typename T>
void mutexQueue(benchmark::State& state) {
  MutexQueue<T> queue(kCapacity);
  runTransfer<T>(
      state,
      [&](std::uint64_t n) {
        for (std::uint64_t seq = 0; seq < n; ++seq) queue.push(makeRecord<T>(seq));
      },
      [&](std::uint64_t n) {
        std::uint64_t sum = 0;
        for (std::uint64_t got = 0; got < n; ++got) sum += digest(queue.pop());
        return sum;
      });
}

// ---- registration and main ----

struct Entry {
  const char* name;
  void (*run)(benchmark::State&);
};

const Entry kBenchmarks[] = {
    {"BM_Ring_Batched_8B", ringBatched<Record8, 32>},
    {"BM_Ring_Batched_64B", ringBatched<Record64, 32>},
    {"BM_Ring_Batched256_8B", ringBatched<Record8, 256>},
    {"BM_Ring_Batched256_64B", ringBatched<Record64, 256>},
    {"BM_Ring_PerItem_8B", ringPerItem<Record8>},
    {"BM_Ring_PerItem_64B", ringPerItem<Record64>},
    {"BM_ReaderWriterQueue_8B", readerWriterQueue<Record8>},
    {"BM_ReaderWriterQueue_64B", readerWriterQueue<Record64>},
    {"BM_MutexQueue_8B", mutexQueue<Record8>},
    {"BM_MutexQueue_64B", mutexQueue<Record64>},
};

// "model name" from /proc/cpuinfo: Google Benchmark prints cpu count and caches, not the model.
std::string cpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string cpuName(int cpu) { return cpu < 0 ? "not pinned" : "cpu " + std::to_string(cpu); }

}  // namespace
}  // namespace rivulet::pipeline

int main(int argc, char** argv) {
  namespace rp = rivulet::pipeline;

  // Defaults first, so flags given on the command line override them.
  static char repetitions[] = "--benchmark_repetitions=5";
  static char aggregates_only[] = "--benchmark_report_aggregates_only=true";
  std::vector<char*> args{argv[0], repetitions, aggregates_only};
  args.insert(args.end(), argv + 1, argv + argc);
  int args_count = static_cast<int>(args.size());
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 1;

  const rp::CpuPair cpus = rp::pickCpus();
  benchmark::AddCustomContext("cpu_model", rp::cpuModel());
  benchmark::AddCustomContext("producer", rp::cpuName(cpus.producer));
  benchmark::AddCustomContext("consumer", rp::cpuName(cpus.consumer));
  benchmark::AddCustomContext("items_per_iteration", std::to_string(rp::kItems));
  benchmark::AddCustomContext("queue_capacity", std::to_string(rp::kCapacity));

  for (const rp::Entry& b : rp::kBenchmarks) {
    benchmark::RegisterBenchmark(b.name, b.run)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
