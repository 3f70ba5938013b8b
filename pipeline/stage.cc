#include "pipeline/stage.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>

#include "pipeline/model/hash.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/key.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/model/value_slot.h"
#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::pipeline {
namespace {

// Cells taken from one input before looking at the next (32 KiB): bounds how long one busy source
// can delay another's watermark, and how many cells are freed by one release store.
constexpr std::size_t kDrainBatch = 32768 / sizeof(Cell);
// The longest a parked stage sleeps without being rung: bounds the heartbeat's staleness.
constexpr std::int64_t kParkNs = 50'000'000;
// The bytes of a checkpoint's part written per step (continueSnapshot): about 0.1 ms of work
// (~15 instructions per byte), then the stage reads a batch of its inputs again.
constexpr std::size_t kSnapshotStep = 64 * 1024;
constexpr std::int64_t kNanosPerMilli = 1'000'000;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

std::int64_t floorMillis(std::int64_t ns) { return floorDiv(ns, kNanosPerMilli); }

// The watermark at which every window of `plan` that can hold an event at or before `time` is
// closed, lateness included: for a mark whose events reach `time`, the watermark that publishes
// them all; after a replay from that mark, the floor below which events are already published.
// Sessions: the event's own session [time, time + gap) closed; one that an event extended further
// is checked apart (SessionOperator::holdsUnfiredBy).
std::int64_t closedThrough(const PipelinePlan& plan, std::int64_t time) {
  if (plan.session) return saturatingAdd(saturatingAdd(time, plan.gap), plan.allowed_lateness);
  const std::int64_t last_start = floorDiv(time, plan.slide) * plan.slide;
  return saturatingAdd(saturatingAdd(last_start, plan.size), plan.allowed_lateness);
}

bool reads(const PipelinePlan& plan, std::size_t source) {
  return std::find(plan.sources.begin(), plan.sources.end(), static_cast<int>(source)) !=
         plan.sources.end();
}

// How many window fire times (end + fire delay) lie at or below `watermark`, up to a constant:
// window ends are size + k * slide, so this rises by one each time the watermark completes another
// window.
std::int64_t windowEndsPassed(const PipelinePlan& plan, std::int64_t watermark) {
  if (watermark == kMaxTime) return kMaxTime;
  std::int64_t x;
  if (__builtin_sub_overflow(watermark, plan.fire_delay + plan.size, &x)) return kMinTime;
  return floorDiv(x, plan.slide);
}

// The bytes of an event's top_k items, which follow its key (and precede a late event's raw
// text). Out of line and from the header, so that onEvent() keeps nothing alive across add() for
// it: that cost a spill per event.
[[gnu::noinline]] std::size_t itemBytes(const PipelinePlan& plan, const RecordHeader* h) noexcept {
  const auto* values = reinterpret_cast<const double*>(payload(h));
  std::size_t bytes = 0;
  for (std::size_t v = 0; v < plan.value_forms.size(); ++v) {
    if (plan.value_forms[v] == ValueForm::kItem && slotBits(values[v]) != kNullSlot) {
      bytes += ItemRef::of(values[v]).size;
    }
  }
  return bytes;
}

}  // namespace

Stage::Stage(std::span<const PipelinePlan> pipelines, std::span<const Aggregates> aggregates,
             std::vector<Ring*> inputs, Ring& output, std::vector<PipelineStageStats*> stats,
             Doorbell* publisher_bell, std::vector<int> input_streams, int tier)
    : pipelines_(pipelines),
      output_(output),
      stats_(std::move(stats)),
      tier_(tier),
      publisher_bell_(publisher_bell) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    inputs_.push_back(
        Input{.ring = inputs[i],
              .stream = input_streams.empty() ? static_cast<int>(i) : input_streams[i]});
  }
  feeds_.resize(pipelines.size());
  for (std::size_t p = 0; p < pipelines.size(); ++p) {
    operators_.push_back(makeOperator(pipelines[p], aggregates[p], this));
    aggregates_.push_back(&aggregates[p]);
  }
  bindPipelines();
  events_.assign(pipelines.size(), 0);
  late_.assign(pipelines.size(), 0);
  refused_.assign(pipelines.size(), 0);
  reported_.assign(pipelines.size(), kMinTime);
  topic_.reserve(1024);
  tail_.reserve(4096);
}

Stage::~Stage() = default;

void Stage::feed(std::uint16_t pipeline, std::unique_ptr<ResultFeed> feed) {
  active_feeds_.push_back(feed.get());
  feeds_[pipeline] = std::move(feed);
}

void Stage::run() noexcept {
  Backoff backoff(idle_spin_ns_);
  std::size_t open = inputs_.size();
  // Busy and idle time: the heartbeat's clock reading closes each iteration, busy if it processed
  // input, idle if not. A yield or a park (system calls both, beside which one more vDSO clock read
  // is nothing) is closed by a reading of its own, so that the next interval is that iteration's
  // work alone. A spin is not (a few hundred nanoseconds): it counts with the work after it.
  std::int64_t last = steadyNanos();
  while (open > 0) {
    std::size_t cells = 0;
    for (Input& input : inputs_) {
      if (!input.ended && !input.at_barrier) cells += drain(input);
    }
    if (barrier_ != 0) alignBarrier();
    // A snapshot being written keeps the stage busy: a step per iteration, between batches.
    if (snapshot_id_ != 0) {
      continueSnapshot(/*all=*/false);
      ++cells;
    }
    publishResults();
    publishCounts();
    open = static_cast<std::size_t>(
        std::count_if(inputs_.begin(), inputs_.end(), [](const Input& i) { return !i.ended; }));
    const std::int64_t now = steadyNanos();
    heartbeat_.store(now, std::memory_order_relaxed);
    bump(cells > 0 ? busy_ns_ : idle_ns_, static_cast<std::uint64_t>(now - last));
    last = now;
    if (cells > 0) {
      backoff.reset();
      continue;
    }
    const bool slept = backoff.parked();  // past spinning: this wait yields or parks
    if (!backoff.exhausted()) {
      backoff.pause();
    } else {
      park();
    }
    if (slept) {
      const std::int64_t woke = steadyNanos();
      bump(idle_ns_, static_cast<std::uint64_t>(woke - last));
      last = woke;
    }
  }
  finish();
}

void Stage::publishCounts() noexcept {
  for (std::size_t p = 0; p < operators_.size(); ++p) {
    if (events_[p] | late_[p] | refused_[p]) {
      bump(stats_[p]->events, events_[p]);
      bump(stats_[p]->late, late_[p]);
      bump(stats_[p]->keys_refused, refused_[p]);
      events_[p] = late_[p] = refused_[p] = 0;
    }
  }
}

void Stage::publishResults() noexcept {
  for (ResultFeed* feed : active_feeds_) feed->flush();
  if (output_.staged() == 0) return;
  output_.publish();
  if (publisher_bell_ != nullptr) publisher_bell_->ring();
}

// Sleeps until a source publishes (it rings the doorbell), or for at most kParkNs: idle, a stage
// costs no CPU, and wakes within microseconds of new input.
void Stage::park() noexcept {
  const std::uint32_t epoch = doorbell_.prepare();
  for (const Input& input : inputs_) {
    if (!input.ended && !input.at_barrier && input.ring->available() > 0) {
      doorbell_.cancel();
      return;
    }
  }
  doorbell_.sleep(epoch, kParkNs);
}

std::size_t Stage::drain(Input& input) noexcept {
  const std::size_t available = std::min(input.ring->available(), kDrainBatch);
  std::size_t offset = 0;
  while (offset < available) {
    const RecordHeader* h = reader_.peek(*input.ring, offset, available);
    if (h == nullptr) break;  // only part of a record fits the batch window: next time
    // Events inline; the rest (control records, which are rare) out of line, so that this loop
    // stays small whatever the control records grow to.
    if (h->type == RecordType::kEvent) [[likely]] {
      input.idle = false;
      onEvent(h);
    } else {
      onControl(input, h);
    }
    offset += h->cells;
    if (input.at_barrier) break;  // the rest waits for the other inputs' barriers
  }
  if (offset > 0) input.ring->consume(offset);
  return offset;
}

void Stage::onControl(Input& input, const RecordHeader* h) noexcept {
  switch (h->type) {
    // A replayed event whose windows were published before the replay: late, as those of the
    // windows below the reset's floor are (onReset).
    case RecordType::kPublishedEvent:
      input.idle = false;
      onLate(h);
      break;
    // A watermark applies at once: the events after it in this batch are judged against it,
    // exactly as they would be had they arrived in a later batch.
    case RecordType::kWatermark:
      input.watermark = std::max(input.watermark, h->time);
      input.idle = false;
      advanceWatermarks();
      break;
    // Idle: left out of the minimum while another input of the pipeline is active; its watermark
    // (going on with the wall clock) still closes the windows of pipelines whose inputs all idle.
    case RecordType::kIdle:
      input.idle = true;
      input.watermark = std::max(input.watermark, h->time);
      advanceWatermarks();
      break;
    case RecordType::kEnd:
      input.ended = true;
      input.stopped = (h->flags & kEndStopped) != 0;
      advanceWatermarks();
      break;
    case RecordType::kMark: {
      std::uint64_t seq;
      std::memcpy(&seq, payload(h), sizeof seq);
      const auto i = static_cast<std::size_t>(&input - inputs_.data());
      // A source's inputs are the sources in order; a feed's mark names its source.
      const auto source = tier_ == 0 ? static_cast<std::uint16_t>(i) : h->pipeline;
      input.marks.push_back(PendingMark{seq, h->time, source});
      passMarks(i);
      break;
    }
    case RecordType::kReset:
      onReset(static_cast<std::size_t>(&input - inputs_.data()), h->time);
      break;
    case RecordType::kBarrier:
      input.at_barrier = true;
      barrier_ = static_cast<std::uint64_t>(h->time);
      break;
    default:
      break;  // not sent to stages
  }
}

void Stage::onEvent(const RecordHeader* h) noexcept {
  const std::uint16_t p = h->pipeline;
  const auto* values = reinterpret_cast<const double*>(payload(h));
  const std::size_t value_bytes = value_bytes_[p];
  const std::string_view key(reinterpret_cast<const char*>(payload(h)) + value_bytes, h->key_size);
  // The table hash need not match the router's (which only picks the stage): one pass over the
  // encoded bytes is cheaper than walking the parts.
  firing_pipeline_ = p;  // for the updates add() may emit
  switch (operators_[p]->add(h->time, hashKey(key), key, values)) {
    case AddResult::kAdded:
      ++events_[p];
      break;
    case AddResult::kLate:
      onLate(h);
      break;
    case AddResult::kRefused:
      ++refused_[p];
      break;
  }
}

void Stage::onLate(const RecordHeader* h) noexcept {
  const std::uint16_t p = h->pipeline;
  const std::string_view key(reinterpret_cast<const char*>(payload(h)) + value_bytes_[p],
                             h->key_size);
  ++late_[p];
  if ((h->flags & kEventRaw) != 0 && pipelines_[p].late_topic) {
    std::uint32_t size;
    const char* raw = key.data() + key.size() + itemBytes(pipelines_[p], h);
    std::memcpy(&size, raw, sizeof size);
    publishLate(p, {raw + sizeof size, size});
  }
}

// A pipeline's watermark is the minimum over the inputs of its sources that are neither idle nor
// ended; ended inputs no longer hold it back. When all its live inputs are idle, it is the minimum
// of theirs, which go on with the wall clock (EventRouter::flush), so a quiet stream's windows
// close.
void Stage::advanceWatermarks() noexcept {
  fired_at_ = steadyNanos();
  for (std::size_t p = 0; p < pipelines_.size(); ++p) {
    std::int64_t active = kMaxTime;
    std::int64_t idle = kMaxTime;
    bool any_active = false;
    bool all_ended = true;
    for (const std::size_t i : pipeline_inputs_[p]) {
      const Input& input = inputs_[i];
      if (input.ended) continue;
      all_ended = false;
      if (input.idle) {
        idle = std::min(idle, input.watermark);
        continue;
      }
      any_active = true;
      active = std::min(active, input.watermark);
    }
    if (all_ended) continue;  // ended inputs are finished in finish()
    const std::int64_t watermark = any_active ? active : idle;
    firing_pipeline_ = static_cast<std::uint16_t>(p);
    Operator& op = *operators_[p];
    op.advanceWatermark(watermark, *this);
    const std::int64_t current = op.watermark();
    if (feeds_[p] != nullptr) feeds_[p]->advance(current);
    stats_[p]->watermark.store(current, std::memory_order_relaxed);
    stats_[p]->state_entries.store(op.stateEntries(), std::memory_order_relaxed);
    if (op.perKeyWindows()) {
      // A session is a window of one key: it needs no end-of-window marker.
      stats_[p]->keys.store(op.liveKeys(), std::memory_order_relaxed);
      continue;
    }
    if (const std::int64_t passed = windowEndsPassed(pipelines_[p], current);
        passed > reported_[p]) {
      reported_[p] = passed;
      pushControl(RecordType::kWatermark, static_cast<std::uint16_t>(p), current);
    }
  }
  for (std::size_t s = 0; s < inputs_.size(); ++s) {
    if (!inputs_[s].marks.empty()) passMarks(s);
  }
}

void Stage::passMarks(std::size_t input) noexcept {
  std::deque<PendingMark>& marks = inputs_[input].marks;
  while (!marks.empty()) {
    const std::int64_t max_time = marks.front().max_time;
    const auto stream = static_cast<std::size_t>(inputs_[input].stream);
    for (std::size_t p = 0; max_time != kMinTime && p < pipelines_.size(); ++p) {
      if (!reads(pipelines_[p], stream)) continue;
      const Operator& op = *operators_[p];
      if (op.watermark() < closedThrough(pipelines_[p], max_time)) return;
      if (op.holdsUnfiredBy(max_time)) return;
    }
    const PendingMark mark = marks.front();
    marks.pop_front();
    if (tier_ == 0) {
      passMark(mark.source, mark.seq);
    } else {
      notePassed(input, mark.source, mark.seq);
    }
  }
}

void Stage::passMark(std::uint16_t source, std::uint64_t seq) noexcept {
  pushControl(RecordType::kMark, source, 0, &seq, sizeof seq);
  for (ResultFeed* feed : active_feeds_) feed->mark(source, seq);
}

// Cold: once per mark and input (a commit interval), and it may grow the tables.
void Stage::notePassed(std::size_t input, std::uint16_t source, std::uint64_t seq) noexcept {
  if (passed_marks_.size() < inputs_.size()) passed_marks_.resize(inputs_.size());
  if (forwarded_marks_.size() <= source) forwarded_marks_.resize(source + 1u, 0);
  for (auto& passed : passed_marks_) {
    if (passed.size() <= source) passed.resize(source + 1u, 0);
  }
  passed_marks_[input][source] = seq;
  std::uint64_t all = UINT64_MAX;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i].ended) all = std::min(all, passed_marks_[i][source]);
  }
  if (all == UINT64_MAX || all <= forwarded_marks_[source]) return;
  forwarded_marks_[source] = all;
  passMark(source, all);
}

// The source will send its events again from its last committed offsets, whose mark was passed
// on when every window holding an event up to `floor` had closed. So the state goes (nothing of
// it is lost: it will be rebuilt), and each pipeline's watermark rises to where those windows
// close, so that the replayed events of published windows count as late instead of opening them
// again with part of their events. Marks not yet passed on will not be committed.
void Stage::onReset(std::size_t source, std::int64_t floor) noexcept {
  inputs_[source].marks.clear();
  for (std::size_t p = 0; p < pipelines_.size(); ++p) {
    if (!reads(pipelines_[p], source)) continue;
    Operator& op = *operators_[p];
    op.discard();
    if (floor == kMinTime) continue;
    firing_pipeline_ = static_cast<std::uint16_t>(p);
    op.advanceWatermark(closedThrough(pipelines_[p], floor), *this);  // no state: fires nothing
    stats_[p]->state_entries.store(0, std::memory_order_relaxed);
  }
}

void Stage::finish() noexcept {
  if (snapshot_id_ != 0) continueSnapshot(/*all=*/true);
  fired_at_ = steadyNanos();
  for (std::size_t p = 0; p < pipelines_.size(); ++p) {
    if (pipeline_inputs_[p].empty()) continue;  // another tier's
    bool stopped = false;
    for (const std::size_t i : pipeline_inputs_[p]) stopped |= inputs_[i].stopped;
    firing_pipeline_ = static_cast<std::uint16_t>(p);
    // With checkpoints, a stop leaves the open windows to the last checkpoint (the daemon takes
    // one as it stops): the next start restores them and replays what came after, and they are
    // published once, complete, instead of partial now and again later.
    if (!(stopped && checkpoints_ != nullptr && checkpoints_->checkpointing())) {
      operators_[p]->flush(stopped ? ResultKind::kPartial : ResultKind::kFinal, *this);
      stats_[p]->state_entries.store(0, std::memory_order_relaxed);
    }
    // Partial results are not fed on: the reading pipelines end as stopped too.
    if (feeds_[p] != nullptr) feeds_[p]->end(stopped);
  }
  pushControl(RecordType::kEnd, 0, kMaxTime);
  publishResults();
}

void Stage::alignBarrier() noexcept {
  for (const Input& input : inputs_) {
    if (!input.ended && !input.at_barrier) return;
  }
  const Reconfiguration* change = checkpoints_->change();
  if (change != nullptr) {
    reconfigure(*change);
  }
  for (ResultFeed* feed : active_feeds_) feed->barrier(barrier_);
  pushControl(RecordType::kBarrier, 0, static_cast<std::int64_t>(barrier_));
  if (change == nullptr) beginSnapshot();
  publishResults();
  for (Input& input : inputs_) input.at_barrier = false;
  barrier_ = 0;
  // Added pipelines take up the inputs' watermarks, behind the barrier: their records are the
  // new set's.
  if (change != nullptr) advanceWatermarks();
}

// Cold, once per reload; allocates.
void Stage::reconfigure(const Reconfiguration& change) {
  assert(snapshot_id_ == 0);  // the board takes no request while a checkpoint is in flight
  publishCounts();            // into the old set's counters
  std::vector<bool> kept(operators_.size(), false);
  for (const int previous : change.previous) {
    if (previous >= 0) kept[static_cast<std::size_t>(previous)] = true;
  }
  fired_at_ = steadyNanos();
  for (std::size_t p = 0; p < operators_.size(); ++p) {
    if (kept[p]) continue;
    firing_pipeline_ = static_cast<std::uint16_t>(p);
    operators_[p]->flush(ResultKind::kPartial, *this);
    stats_[p]->state_entries.store(0, std::memory_order_relaxed);
  }
  std::vector<std::unique_ptr<Operator>> operators;
  std::vector<std::int64_t> reported;
  std::vector<std::unique_ptr<ResultFeed>> feeds(change.plans.size());
  aggregates_.clear();
  for (std::size_t p = 0; p < change.plans.size(); ++p) {
    const int previous = change.previous[p];
    if (previous >= 0) {
      operators.push_back(std::move(operators_[static_cast<std::size_t>(previous)]));
      operators.back()->rebind(change.plans[p], change.aggregates[p]);
      reported.push_back(reported_[static_cast<std::size_t>(previous)]);
      feeds[p] = std::move(feeds_[static_cast<std::size_t>(previous)]);
    } else {
      operators.push_back(makeOperator(change.plans[p], change.aggregates[p], this));
      reported.push_back(kMinTime);
    }
    aggregates_.push_back(&change.aggregates[p]);
  }
  operators_ = std::move(operators);
  reported_ = std::move(reported);
  // A reload keeps the pipelines that feed results on as they are (Engine::restartNeeded): their
  // feeds go on with them, routing to the new set's readers from the barrier on.
  feeds_ = std::move(feeds);
  active_feeds_.clear();
  for (std::size_t p = 0; p < feeds_.size(); ++p) {
    if (feeds_[p] == nullptr) continue;
    feeds_[p]->replanAtBarrier(change.feeds[checkpoint_index_][p]);
    active_feeds_.push_back(feeds_[p].get());
  }
  pipelines_ = change.plans;
  stats_ = change.stage_stats[checkpoint_index_];
  bindPipelines();
  events_.assign(pipelines_.size(), 0);
  late_.assign(pipelines_.size(), 0);
  refused_.assign(pipelines_.size(), 0);
}

// A stage's part of a checkpoint: [pipelines:u32], then per pipeline [reported:i64] and its
// operator's snapshot as one byte string (pipeline/windows/window_operator.h, session_operator.h).
// The frame is written at the barrier, with the lengths left to fill in at the end.
void Stage::beginSnapshot() {
  const std::int64_t from = steadyNanos();
  snapshot_id_ = barrier_;
  frame_.clear();
  frame_.put<std::uint32_t>(static_cast<std::uint32_t>(operators_.size()));
  parts_.resize(operators_.size());
  for (std::size_t p = 0; p < operators_.size(); ++p) {
    frame_.put<std::int64_t>(reported_[p]);
    frame_.put<std::uint32_t>(0);
    parts_[p].clear();
    operators_[p]->beginSnapshot(parts_[p]);
  }
  snapshot_next_ = 0;
  snapshot_pause_ = steadyNanos() - from;
}

void Stage::continueSnapshot(bool all) noexcept {
  const std::int64_t from = steadyNanos();
  // One budget for the step, whichever operators it goes to.
  std::size_t left = all ? SIZE_MAX : kSnapshotStep;
  while (snapshot_next_ < operators_.size() && left > 0) {
    const SnapshotWriter& part = parts_[snapshot_next_];
    const std::size_t before = part.size();
    const bool done = operators_[snapshot_next_]->continueSnapshot(left);
    left -= std::min(left, part.size() - before);
    if (!done) break;
    ++snapshot_next_;
  }
  snapshot_pause_ = std::max(snapshot_pause_, steadyNanos() - from);
  if (snapshot_next_ < operators_.size()) return;

  constexpr std::size_t kFrameHead = sizeof(std::uint32_t);
  constexpr std::size_t kFrameItem = sizeof(std::int64_t) + sizeof(std::uint32_t);
  std::vector<std::string_view> pieces;
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    const auto size = static_cast<std::uint32_t>(parts_[p].size());
    const std::size_t item = kFrameHead + p * kFrameItem;
    frame_.overwrite(item + sizeof(std::int64_t), &size, sizeof size);
    const std::size_t from_byte = p == 0 ? 0 : item;
    pieces.push_back(frame_.bytes().substr(from_byte, item + kFrameItem - from_byte));
    pieces.push_back(parts_[p].bytes());
  }
  if (parts_.empty()) pieces.push_back(frame_.bytes());
  checkpoints_->setStage(checkpoint_index_, std::move(pieces));
  checkpoints_->stagePause(checkpoint_index_) = snapshot_pause_;
  pushControl(RecordType::kSnapshotDone, 0, static_cast<std::int64_t>(snapshot_id_));
  publishResults();
  snapshot_id_ = 0;
}

bool Stage::restore(std::string_view snapshot) {
  SnapshotReader reader(snapshot);
  if (reader.get<std::uint32_t>() != operators_.size()) return false;
  for (std::size_t p = 0; p < operators_.size() && reader.ok(); ++p) {
    reported_[p] = reader.get<std::int64_t>();
    SnapshotReader state(reader.getBytes());
    const bool restored = operators_[p]->restore(state);
    if (!restored || !state.done()) reader.fail();
  }
  if (!reader.done()) return false;
  for (std::size_t p = 0; p < operators_.size(); ++p) {
    if (pipeline_inputs_[p].empty()) continue;  // another tier's
    stats_[p]->watermark.store(operators_[p]->watermark(), std::memory_order_relaxed);
  }
  return true;
}

void Stage::pushControl(RecordType type, std::uint16_t pipeline, std::int64_t time,
                        const void* data, std::size_t size) noexcept {
  RecordBuilder record;
  record.start(type, pipeline, time);
  if (size > 0) record.append(data, size);
  push(record.finish());
}

void Stage::push(std::span<const Cell> cells) noexcept {
  if (output_.tryPush(cells.data(), cells.size())) return;
  publishResults();
  Backoff backoff;
  while (!output_.tryPush(cells.data(), cells.size())) {
    backoff.pause();
    // Held back by the publisher: this thread is waiting, not stuck (see the watchdog).
    if (backoff.parked()) heartbeat_.store(steadyNanos(), std::memory_order_relaxed);
  }
}

void Stage::onResult(const WindowResult& result) {
  const PipelinePlan& plan = pipelines_[firing_pipeline_];
  ComputedValues* computed = computed_[firing_pipeline_].get();
  if (computed != nullptr) {
    if (!computed->evaluate(result.state, *result.sketches, result.key)) {
      if (result.kind != ResultKind::kUpdate && !operators_[firing_pipeline_]->perKeyWindows()) {
        ++filtered_;
      }
      return;
    }
  }
  if (ResultFeed* feed = feeds_[firing_pipeline_].get();
      feed != nullptr && result.kind == ResultKind::kFinal) {
    feed->send(result, *aggregates_[firing_pipeline_], computed);
  }
  if (!plan.publish) return;
  // A ranked result that cannot make its window's top on this stage is not serialised: the
  // publisher overwrites the window's count with what it ranks.
  if (computed != nullptr && !computed->mayRank()) return;
  topic_.assign(plan.name);
  topic_.push_back('/');
  tail_.clear();
  JsonWriter json(tail_);
  switch (result.kind) {
    case ResultKind::kFinal:
      json.raw("\"kind\":\"final\",\"start\":");
      break;
    case ResultKind::kPartial:
      json.raw("\"kind\":\"partial\",\"start\":");
      break;
    case ResultKind::kUpdate:
      json.raw("\"kind\":\"update\",\"start\":");
      fired_at_ = steadyNanos();  // an update goes out as its event arrives
      break;
  }
  json.integer(floorMillis(result.start));
  json.raw(",\"end\":");
  json.integer(floorMillis(result.end));
  json.raw(",\"key\":{");
  KeyParts parts(result.key);
  KeyPartType type;
  std::string_view bytes;
  for (std::size_t i = 0; parts.next(type, bytes); ++i) {
    topic_.append(bytes);
    topic_.push_back('/');
    if (i > 0) json.raw(',');
    json.string(plan.group_by[i].name);
    json.raw(':');
    if (type == KeyPartType::kString) {
      json.string(bytes);
    } else {
      json.raw(bytes);  // a number or a boolean: its JSON text (pipeline/model/key.h)
    }
  }
  json.raw("},\"values\":");
  if (plan.join) {
    writeJoinValues(*plan.join, result, json);
  } else if (computed != nullptr) {
    computed->writeJson(result.state, *result.sketches, json);
  } else {
    aggregates_[firing_pipeline_]->writeJson(result.state, *result.sketches, json);
  }
  json.raw('}');

  const ResultPrefix prefix{fired_at_, static_cast<std::uint32_t>(topic_.size()),
                            static_cast<std::uint32_t>(tail_.size()),
                            computed != nullptr ? computed->rankValue() : 0.0};
  result_.start(RecordType::kResult, firing_pipeline_, result.end);
  result_.header().flags = static_cast<std::uint8_t>(result.kind);
  if (!result_.append(&prefix, sizeof prefix) || !result_.append(topic_) ||
      !result_.append(tail_)) {
    // Bug path: key and value limits are meant to keep every result within a record.
    bump(stats_[firing_pipeline_]->results_dropped);
    return;
  }
  push(result_.finish());
}

// {"name":value,...}: the left row's fields, then the right row's (null without one).
void Stage::writeJoinValues(const JoinPlan& join, const WindowResult& result, JsonWriter& json) {
  json.raw('{');
  bool first = true;
  const auto side = [&](const std::vector<std::string>& names, std::string_view row) {
    KeyParts parts(row);
    KeyPartType type;
    std::string_view bytes;
    for (const std::string& name : names) {
      if (!first) json.raw(',');
      first = false;
      json.string(name);
      json.raw(':');
      if (!parts.next(type, bytes)) {
        json.raw("null");
      } else if (type == KeyPartType::kString) {
        json.string(bytes);
      } else {
        json.raw(bytes);  // a number's or a bool's JSON text, or null
      }
    }
  };
  side(join.left_fields, result.left_row);
  side(join.right_fields, result.unmatched ? std::string_view() : result.right_row);
  json.raw('}');
}

void Stage::bindPipelines() {
  computed_.clear();
  value_bytes_.clear();
  pipeline_inputs_.assign(pipelines_.size(), {});
  for (std::size_t p = 0; p < pipelines_.size(); ++p) {
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (pipelines_[p].tier == tier_ &&
          reads(pipelines_[p], static_cast<std::size_t>(inputs_[i].stream))) {
        pipeline_inputs_[p].push_back(i);
      }
    }
    // Another tier's: this stage holds none of its windows back.
    if (pipeline_inputs_[p].empty())
      stats_[p]->watermark.store(kMaxTime, std::memory_order_relaxed);
    value_bytes_.push_back(pipelines_[p].value_fields.size() * sizeof(double));
    computed_.push_back(ComputedValues::neededBy(pipelines_[p])
                            ? std::make_unique<ComputedValues>(pipelines_[p], *aggregates_[p])
                            : nullptr);
  }
}

void Stage::publishLate(std::uint16_t pipeline, std::string_view raw) noexcept {
  topic_.assign("_late/");
  topic_.append(pipelines_[pipeline].name);
  topic_.push_back('/');
  const LatePayload sizes{static_cast<std::uint32_t>(topic_.size()),
                          static_cast<std::uint32_t>(raw.size())};
  result_.start(RecordType::kLate, pipeline, 0);
  if (!result_.append(&sizes, sizeof sizes) || !result_.append(topic_) || !result_.append(raw)) {
    bump(stats_[pipeline]->results_dropped);  // bug path: the router bounds the raw text
    return;
  }
  push(result_.finish());
}

void Stage::onWindowEnd(std::int64_t start, std::int64_t end, std::size_t results) {
  stats_[firing_pipeline_]->keys.store(results, std::memory_order_relaxed);
  const WindowEndPayload payload{start, results - filtered_};
  filtered_ = 0;
  if (ComputedValues* computed = computed_[firing_pipeline_].get()) computed->endWindow();
  pushControl(RecordType::kWindowEnd, firing_pipeline_, end, &payload, sizeof payload);
}

}  // namespace rivulet::pipeline
