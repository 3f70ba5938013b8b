#include "pipeline/windows/session_operator.h"

#include <algorithm>
#include <cassert>

#include "pipeline/model/record.h"

namespace rivulet::pipeline {
namespace {

// Dead keys (without a live session) tolerated in the table besides one per live key.
constexpr std::size_t kMinDeadKeys = 4096;

// The first byte of a snapshot: which operator wrote it, in which encoding.
constexpr std::uint8_t kSnapshotFormat = 'S';

}  // namespace

SessionOperator::SessionOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                                 ResultSink* updates)
    : plan_(&plan),
      aggregates_(&aggregates),
      gap_(plan.gap),
      updates_(plan.emit_updates ? updates : nullptr),
      watermark_(kMinTime),
      keys_(kEntryWords),
      spare_(kEntryWords),
      words_(aggregates.words()),
      sketches_(aggregates) {
  assert(!plan.emit_updates || updates != nullptr);
  assert(gap_ > 0 && plan.allowed_lateness >= 0 && plan.fire_delay <= plan.allowed_lateness);
  min_time_ = kMinTime + gap_;
  if (__builtin_sub_overflow(kMaxTime - gap_, plan.allowed_lateness, &max_time_)) {
    max_time_ = kMinTime;  // a lateness near 300 years: nothing fits
  }
}

AddResult SessionOperator::add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                               const double* values) noexcept {
  // The common case: an event in the span of its key's newest session, which it may extend to
  // time + gap but cannot bridge to another (older sessions end before this one starts).
  Word* entry = keys_.find(key_hash, key);
  if (entry != nullptr && entry[kHead].i >= 0) [[likely]] {
    const auto s = static_cast<std::uint32_t>(entry[kHead].i);
    Header& h = headers_[s];
    if (time >= h.start && time <= h.end && time <= max_time_) [[likely]] {
      aggregates_->update(state(s), time, values, sketches_);
      h.end = std::max(h.end, time + gap_);
      if (h.fired) [[unlikely]]
        emitUpdate(s);
      return AddResult::kAdded;
    }
  }
  return addSlow(time, key_hash, key, entry, values);
}

AddResult SessionOperator::addSlow(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                                   Word* entry, const double* values) noexcept {
  if (time < min_time_ || time > max_time_) return AddResult::kLate;
  const std::int64_t reach = time + gap_;  // the event's window is [time, reach)

  // The sessions it touches (start <= reach and end >= time) are at most two, adjacent in the
  // list: the first session starting at or before `reach`, and the one after it. Sessions are
  // at least gap long and gaps between them are longer than gap, so no third can fit.
  std::uint32_t newer = kNone;  // the session before `a` in the list
  std::uint32_t a =
      entry != nullptr && entry[kHead].i >= 0 ? static_cast<std::uint32_t>(entry[kHead].i) : kNone;
  while (a != kNone && headers_[a].start > reach) {
    newer = a;
    a = headers_[a].next;
  }

  if (a == kNone || headers_[a].end < time) {
    // A new session, between `newer` and `a`.
    if (reach + plan_->allowed_lateness <= watermark_) return AddResult::kLate;
    const bool new_key = entry == nullptr || entry[kHead].i < 0;
    if (new_key && plan_->max_keys > 0 && live_keys_ >= plan_->max_keys) return AddResult::kRefused;
    if (entry == nullptr) {
      entry = keys_.findOrInsert(key_hash, key, [this](Word* e) {
        e[kHead].i = -1;
        e[kIndex].i = static_cast<std::int64_t>(keys_.size() - 1);
      });
    } else if (new_key) {
      --dead_keys_;
    }
    live_keys_ += new_key;
    const std::uint32_t s = allocate();
    Header& h = headers_[s];
    h.start = time;
    h.end = reach;
    h.next = a;
    h.key = static_cast<std::uint32_t>(entry[kIndex].i);
    h.fired = false;
    if (newer == kNone) {
      entry[kHead].i = s;
    } else {
      headers_[newer].next = s;
    }
    aggregates_->init(state(s));
    aggregates_->update(state(s), time, values, sketches_);
    pushTimer(s, reach + plan_->fire_delay);
    ++sessions_;
    // Emit updates: a session the watermark has already passed the end of goes out at once.
    if (updates_ != nullptr && reach <= watermark_) {
      h.fired = true;
      emitUpdate(s);
    }
    return AddResult::kAdded;
  }

  // Into `a`, which may now reach back to the next older session `b`: then `b` absorbs `a`.
  std::uint32_t s = a;
  const std::uint32_t b = headers_[a].next;
  if (b != kNone && headers_[b].end >= time) {
    Header& from = headers_[a];
    Header& into = headers_[b];
    into.end = std::max(into.end, from.end);
    into.fired = into.fired || from.fired;
    aggregates_->merge(state(b), state(a), sketches_);
    free(a);
    s = b;
  }
  Header& h = headers_[s];
  h.start = std::min(h.start, time);
  h.end = std::max(h.end, reach);
  aggregates_->update(state(s), time, values, sketches_);
  if (h.fired) emitUpdate(s);
  return AddResult::kAdded;
}

void SessionOperator::emitUpdate(std::uint32_t s) noexcept {
  const Header& h = headers_[s];
  updates_->onResult(
      WindowResult{h.start, h.end, ResultKind::kUpdate, keys_.keyAt(h.key), state(s), &sketches_});
}

std::uint32_t SessionOperator::allocate() {
  if (!free_.empty()) {
    const std::uint32_t s = free_.back();
    free_.pop_back();
    return s;
  }
  headers_.push_back(Header{});
  states_.resize(states_.size() + words_);
  free_.reserve(headers_.size());  // so that free() never allocates
  return static_cast<std::uint32_t>(headers_.size() - 1);
}

void SessionOperator::free(std::uint32_t s) noexcept {
  Header& h = headers_[s];
  Word* entry = keys_.stateAt(h.key);
  if (entry[kHead].i == s) {
    entry[kHead].i = h.next == kNone ? -1 : static_cast<std::int64_t>(h.next);
  } else {
    auto prev = static_cast<std::uint32_t>(entry[kHead].i);
    while (headers_[prev].next != s) prev = headers_[prev].next;
    headers_[prev].next = h.next;
  }
  if (entry[kHead].i < 0) {
    --live_keys_;
    ++dead_keys_;
  }
  if (aggregates_->hasSketches()) aggregates_->release(state(s), sketches_);
  ++h.generation;
  free_.push_back(s);
  --sessions_;
}

void SessionOperator::pushTimer(std::uint32_t s, std::int64_t due) {
  timers_.push_back(Timer{due, s, headers_[s].generation});
  std::push_heap(timers_.begin(), timers_.end(), laterTimer);
}

void SessionOperator::advanceWatermark(std::int64_t watermark, ResultSink& sink) {
  if (watermark <= watermark_) return;
  watermark_ = watermark;
  runTimers(watermark, ResultKind::kFinal, sink);
  compactKeys();
}

void SessionOperator::flush(ResultKind kind, ResultSink& sink) {
  // Every fire and close time is at most kMaxTime (see max_time_): this fires and frees all.
  runTimers(kMaxTime, kind, sink);
  assert(sessions_ == 0 && live_keys_ == 0);
  keys_.clear();
  dead_keys_ = 0;
}

void SessionOperator::discard() {
  // Every session goes through its timers to be freed; what they emit goes nowhere.
  struct Discard final : ResultSink {
    void onResult(const WindowResult&) override {}
    void onWindowEnd(std::int64_t, std::int64_t, std::size_t) override {}
  } discard;
  runTimers(kMaxTime, ResultKind::kFinal, discard);
  assert(sessions_ == 0 && live_keys_ == 0);
  keys_.clear();
  dead_keys_ = 0;
}

bool SessionOperator::holdsUnfiredBy(std::int64_t time) const noexcept {
  for (const Timer& timer : timers_) {
    const Header& h = headers_[timer.session];
    if (h.generation == timer.generation && !h.fired && h.start <= time) return true;
  }
  return false;
}

void SessionOperator::runTimers(std::int64_t limit, ResultKind kind, ResultSink& sink) {
  while (!timers_.empty() && timers_.front().due <= limit) {
    std::pop_heap(timers_.begin(), timers_.end(), laterTimer);
    const Timer timer = timers_.back();
    timers_.pop_back();
    Header& h = headers_[timer.session];
    if (h.generation != timer.generation) continue;  // freed, or merged into another
    if (!h.fired) {
      const std::int64_t due = h.end + plan_->fire_delay;
      if (due > timer.due) {  // the session grew since the timer was set
        pushTimer(timer.session, due);
        continue;
      }
      emit(timer.session, kind, sink);
      h.fired = true;
    }
    const std::int64_t close = h.end + plan_->allowed_lateness;
    if (close > timer.due) {
      pushTimer(timer.session, close);
      continue;
    }
    free(timer.session);
  }
}

void SessionOperator::emit(std::uint32_t s, ResultKind kind, ResultSink& sink) {
  const Header& h = headers_[s];
  sink.onResult(WindowResult{h.start, h.end, kind, keys_.keyAt(h.key), state(s), &sketches_});
}

void SessionOperator::compactKeys() {
  if (dead_keys_ <= std::max(live_keys_, kMinDeadKeys)) return;
  spare_.clear();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Word* entry = keys_.stateAt(i);
    if (entry[kHead].i < 0) continue;
    const auto index = static_cast<std::uint32_t>(spare_.size());
    Word* moved = spare_.findOrInsert(keys_.hashAt(i), keys_.keyAt(i), [](Word*) {});
    moved[kHead] = entry[kHead];
    moved[kIndex].i = index;
    for (auto s = static_cast<std::uint32_t>(entry[kHead].i); s != kNone; s = headers_[s].next) {
      headers_[s].key = index;
    }
  }
  std::swap(keys_, spare_);
  dead_keys_ = 0;
}

// Snapshot encoding (pipeline/model/snapshot.h: little-endian, fixed width, no padding):
//   u8 'S' (the format)
//   i64 gap, i64 allowed_lateness, i64 fire_delay, u8 emit_updates: the plan the state is for;
//       another plan's snapshot is refused
//   the aggregates' layout (Aggregates::snapshotLayout)
//   i64 watermark
//   u32 session slots in the pool, u32 free slots, then the free slots (u32 each) in free-list
//       order. Slot numbers break ties between sessions due at the same time, and a new session
//       takes the last free slot, so both are kept as they are for the restored operator to
//       emit in the same order.
//   u32 keys with a live session, then per key in table order: bytes key (u32 size, then the
//     bytes), u64 the key's hash as add() was given it, u32 sessions, then per session newest
//     first: u32 slot, i64 start, i64 end, u8 fired, and its state (Aggregates::snapshotState,
//     sketches by value)
// Left out: the timers (rebuilt, see the header), generations (they only tell stale timers
// apart), keys without a live session (dead entries awaiting compaction: tableKeys() restarts at
// the live keys), the spare table and the sketch pool's free lists.

void SessionOperator::snapshot(SnapshotWriter& out) const {
  out.put<std::uint8_t>(kSnapshotFormat);
  out.put<std::int64_t>(gap_);
  out.put<std::int64_t>(plan_->allowed_lateness);
  out.put<std::int64_t>(plan_->fire_delay);
  out.put<std::uint8_t>(plan_->emit_updates);
  aggregates_->snapshotLayout(out);
  out.put<std::int64_t>(watermark_);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(headers_.size()));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(free_.size()));
  for (const std::uint32_t s : free_) out.put<std::uint32_t>(s);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(live_keys_));
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Word* entry = keys_.stateAt(i);
    if (entry[kHead].i < 0) continue;
    out.putBytes(keys_.keyAt(i));
    out.put<std::uint64_t>(keys_.hashAt(i));
    const auto head = static_cast<std::uint32_t>(entry[kHead].i);
    std::uint32_t sessions = 0;
    for (std::uint32_t s = head; s != kNone; s = headers_[s].next) ++sessions;
    out.put<std::uint32_t>(sessions);
    for (std::uint32_t s = head; s != kNone; s = headers_[s].next) {
      const Header& h = headers_[s];
      out.put<std::uint32_t>(s);
      out.put<std::int64_t>(h.start);
      out.put<std::int64_t>(h.end);
      out.put<std::uint8_t>(h.fired);
      aggregates_->snapshotState(state(s), sketches_, out);
    }
  }
}

bool SessionOperator::restore(SnapshotReader& in) {
  reset();
  if (restoreContents(in)) return true;
  in.fail();
  reset();
  return false;
}

void SessionOperator::reset() {
  // A free slot's state was released when it was freed (or is as init() left it, in a restore
  // that failed): releasing every slot returns exactly the sketches in use.
  if (aggregates_->hasSketches()) {
    for (std::uint32_t s = 0; s < headers_.size(); ++s) aggregates_->release(state(s), sketches_);
  }
  headers_.clear();
  states_.clear();
  free_.clear();
  timers_.clear();
  keys_.clear();
  watermark_ = kMinTime;
  sessions_ = 0;
  live_keys_ = 0;
  dead_keys_ = 0;
}

bool SessionOperator::restoreContents(SnapshotReader& in) {
  if (in.get<std::uint8_t>() != kSnapshotFormat) return false;
  const bool same_plan = in.get<std::int64_t>() == gap_ &&
                         in.get<std::int64_t>() == plan_->allowed_lateness &&
                         in.get<std::int64_t>() == plan_->fire_delay &&
                         in.get<std::uint8_t>() == static_cast<std::uint8_t>(plan_->emit_updates);
  if (!same_plan || !aggregates_->restoreLayout(in)) return false;
  const auto watermark = in.get<std::int64_t>();

  // Every slot is free (4 bytes below) or holds a session (more), which bounds the pool.
  const std::size_t slots = in.getCount(4);
  if (!in.ok() || slots >= kNone) return false;
  headers_.assign(slots, Header{0, 0, kNone, 0, 0, false});
  states_.resize(slots * words_);
  for (std::uint32_t s = 0; s < slots; ++s) aggregates_->init(state(s));
  free_.reserve(slots);  // so that free() never allocates, as allocate() ensures
  std::vector<bool> taken(slots);
  const std::size_t free_slots = in.getCount(4);
  for (std::size_t i = 0; i < free_slots; ++i) {
    const auto s = in.get<std::uint32_t>();
    if (!in.ok() || s >= slots || taken[s]) return false;
    taken[s] = true;
    free_.push_back(s);
  }

  constexpr std::size_t kMinKeyBytes = 4 + 8 + 4;
  constexpr std::size_t kMinSessionBytes = 4 + 8 + 8 + 1;
  const std::size_t keys = in.getCount(kMinKeyBytes);
  for (std::size_t k = 0; k < keys; ++k) {
    const std::string_view key = in.getBytes();
    const auto hash = in.get<std::uint64_t>();
    if (!in.ok() || key.size() > KeyTable::kMaxKeySize || keys_.find(hash, key) != nullptr) {
      return false;
    }
    Word* entry = keys_.findOrInsert(hash, key, [](Word*) {});
    entry[kHead].i = -1;
    entry[kIndex].i = static_cast<std::int64_t>(keys_.size() - 1);
    const auto key_index = static_cast<std::uint32_t>(keys_.size() - 1);
    const std::size_t sessions = in.getCount(kMinSessionBytes);
    if (sessions == 0) return false;  // a key without a live session is not written
    std::uint32_t newer = kNone;
    for (std::size_t i = 0; i < sessions; ++i) {
      const auto s = in.get<std::uint32_t>();
      const auto start = in.get<std::int64_t>();
      const auto end = in.get<std::int64_t>();
      const auto fired = in.get<std::uint8_t>();
      // What add() and advanceWatermark() leave: a session of an accepted event's time, at
      // least gap long, ending more than gap before the next newer one starts (else they would
      // have merged), not yet closed by the watermark and, unless fired, not yet due. Only emit
      // updates keeps a fired session (with emit final it fires as it closes).
      const bool ok = in.ok() && s < slots && !taken[s] && fired <= 1 &&
                      (fired == 0 || plan_->emit_updates) && start >= min_time_ &&
                      start <= max_time_ && end >= start + gap_ && end <= max_time_ + gap_ &&
                      (newer == kNone || end < headers_[newer].start) &&
                      end + plan_->allowed_lateness > watermark &&
                      (fired == 1 || end + plan_->fire_delay > watermark);
      if (!ok) return false;
      taken[s] = true;
      headers_[s] = Header{start, end, kNone, key_index, 0, fired == 1};
      if (newer == kNone) {
        entry[kHead].i = s;
      } else {
        headers_[newer].next = s;
      }
      newer = s;
      if (!aggregates_->restoreState(state(s), sketches_, in)) return false;
      ++sessions_;
      timers_.push_back(
          Timer{fired == 1 ? end + plan_->allowed_lateness : end + plan_->fire_delay, s, 0});
    }
    ++live_keys_;
  }
  // Every slot is accounted for, as free or as a session.
  if (!in.ok() || free_.size() + sessions_ != slots) return false;
  std::make_heap(timers_.begin(), timers_.end(), laterTimer);
  watermark_ = watermark;
  return true;
}

}  // namespace rivulet::pipeline
