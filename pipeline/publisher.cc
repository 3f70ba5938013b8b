#include "pipeline/publisher.h"

#include <algorithm>
#include <cstring>

#include "pipeline/model/json_writer.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/clock.h"
#include "pipeline/stage.h"
#include "pipeline/windows/window_operator.h"

namespace rivulet::pipeline {
namespace {
// Cells taken from one stage's ring before looking at the next (64 KiB).
constexpr std::size_t kDrainBatch = 65536 / sizeof(Cell);
// The longest the parked publisher sleeps without being rung: subscriber bookkeeping waits at most
// this long.
constexpr std::int64_t kParkNs = 50'000'000;
// PipelinePublishStats::published is indexed by the kind the stage puts in a result's flags.
static_assert(static_cast<int>(ResultKind::kFinal) == 0 &&
              static_cast<int>(ResultKind::kPartial) == 1 &&
              static_cast<int>(ResultKind::kUpdate) == 2);
// A ranked window holds at most this many rows more than it keeps before they are pruned.
constexpr std::size_t kRankSlack = 64;
}  // namespace

Publisher::Publisher(std::span<const PipelinePlan> pipelines, std::vector<Ring*> stage_rings,
                     std::vector<ResultOutput*> outputs, PublisherStats& stats,
                     std::vector<PipelinePublishStats*> pipeline_stats, CommitBoard* commits,
                     std::vector<int> stage_tiers)
    : rings_(std::move(stage_rings)),
      stage_tiers_(std::move(stage_tiers)),
      outputs_(std::move(outputs)),
      stats_(stats),
      pipeline_stats_(std::move(pipeline_stats)),
      commits_(commits),
      at_barrier_(rings_.size(), false),
      ended_(rings_.size(), false) {
  stage_tiers_.resize(rings_.size(), 0);
  for (const PipelinePlan& p : pipelines) pipelines_.push_back(makeState(p));
  payload_.reserve(8192);
}

Publisher::PipelineState Publisher::makeState(const PipelinePlan& plan) const {
  PipelineState state;
  state.name = plan.name;
  state.fire_delay = plan.fire_delay;
  JsonWriter json(state.prefix);
  json.raw("{\"pipeline\":");
  json.string(plan.name);
  json.raw(",\"seq\":");
  state.marker_topic = "_window/" + plan.name + "/";
  state.publish = plan.publish;
  // Only the stages of the pipeline's tier hold its windows back.
  state.stage_watermark.assign(rings_.size(), kMaxTime);
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    if (stage_tiers_[i] == plan.tier) state.stage_watermark[i] = kMinTime;
  }
  if (plan.top) {
    state.ranking =
        Ranking{static_cast<std::size_t>(plan.top->n), plan.top->ascending, plan.top->keep_ties};
  }
  return state;
}

void Publisher::run() noexcept {
  std::vector<bool>& ended = ended_;
  std::size_t open = rings_.size();
  Backoff backoff(idle_spin_ns_);
  bool idle_done = false;
  while (open > 0) {
    std::size_t cells = 0;
    for (std::size_t i = 0; i < rings_.size(); ++i) {
      if (ended[i] || at_barrier_[i]) continue;
      bool end = false;
      cells += drain(i, end);
      if (end) {
        ended[i] = true;
        --open;
      }
    }
    if (barrier_ != 0) alignBarrier();
    beat();
    if (cells > 0) {
      backoff.reset();
      idle_done = false;
      continue;
    }
    // Flush once per quiet spell, then keep serving the outputs while parked.
    if (!idle_done || backoff.exhausted()) {
      for (ResultOutput* out : outputs_) out->idle();
      idle_done = true;
      settleAcks();
    }
    if (!backoff.exhausted()) {
      backoff.pause();
      continue;
    }
    // Park until a stage publishes and rings, or kParkNs for the outputs' housekeeping.
    const std::uint32_t epoch = doorbell_.prepare();
    bool ready = false;
    for (std::size_t i = 0; i < rings_.size(); ++i)
      ready |= !ended[i] && !at_barrier_[i] && rings_[i]->available() > 0;
    if (ready) {
      doorbell_.cancel();
    } else {
      doorbell_.sleep(epoch, kParkNs);
    }
  }
  for (ResultOutput* out : outputs_) out->finish();
  settleAcks();
}

void Publisher::settleAcks() noexcept {
  while (!pending_acks_.empty()) {
    const PendingAck& ack = pending_acks_.front();
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      if (!outputs_[i]->safeThrough(ack.positions[i])) return;
    }
    commits_->ack(ack.source, ack.stage, ack.seq);
    pending_acks_.pop_front();
  }
}

std::size_t Publisher::drain(std::size_t stage, bool& ended) noexcept {
  Ring& ring = *rings_[stage];
  const std::size_t available = std::min(ring.available(), kDrainBatch);
  if (available == 0) return 0;
  // One wall-clock reading per batch stamps its results' last_result_at: the metric is read in
  // seconds, and a batch is sent within microseconds.
  const std::int64_t wall = wallNanos();
  std::size_t offset = 0;
  while (offset < available) {
    const RecordHeader* h = reader_.peek(ring, offset, available);
    if (h == nullptr) break;
    switch (h->type) {
      case RecordType::kResult:
        publish(h, wall);
        break;
      case RecordType::kLate: {
        LatePayload sizes;
        std::memcpy(&sizes, payload(h), sizeof sizes);
        const char* topic = reinterpret_cast<const char*>(payload(h)) + sizeof sizes;
        const std::string_view raw(topic + sizes.topic_size, sizes.raw_size);
        // Like end-of-window markers, late events go to the message bus only.
        for (ResultOutput* out : outputs_) out->sendMarker({topic, sizes.topic_size}, raw);
        break;
      }
      case RecordType::kWindowEnd: {
        WindowEndPayload window;
        std::memcpy(&window, payload(h), sizeof window);
        OpenWindow& open = pipelines_[h->pipeline].open[h->time];
        open.start = window.start;
        open.results += window.results;
        break;
      }
      case RecordType::kMark: {
        // Every result owed to the mark is out of this thread: flush the outputs' buffers (the
        // file's stdio buffer) so that a commit never covers results only in memory.
        std::uint64_t seq;
        std::memcpy(&seq, payload(h), sizeof seq);
        for (ResultOutput* out : outputs_) out->idle();
        if (commits_ == nullptr) break;
        PendingAck ack{h->pipeline, stage, seq, {}};
        for (const ResultOutput* out : outputs_) ack.positions.push_back(out->position());
        pending_acks_.push_back(std::move(ack));
        settleAcks();
        break;
      }
      case RecordType::kWatermark: {
        PipelineState& pipeline = pipelines_[h->pipeline];
        pipeline.stage_watermark[stage] = h->time;
        sendMarkers(pipeline);
        break;
      }
      case RecordType::kBarrier:
        at_barrier_[stage] = true;
        barrier_ = static_cast<std::uint64_t>(h->time);
        break;
      case RecordType::kSnapshotDone:
        if (--parts_due_ == 0) checkpoints_->complete(static_cast<std::uint64_t>(h->time));
        break;
      case RecordType::kEnd:
        // The stage has flushed everything: it holds no window back any more.
        ended = true;
        for (PipelineState& pipeline : pipelines_) {
          pipeline.stage_watermark[stage] = kMaxTime;
          sendMarkers(pipeline);
        }
        break;
      default:
        break;
    }
    offset += h->cells;
    if (at_barrier_[stage]) break;  // the rest waits for the other stages' barriers
  }
  if (offset > 0) ring.consume(offset);
  return offset;
}

void Publisher::alignBarrier() noexcept {
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    if (!ended_[i] && !at_barrier_[i]) return;
  }
  // Every result before the barriers is out of this thread: flush the outputs' buffers, so that
  // a checkpoint never counts on results held only in memory.
  for (ResultOutput* out : outputs_) out->idle();
  if (const Reconfiguration* change = checkpoints_->change(); change != nullptr) {
    reconfigure(*change);
    checkpoints_->complete(barrier_);
  } else {
    snapshot(checkpoints_->publisher());
    // Each stage whose barrier came sends kSnapshotDone once its part is on the board, after the
    // barrier: the last one completes the checkpoint.
    parts_due_ = static_cast<std::size_t>(std::count(at_barrier_.begin(), at_barrier_.end(), true));
    if (parts_due_ == 0) checkpoints_->complete(barrier_);
  }
  std::fill(at_barrier_.begin(), at_barrier_.end(), false);
  barrier_ = 0;
}

// Cold, once per reload; allocates.
void Publisher::reconfigure(const Reconfiguration& change) {
  std::vector<bool> kept(pipelines_.size(), false);
  for (const int previous : change.previous) {
    if (previous >= 0) kept[static_cast<std::size_t>(previous)] = true;
  }
  for (std::size_t p = 0; p < pipelines_.size(); ++p) {
    if (kept[p]) continue;
    std::fill(pipelines_[p].stage_watermark.begin(), pipelines_[p].stage_watermark.end(), kMaxTime);
    sendMarkers(pipelines_[p]);
  }
  std::vector<PipelineState> pipelines;
  for (std::size_t p = 0; p < change.plans.size(); ++p) {
    if (const int previous = change.previous[p]; previous >= 0) {
      pipelines.push_back(std::move(pipelines_[static_cast<std::size_t>(previous)]));
      continue;
    }
    pipelines.push_back(makeState(change.plans[p]));
    for (std::size_t old = 0; old < pipelines_.size(); ++old) {
      if (!kept[old] && pipelines_[old].name == change.plans[p].name) {
        pipelines.back().seq = pipelines_[old].seq;
      }
    }
  }
  pipelines_ = std::move(pipelines);
  pipeline_stats_ = change.publish_stats;
}

// The publisher's part of a checkpoint: [pipelines:u32][stages:u32], then per pipeline
// [seq:u64], [stage watermark:i64] per stage, [open windows:u32] and per open window
// [end:i64][start:i64][results:u64].
void Publisher::snapshot(std::string& out) const {
  SnapshotWriter writer;
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(pipelines_.size()));
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(rings_.size()));
  for (const PipelineState& pipeline : pipelines_) {
    writer.put<std::uint64_t>(pipeline.seq);
    for (const std::int64_t watermark : pipeline.stage_watermark) writer.put(watermark);
    writer.put<std::uint32_t>(static_cast<std::uint32_t>(pipeline.open.size()));
    for (const auto& [end, window] : pipeline.open) {
      writer.put(end);
      writer.put(window.start);
      writer.put(window.results);
      writer.put<std::uint32_t>(static_cast<std::uint32_t>(window.rows.size()));
      for (const Row& row : window.rows) {
        writer.put(row.value);
        writer.put(row.fired_at);
        writer.put(row.kind);
        writer.putBytes(row.topic);
        writer.putBytes(row.tail);
      }
    }
  }
  out = writer.take();
}

bool Publisher::restore(std::string_view snapshot) {
  SnapshotReader reader(snapshot);
  if (reader.get<std::uint32_t>() != pipelines_.size() ||
      reader.get<std::uint32_t>() != rings_.size()) {
    return false;
  }
  for (PipelineState& pipeline : pipelines_) {
    pipeline.seq = reader.get<std::uint64_t>();
    for (std::int64_t& watermark : pipeline.stage_watermark) {
      watermark = reader.get<std::int64_t>();
    }
    pipeline.open.clear();
    const std::uint32_t windows = reader.getCount(3 * sizeof(std::int64_t) + 4);
    for (std::uint32_t w = 0; w < windows && reader.ok(); ++w) {
      const auto end = reader.get<std::int64_t>();
      OpenWindow& window = pipeline.open[end];
      window.start = reader.get<std::int64_t>();
      window.results = reader.get<std::uint64_t>();
      const std::uint32_t rows = reader.getCount(2 * sizeof(std::int64_t) + 1 + 8);
      if (rows > 0 && !pipeline.ranking) return false;
      for (std::uint32_t r = 0; r < rows && reader.ok(); ++r) {
        Row row;
        row.value = reader.get<double>();
        row.fired_at = reader.get<std::int64_t>();
        row.kind = reader.get<std::uint8_t>();
        row.topic = std::string(reader.getBytes());
        row.tail = std::string(reader.getBytes());
        // A tail always ends with the values and the message's braces (see send()).
        if (row.tail.size() < 2) return false;
        window.rows.push_back(std::move(row));
      }
    }
  }
  return reader.done();
}

// Sends the marker of every open window that all stages have fired or passed, in end order.
void Publisher::sendMarkers(PipelineState& pipeline) noexcept {
  const std::int64_t watermark =
      *std::min_element(pipeline.stage_watermark.begin(), pipeline.stage_watermark.end());
  for (auto it = pipeline.open.begin(); it != pipeline.open.end();) {
    const std::int64_t end = it->first;
    const bool complete = watermark == kMaxTime || (end <= kMaxTime - pipeline.fire_delay &&
                                                    end + pipeline.fire_delay <= watermark);
    if (!complete) break;
    if (pipeline.ranking) {
      const auto p = static_cast<std::uint16_t>(&pipeline - pipelines_.data());
      it->second.results = sendRanked(p, it->second);
    }
    if (!pipeline.publish) {
      it = pipeline.open.erase(it);
      continue;
    }
    payload_.clear();
    JsonWriter json(payload_);
    json.raw("{\"pipeline\":");
    json.string(pipeline.name);
    json.raw(",\"start\":");
    json.integer(it->second.start / 1'000'000);
    json.raw(",\"end\":");
    json.integer(end / 1'000'000);
    json.raw(",\"results\":");
    json.integer(static_cast<std::int64_t>(it->second.results));
    json.raw('}');
    for (ResultOutput* out : outputs_) out->sendMarker(pipeline.marker_topic, payload_);
    it = pipeline.open.erase(it);
  }
}

void Publisher::publish(const RecordHeader* h, std::int64_t wall) noexcept {
  PipelineState& pipeline = pipelines_[h->pipeline];
  if (pipeline.ranking) {
    hold(pipeline, h);
    return;
  }
  ResultPrefix prefix;
  std::memcpy(&prefix, payload(h), sizeof prefix);
  const char* bytes = reinterpret_cast<const char*>(payload(h)) + sizeof prefix;
  const std::string_view topic(bytes, prefix.topic_size);
  const std::string_view tail(bytes + prefix.topic_size, prefix.tail_size);
  // The stage writes the result's ResultKind into the header's flags.
  send(h->pipeline, topic, tail, h->flags, prefix.fired_at, wall, 0);
}

void Publisher::send(std::uint16_t p, std::string_view topic, std::string_view tail,
                     std::uint8_t kind, std::int64_t fired_at, std::int64_t wall,
                     std::uint64_t rank) noexcept {
  payload_.assign(pipelines_[p].prefix);
  JsonWriter json(payload_);
  json.integer(static_cast<std::int64_t>(++pipelines_[p].seq));
  json.raw(',');
  if (rank == 0) {
    json.raw(tail);
  } else {
    // The tail ends with the values object and the message's own brace: "...}}".
    json.raw(tail.substr(0, tail.size() - 2));
    json.raw(",\"rank\":");
    json.integer(static_cast<std::int64_t>(rank));
    json.raw("}}");
  }
  for (ResultOutput* out : outputs_) out->send(topic, payload_);
  PipelinePublishStats& stats = *pipeline_stats_[p];
  bump(stats.published[std::min<std::size_t>(kind, stats.published.size() - 1)]);
  stats.last_result_at.store(wall, std::memory_order_relaxed);
  observeLatency(stats, steadyNanos() - fired_at);
}

namespace {

// Whether row a ranks before row b: by value (a null last), then by topic, which holds the key,
// so that the order is the same whatever order the stages sent them in.
template <typename Row>
bool ranksBefore(const Row& a, const Row& b, bool ascending) {
  const bool a_null = a.value != a.value, b_null = b.value != b.value;
  if (a_null != b_null) return b_null;
  if (!a_null && a.value != b.value) return ascending ? a.value < b.value : a.value > b.value;
  return a.topic < b.topic;
}

template <typename Row>
bool tied(const Row& a, const Row& b) {
  return a.value == b.value || (a.value != a.value && b.value != b.value);
}

// Sorts `rows` best first and drops those that cannot be among the first n (ties with the n-th
// kept when asked).
template <typename Row>
void keepBest(std::vector<Row>& rows, std::size_t n, bool ascending, bool keep_ties) {
  std::sort(rows.begin(), rows.end(),
            [&](const Row& a, const Row& b) { return ranksBefore(a, b, ascending); });
  if (rows.size() <= n) return;
  std::size_t keep = n;
  while (keep_ties && keep < rows.size() && tied(rows[keep], rows[n - 1])) ++keep;
  rows.resize(keep);
}

}  // namespace

// Allocates per held result (the row's copy of topic and payload); ranked pipelines publish
// only a few results per window anyway.
void Publisher::hold(PipelineState& pipeline, const RecordHeader* h) {
  ResultPrefix prefix;
  std::memcpy(&prefix, payload(h), sizeof prefix);
  const char* bytes = reinterpret_cast<const char*>(payload(h)) + sizeof prefix;
  OpenWindow& window = pipeline.open[h->time];
  window.rows.push_back(Row{prefix.rank_value, prefix.fired_at, h->flags,
                            std::string(bytes, prefix.topic_size),
                            std::string(bytes + prefix.topic_size, prefix.tail_size)});
  const Ranking& r = *pipeline.ranking;
  if (window.rows.size() >= 2 * r.n + kRankSlack) {
    keepBest(window.rows, r.n, r.ascending, r.keep_ties);
  }
}

std::size_t Publisher::sendRanked(std::uint16_t p, OpenWindow& window) {
  const Ranking& r = *pipelines_[p].ranking;
  keepBest(window.rows, r.n, r.ascending, r.keep_ties);
  const std::int64_t wall = wallNanos();
  std::uint64_t rank = 0;
  for (std::size_t i = 0; i < window.rows.size(); ++i) {
    const Row& row = window.rows[i];
    // Standard competition ranking: ties share a rank, the next rank counts them (1, 1, 3).
    if (i == 0 || !tied(row, window.rows[i - 1])) rank = i + 1;
    send(p, row.topic, row.tail, row.kind, row.fired_at, wall, rank);
  }
  const std::size_t sent = window.rows.size();
  window.rows.clear();
  return sent;
}

void Publisher::observeLatency(PipelinePublishStats& stats, std::int64_t nanos) noexcept {
  const double seconds = static_cast<double>(std::max<std::int64_t>(nanos, 0)) * 1e-9;
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) -
      kLatencyBuckets.begin());
  bump(stats.latency_buckets[bucket]);
  stats.latency_sum.store(stats.latency_sum.load(std::memory_order_relaxed) + seconds,
                          std::memory_order_relaxed);
}

}  // namespace rivulet::pipeline
