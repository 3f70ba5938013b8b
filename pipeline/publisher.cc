#include "pipeline/publisher.h"

#include <algorithm>

#include "pipeline/backoff.h"
#include "pipeline/clock.h"
#include "pipeline/json_writer.h"
#include "pipeline/stage.h"

namespace rivulet::pipeline {
namespace {
constexpr std::size_t kDrainBatch = 1024;
}  // namespace

Publisher::Publisher(std::span<const PipelinePlan> pipelines, std::vector<Ring*> stage_rings,
                     std::vector<ResultOutput*> outputs, PublisherStats& stats,
                     std::vector<Counter*> published)
    : rings_(std::move(stage_rings)),
      outputs_(std::move(outputs)),
      stats_(stats),
      published_(std::move(published)),
      seq_(pipelines.size(), 0) {
  for (const PipelinePlan& p : pipelines) {
    std::string prefix;
    JsonWriter json(prefix);
    json.raw("{\"pipeline\":");
    json.string(p.name);
    json.raw(",\"seq\":");
    prefixes_.push_back(std::move(prefix));
  }
  payload_.reserve(8192);
}

void Publisher::run() noexcept {
  std::vector<bool> ended(rings_.size(), false);
  std::size_t open = rings_.size();
  Backoff backoff;
  bool idle_done = false;
  while (open > 0) {
    std::size_t cells = 0;
    for (std::size_t i = 0; i < rings_.size(); ++i) {
      if (ended[i]) continue;
      bool end = false;
      cells += drain(*rings_[i], end);
      if (end) {
        ended[i] = true;
        --open;
      }
    }
    heartbeat_.store(steadyNanos(), std::memory_order_relaxed);
    if (cells > 0) {
      backoff.reset();
      idle_done = false;
      continue;
    }
    // Flush once per quiet spell, then keep serving the outputs while waiting.
    if (!idle_done || backoff.parked()) {
      for (ResultOutput* out : outputs_) out->idle();
      idle_done = true;
    }
    backoff.pause();
  }
  for (ResultOutput* out : outputs_) out->idle();
}

std::size_t Publisher::drain(Ring& ring, bool& ended) noexcept {
  const std::size_t available = std::min(ring.available(), kDrainBatch);
  std::size_t offset = 0;
  while (offset < available) {
    const RecordHeader* h = reader_.peek(ring, offset, available);
    if (h == nullptr) break;
    if (h->type == RecordType::kResult) {
      publish(h);
    } else if (h->type == RecordType::kEnd) {
      ended = true;
    }
    offset += h->cells;
  }
  if (offset > 0) ring.consume(offset);
  return offset;
}

void Publisher::publish(const RecordHeader* h) noexcept {
  ResultPrefix prefix;
  std::memcpy(&prefix, payload(h), sizeof prefix);
  const char* bytes = reinterpret_cast<const char*>(payload(h)) + sizeof prefix;
  const std::string_view topic(bytes, prefix.topic_size);
  const std::string_view tail(bytes + prefix.topic_size, prefix.tail_size);

  const std::uint16_t p = h->pipeline;
  payload_.assign(prefixes_[p]);
  JsonWriter json(payload_);
  json.integer(static_cast<std::int64_t>(++seq_[p]));
  json.raw(',');
  json.raw(tail);
  for (ResultOutput* out : outputs_) out->send(topic, payload_);
  bump(*published_[p]);
  observeLatency(steadyNanos() - prefix.fired_at);
}

void Publisher::observeLatency(std::int64_t nanos) noexcept {
  const double seconds = static_cast<double>(std::max<std::int64_t>(nanos, 0)) * 1e-9;
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) -
      kLatencyBuckets.begin());
  bump(stats_.latency_buckets[bucket]);
  stats_.latency_sum.store(stats_.latency_sum.load(std::memory_order_relaxed) + seconds,
                           std::memory_order_relaxed);
}

}  // namespace rivulet::pipeline
