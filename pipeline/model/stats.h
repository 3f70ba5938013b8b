// Counters the hot path writes and the metrics endpoint reads. Each group has one writing thread,
// which adds with a relaxed load+store (no locked instruction); readers see a recent value.
// Groups are aligned apart so that two threads' counters never share a cache line.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipeline/model/error_reason.h"
#include "pipeline/model/refusal_sample.h"
#include "pipeline/runtime/cache_line.h"

namespace rivulet::pipeline {

using Counter = std::atomic<std::uint64_t>;

// Only the owning thread may call this.
inline void bump(Counter& c, std::uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct alignas(kFalseSharingRange) SourceStats {
  Counter events{0};
  Counter ring_full_waits{0};
  Counter dropped{0};              // overflow: drop, a ring was full
  Counter socket_drops{0};         // udp: datagrams the kernel dropped for a full socket buffer
  Counter connections_refused{0};  // tcp: clients closed at once, max_connections being reached;
                                   // zmq: clients CURVE let not in (written by the ZAP thread)
  std::array<Counter, static_cast<std::size_t>(ErrorReason::kCount)> errors{};
  // A sample of an event refused for each reason, for the rate-limited warning.
  std::array<RefusalSample, static_cast<std::size_t>(ErrorReason::kCount)> error_samples{};
  // Steady-clock time (ns) the source thread last made progress: read a batch, timed out waiting
  // for input, or waited on a full ring. Read by the watchdog (daemon/service/watchdog.h).
  std::atomic<std::int64_t> heartbeat{0};
  // tcp: clients connected now. Stored by the source thread as it accepts and closes them.
  std::atomic<std::int64_t> connections{0};
  Counter bytes{0};  // tcp, udp: bytes read from the socket, added once per read call

  void error(ErrorReason reason, std::string_view text = {}) noexcept {
    bump(errors[static_cast<std::size_t>(reason)]);
    error_samples[static_cast<std::size_t>(reason)].offer(text);
  }
};

// Per (pipeline, source); written by that source's thread: the events the pipeline could not
// evaluate (a where, key or argument of the wrong type, a missing key field...) while another
// pipeline of the source took them.
struct alignas(kFalseSharingRange) PipelineSourceStats {
  std::array<Counter, static_cast<std::size_t>(ErrorReason::kCount)> refused{};
  std::array<RefusalSample, static_cast<std::size_t>(ErrorReason::kCount)> samples{};

  void refuse(ErrorReason reason, std::string_view text) noexcept {
    bump(refused[static_cast<std::size_t>(reason)]);
    samples[static_cast<std::size_t>(reason)].offer(text);
  }
};

// Per (pipeline, stage); written by that stage.
struct alignas(kFalseSharingRange) PipelineStageStats {
  Counter events{0};
  Counter late{0};
  Counter keys_refused{0};   // events of new keys past max_keys
  Counter keys{0};           // distinct keys of the last fired window
  Counter state_entries{0};  // (key, slice) entries held
  std::atomic<std::int64_t> watermark{0};
  Counter results_dropped{0};  // results over kMaxRecordBytes (a bug path: logged too)
};

// Emit-latency histogram buckets (seconds), shared by the publisher and the exporter.
inline constexpr std::array<double, 16> kLatencyBuckets = {1e-6,   5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4,
                                                           2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
                                                           2.5e-2, 0.1,  1,    10};

// Written by the publisher thread.
struct alignas(kFalseSharingRange) PublisherStats {
  Counter send_errors{0};
  std::atomic<std::int64_t> subscribers{0};
  Counter subscribers_refused{0};  // by CURVE; written by the ZAP handler's thread (only)
};

// Per pipeline, written by the publisher thread. A pipeline a live reload keeps (by name) keeps
// its stats, so its counters and histogram go on.
struct alignas(kFalseSharingRange) PipelinePublishStats {
  // Results handed to the outputs, by kind; indexed by ResultKind (final, partial, update).
  std::array<Counter, 3> published{};
  // Emit latency: watermark passing a window's end (or an update's event arriving) to the result
  // handed to the outputs.
  std::array<Counter, kLatencyBuckets.size() + 1> latency_buckets{};  // last: +Inf
  std::atomic<double> latency_sum{0};
  // Wall-clock time (ns) the last result was handed to the outputs; 0 before the first.
  std::atomic<std::int64_t> last_result_at{0};

  // Results of every kind (any thread).
  std::uint64_t publishedTotal() const noexcept {
    std::uint64_t total = 0;
    for (const Counter& c : published) total += c.load(std::memory_order_relaxed);
    return total;
  }
};

}  // namespace rivulet::pipeline
