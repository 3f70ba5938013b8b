#include "pipeline/windows/window_operator.h"

#include <algorithm>
#include <cassert>
#include <cstdint>

#include "pipeline/model/record.h"

namespace rivulet::pipeline {
namespace {

// The largest multiple of d (> 0) that is <= t, rounding toward -inf for negative t too; false if
// it is below kMinTime.
bool floorMultiple(std::int64_t t, std::int64_t d, std::int64_t& out) noexcept {
  std::int64_t q = t / d;
  if (t % d < 0) --q;
  return !__builtin_mul_overflow(q, d, &out);
}

// The first window start s with s + size + fire delay > watermark: the first window not yet fired.
// A watermark of kMaxTime passes every window (end + delay saturates at kMaxTime).
std::int64_t firstUnfiredWindow(const PipelinePlan& plan, std::int64_t watermark) noexcept {
  if (watermark == kMaxTime) return kMaxTime;
  std::int64_t bound;  // s > bound = watermark - size - fire delay
  if (__builtin_sub_overflow(watermark, plan.size, &bound) ||
      __builtin_sub_overflow(bound, plan.fire_delay, &bound) ||
      !floorMultiple(bound, plan.slide, bound)) {
    return kMinTime;  // no window that can hold an event is passed yet
  }
  return saturatingAdd(bound, plan.slide);
}

bool startsBefore(const auto* slice, std::int64_t time) noexcept { return slice->start < time; }

// The windows of the slice starting at `start` as sliceFor() finds them for an event in it: the
// first and last window start and when the slice expires. False if one of them is not
// representable or the slice lies between two windows (slide > size).
bool sliceWindows(const PipelinePlan& plan, std::int64_t start, std::int64_t& first_window,
                  std::int64_t& last_window, std::int64_t& expires) noexcept {
  std::int64_t last_end, lower;
  if (!floorMultiple(start, plan.slide, last_window) ||
      __builtin_add_overflow(last_window, plan.size, &last_end) ||
      __builtin_sub_overflow(start, plan.size, &lower) ||
      !floorMultiple(lower, plan.slide, first_window) ||
      __builtin_add_overflow(first_window, plan.slide, &first_window) || start >= last_end) {
    return false;
  }
  expires = saturatingAdd(last_end, plan.allowed_lateness);
  return true;
}

// The first byte of a snapshot: which operator wrote it, in which encoding.
constexpr std::uint8_t kSnapshotFormat = 'X';

}  // namespace

struct WindowOperator::Slice {
  explicit Slice(std::size_t words) : table(words) {}

  std::int64_t start = 0;  // the slice is [start, start + plan.slice)
  // Its place in the snapshot in progress (progress_), or -1: none, or all its entries written.
  // Beside start, which add() reads for every event.
  std::int32_t progress = -1;
  std::int64_t first_window = 0;  // start of the first window containing it
  std::int64_t last_window = 0;   // start of the last window containing it
  // The last window's end + lateness (saturated): once the watermark reaches it, every window of
  // the slice has fired or been passed, and every event that would land in it is late.
  std::int64_t expires = 0;
  KeyTable table;

  // Whether `time` falls in [start, start + width): one unsigned compare.
  bool holds(std::int64_t time, std::int64_t width) const noexcept {
    return static_cast<std::uint64_t>(time) - static_cast<std::uint64_t>(start) <
           static_cast<std::uint64_t>(width);
  }
};

struct WindowOperator::SliceProgress {
  Slice* slice;        // null once its entries are all written
  std::size_t frozen;  // its entries at the barrier; those inserted since are not in it
  std::size_t cursor;  // the entries before it are written
  std::vector<std::uint64_t> ahead;  // bit k: entry k (>= cursor) is written, ahead of the cursor

  bool isAhead(std::size_t k) const noexcept { return (ahead[k / 64] >> (k % 64)) & 1; }
};

WindowOperator::WindowOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                               ResultSink* updates)
    : plan_(&plan),
      aggregates_(&aggregates),
      sketches_(aggregates),
      watermark_(kMinTime),
      next_start_(kMinTime),
      merged_(aggregates.words()),
      updates_(plan.emit_updates ? updates : nullptr),
      update_(aggregates.words()) {
  assert(!plan.emit_updates || updates != nullptr);
  assert(plan.size > 0 && plan.slide > 0 && plan.slice > 0);
  assert(plan.size % plan.slice == 0 && plan.slide % plan.slice == 0);
  assert(plan.allowed_lateness >= 0);
}

WindowOperator::~WindowOperator() = default;

AddResult WindowOperator::add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                              const double* values) noexcept {
  // The common case, a known key in the previous event's slice, makes no call. A live slice
  // cannot take late events (it is released when its last window fires), so holds() stands for
  // both "same slice" and "not late".
  Slice* slice = last_slice_;
  if (slice != nullptr && slice->holds(time, plan_->slice)) [[likely]] {
    if (Word* state = slice->table.find(key_hash, key)) [[likely]] {
      // A snapshot in progress may still need the entry as it was (its slice's line is in cache).
      if (slice->progress >= 0) [[unlikely]]
        writeAhead(*slice, state);
      aggregates_->update(state, time, values, sketches_);
      // Only with emit updates can a live slice hold an event of a fired window.
      if (updates_ != nullptr && slice->first_window < next_start_) [[unlikely]]
        emitUpdates(slice, key_hash, key);
      return AddResult::kAdded;
    }
  }
  return addSlow(time, key_hash, key, values);
}

AddResult WindowOperator::addSlow(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                                  const double* values) noexcept {
  Slice* slice = last_slice_;
  if (slice == nullptr || !slice->holds(time, plan_->slice)) {
    bool late = false;
    slice = sliceFor(time, late);
    if (slice == nullptr) return late ? AddResult::kLate : AddResult::kAdded;
    last_slice_ = slice;
  }
  Word* state = slice->table.find(key_hash, key);
  if (state != nullptr && slice->progress >= 0) writeAhead(*slice, state);
  if (state == nullptr) {
    if (plan_->max_keys > 0 && slice->table.size() >= plan_->max_keys) return AddResult::kRefused;
    state = slice->table.findOrInsert(key_hash, key, [this](Word* s) { aggregates_->init(s); });
  }
  aggregates_->update(state, time, values, sketches_);
  if (updates_ != nullptr && slice->first_window < next_start_) emitUpdates(slice, key_hash, key);
  return AddResult::kAdded;
}

void WindowOperator::emitUpdates(const Slice* slice, std::uint64_t key_hash,
                                 std::string_view key) noexcept {
  // The windows containing the slice start at first_window, ..., last_window (slide apart); those
  // before next_start_ have fired. A fired window whose end + lateness the watermark has reached
  // is closed for good: the event counts only in the others.
  for (std::int64_t start = slice->first_window; start < next_start_ && start <= slice->last_window;
       start += plan_->slide) {
    const std::int64_t end = start + plan_->size;
    if (saturatingAdd(end, plan_->allowed_lateness) <= watermark_) continue;
    // The key's state in the window: its slices merged in time order.
    aggregates_->init(update_.data());
    const auto first = std::lower_bound(slices_.begin(), slices_.end(), start, startsBefore<Slice>);
    for (auto it = first; it != slices_.end() && (*it)->start < end; ++it) {
      if (const Word* state = (*it)->table.find(key_hash, key)) {
        aggregates_->merge(update_.data(), state, sketches_);
      }
    }
    updates_->onResult(
        WindowResult{start, end, ResultKind::kUpdate, key, update_.data(), &sketches_});
    aggregates_->release(update_.data(), sketches_);
  }
}

WindowOperator::Slice* WindowOperator::sliceFor(std::int64_t time, bool& late) {
  const std::int64_t size = plan_->size;
  const std::int64_t slide = plan_->slide;
  // Windows containing `time` start at the multiples of slide in (time - size, time]. Events so
  // close to the int64 limits that one of those windows would not be representable are refused
  // as late (they are centuries away from any real clock).
  std::int64_t last_window, last_end, lower, first_window;
  if (!floorMultiple(time, slide, last_window) ||
      __builtin_add_overflow(last_window, size, &last_end) ||
      __builtin_sub_overflow(time, size, &lower) || !floorMultiple(lower, slide, first_window) ||
      __builtin_add_overflow(first_window, slide, &first_window)) {
    late = true;
    return nullptr;
  }
  // Only when slide > size: `time` falls between two windows and belongs to none.
  if (time >= last_end) return nullptr;
  const std::int64_t expires = saturatingAdd(last_end, plan_->allowed_lateness);
  if (expires <= watermark_) {
    late = true;
    return nullptr;
  }

  std::int64_t start;
  floorMultiple(time, plan_->slice, start);  // >= last_window: cannot overflow
  const auto it = std::lower_bound(slices_.begin(), slices_.end(), start, startsBefore<Slice>);
  if (it != slices_.end() && (*it)->start == start) return *it;

  Slice* slice = takeSlice(start, first_window, last_window, expires);
  slices_.insert(it, slice);
  return slice;
}

WindowOperator::Slice* WindowOperator::takeSlice(std::int64_t start, std::int64_t first_window,
                                                 std::int64_t last_window, std::int64_t expires) {
  Slice* slice;
  if (free_.empty()) {
    pool_.push_back(std::make_unique<Slice>(aggregates_->words()));
    slice = pool_.back().get();
  } else {
    slice = free_.back();
    free_.pop_back();
  }
  slice->start = start;
  slice->first_window = first_window;
  slice->last_window = last_window;
  slice->expires = expires;
  return slice;
}

void WindowOperator::advanceWatermark(std::int64_t watermark, ResultSink& sink) {
  if (watermark <= watermark_) return;
  watermark_ = watermark;
  fireWindows(watermark, ResultKind::kFinal, sink);

  // Every window with end + lateness <= watermark is now passed, also those without state, so a
  // later event only lands in windows still to come.
  next_start_ = std::max(next_start_, firstUnfiredWindow(*plan_, watermark));
  releaseFiredSlices(/*all=*/false);
}

void WindowOperator::flush(ResultKind kind, ResultSink& sink) {
  // Every end + lateness saturates at most to kMaxTime: this fires all windows holding state.
  fireWindows(kMaxTime, kind, sink);
  releaseFiredSlices(/*all=*/true);
}

void WindowOperator::discard() noexcept { releaseFiredSlices(/*all=*/true); }

void WindowOperator::fireWindows(std::int64_t limit, ResultKind kind, ResultSink& sink) {
  // The next window to fire is the first unfired window of the first slice that still has one;
  // windows without any live slice are skipped, however many there are.
  std::size_t i = 0;
  while (i < slices_.size()) {
    const Slice* slice = slices_[i];
    if (slice->last_window < next_start_) {
      ++i;
      continue;
    }
    const std::int64_t start = std::max(next_start_, slice->first_window);
    const std::int64_t end = start + plan_->size;  // <= slice->last_window + size: no overflow
    if (saturatingAdd(end, plan_->fire_delay) > limit) break;
    fireWindow(start, kind, sink);
    next_start_ = saturatingAdd(start, plan_->slide);
  }
}

void WindowOperator::fireWindow(std::int64_t start, ResultKind kind, ResultSink& sink) {
  const std::int64_t end = start + plan_->size;
  const auto first = std::lower_bound(slices_.begin(), slices_.end(), start, startsBefore<Slice>);
  const auto last = std::lower_bound(first, slices_.end(), end, startsBefore<Slice>);
  assert(first != last);
  if (last - first == 1) {
    emit((*first)->table, start, kind, sink);
    return;
  }
  // Slices are merged in time order, which first() and last() rely on to break ties.
  merged_.clear();
  for (auto it = first; it != last; ++it) {
    const KeyTable& table = (*it)->table;
    for (std::size_t k = 0; k < table.size(); ++k) {
      Word* into = merged_.findOrInsert(table.hashAt(k), table.keyAt(k),
                                        [this](Word* s) { aggregates_->init(s); });
      aggregates_->merge(into, table.stateAt(k), sketches_);
    }
  }
  emit(merged_, start, kind, sink);
  releaseSketches(merged_);
}

void WindowOperator::emit(const KeyTable& table, std::int64_t start, ResultKind kind,
                          ResultSink& sink) {
  const std::int64_t end = start + plan_->size;
  for (std::size_t k = 0; k < table.size(); ++k) {
    sink.onResult(WindowResult{start, end, kind, table.keyAt(k), table.stateAt(k), &sketches_});
  }
  sink.onWindowEnd(start, end, table.size());
  last_window_keys_ = table.size();
}

void WindowOperator::releaseFiredSlices(bool all) {
  // Slices expire in start order.
  std::size_t n = 0;
  while (n < slices_.size() && (all || slices_[n]->expires <= watermark_)) {
    Slice* slice = slices_[n++];
    if (slice->progress >= 0) {
      writeSlice(progress_[static_cast<std::size_t>(slice->progress)], SIZE_MAX);
    }
    releaseSketches(slice->table);
    slice->table.clear();
    free_.push_back(slice);
    if (slice == last_slice_) last_slice_ = nullptr;
  }
  slices_.erase(slices_.begin(), slices_.begin() + static_cast<std::ptrdiff_t>(n));
}

void WindowOperator::releaseSketches(KeyTable& table) noexcept {
  if (!aggregates_->hasSketches()) return;
  for (std::size_t k = 0; k < table.size(); ++k) aggregates_->release(table.stateAt(k), sketches_);
}

std::size_t WindowOperator::stateEntries() const noexcept {
  std::size_t entries = 0;
  for (const Slice* slice : slices_) entries += slice->table.size();
  return entries;
}

// Snapshot encoding (pipeline/model/snapshot.h: little-endian, fixed width, no padding):
//   u8 'X' (the format)
//   i64 size, i64 slide, i64 allowed_lateness, i64 fire_delay, u8 emit_updates: the plan the
//       state is for; another plan's snapshot is refused
//   the aggregates' layout (Aggregates::snapshotLayout)
//   i64 watermark, i64 next_start (windows before it have fired or were passed), u64 the keys of
//       the last window fired (the keys gauge)
//   u32 live slices, then per slice in start order: i64 start, u32 keys
//   runs, until every key of every slice is written: u32 the slice (its place in the list above),
//     u32 first, u32 count, u32 bytes, then the slice's entries first .. first + count - 1 in its
//     insertion order (bytes key (u32 size, then the bytes), u64 the key's hash as add() was
//     given it, and its state: Aggregates::snapshotState, sketches by value). Every entry is in
//     exactly one run, in any order: snapshot() writes one run per slice; a snapshot taken while
//     the operator goes on writes runs as it has time, and an entry about to change alone.
//     The insertion order is the order a window's results go out in, which restore() keeps.
// Left out, as they change no result: a slice's windows and expiry (computed from its start and
// the plan), the slice pool and free list, the table layouts, the scratch states, the sketch
// pool's free lists, and the slice of the previous event (a cache).

void WindowOperator::writeHead(SnapshotWriter& out) const {
  out.put<std::uint8_t>(kSnapshotFormat);
  out.put<std::int64_t>(plan_->size);
  out.put<std::int64_t>(plan_->slide);
  out.put<std::int64_t>(plan_->allowed_lateness);
  out.put<std::int64_t>(plan_->fire_delay);
  out.put<std::uint8_t>(plan_->emit_updates);
  aggregates_->snapshotLayout(out);
  out.put<std::int64_t>(watermark_);
  out.put<std::int64_t>(next_start_);
  out.put<std::uint64_t>(last_window_keys_);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(slices_.size()));
  for (const Slice* slice : slices_) {
    out.put<std::int64_t>(slice->start);
    out.put<std::uint32_t>(static_cast<std::uint32_t>(slice->table.size()));
  }
}

// The count and the size are written by endRun(), once known.
std::size_t WindowOperator::beginRun(SnapshotWriter& out, std::size_t ordinal,
                                     std::size_t first) const {
  out.put<std::uint32_t>(static_cast<std::uint32_t>(ordinal));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(first));
  const std::size_t at = out.size();
  out.put<std::uint32_t>(0);
  out.put<std::uint32_t>(0);
  return at;
}

void WindowOperator::putEntry(SnapshotWriter& out, const KeyTable& table, std::size_t k) const {
  out.putBytes(table.keyAt(k));
  out.put<std::uint64_t>(table.hashAt(k));
  aggregates_->snapshotState(table.stateAt(k), sketches_, out);
}

void WindowOperator::endRun(SnapshotWriter& out, std::size_t at, std::size_t count) const {
  const std::uint32_t head[2] = {
      static_cast<std::uint32_t>(count),
      static_cast<std::uint32_t>(out.size() - at - sizeof head),
  };
  out.overwrite(at, head, sizeof head);
}

void WindowOperator::snapshot(SnapshotWriter& out) const {
  assert(snapshot_out_ == nullptr);
  writeHead(out);
  for (std::size_t i = 0; i < slices_.size(); ++i) {
    const KeyTable& table = slices_[i]->table;
    const std::size_t at = beginRun(out, i, 0);
    for (std::size_t k = 0; k < table.size(); ++k) putEntry(out, table, k);
    endRun(out, at, table.size());
  }
}

// The barrier's state is what the head says and the entries each slice has now; the entries are
// written by continueSnapshot() in insertion order, except those written ahead (writeAhead()),
// before add() changes them. A slice released meanwhile is written whole first.
void WindowOperator::beginSnapshot(SnapshotWriter& out) {
  assert(snapshot_out_ == nullptr);
  writeHead(out);
  progress_.resize(slices_.size());
  for (std::size_t i = 0; i < slices_.size(); ++i) {
    Slice* slice = slices_[i];
    SliceProgress& p = progress_[i];
    p.slice = slice;
    p.frozen = slice->table.size();
    p.cursor = 0;
    p.ahead.assign(p.frozen / 64 + 1, 0);
    slice->progress = static_cast<std::int32_t>(i);
  }
  progress_next_ = 0;
  snapshot_out_ = &out;
}

bool WindowOperator::continueSnapshot(std::size_t budget) {
  if (snapshot_out_ == nullptr) return true;
  const std::size_t size = snapshot_out_->size();
  const std::size_t until = budget > SIZE_MAX - size ? SIZE_MAX : size + budget;
  for (; progress_next_ < progress_.size(); ++progress_next_) {
    if (!writeSlice(progress_[progress_next_], until)) return false;
  }
  snapshot_out_ = nullptr;
  return true;
}

bool WindowOperator::writeSlice(SliceProgress& p, std::size_t until) {
  if (p.slice == nullptr) return true;
  SnapshotWriter& out = *snapshot_out_;
  const KeyTable& table = p.slice->table;
  const auto ordinal = static_cast<std::size_t>(p.slice->progress);
  while (p.cursor < p.frozen && out.size() < until) {
    if (p.isAhead(p.cursor)) {
      ++p.cursor;
      continue;
    }
    const std::size_t first = p.cursor;
    const std::size_t at = beginRun(out, ordinal, first);
    do {
      putEntry(out, table, p.cursor++);
    } while (p.cursor < p.frozen && !p.isAhead(p.cursor) && out.size() < until);
    endRun(out, at, p.cursor - first);
  }
  if (p.cursor < p.frozen) return false;
  p.slice->progress = -1;
  p.slice = nullptr;
  return true;
}

void WindowOperator::writeAhead(Slice& slice, const Word* state) {
  SliceProgress& p = progress_[static_cast<std::size_t>(slice.progress)];
  const std::size_t k = slice.table.indexOf(state);
  if (k < p.cursor || k >= p.frozen || p.isAhead(k)) return;
  p.ahead[k / 64] |= std::uint64_t{1} << (k % 64);
  const std::size_t at = beginRun(*snapshot_out_, static_cast<std::size_t>(slice.progress), k);
  putEntry(*snapshot_out_, slice.table, k);
  endRun(*snapshot_out_, at, 1);
}

bool WindowOperator::restore(SnapshotReader& in) {
  reset();
  if (restoreContents(in)) return true;
  in.fail();
  reset();
  return false;
}

void WindowOperator::reset() {
  releaseFiredSlices(/*all=*/true);
  watermark_ = kMinTime;
  next_start_ = kMinTime;
  last_window_keys_ = 0;
}

bool WindowOperator::restoreContents(SnapshotReader& in) {
  if (in.get<std::uint8_t>() != kSnapshotFormat) return false;
  const bool same_plan = in.get<std::int64_t>() == plan_->size &&
                         in.get<std::int64_t>() == plan_->slide &&
                         in.get<std::int64_t>() == plan_->allowed_lateness &&
                         in.get<std::int64_t>() == plan_->fire_delay &&
                         in.get<std::uint8_t>() == static_cast<std::uint8_t>(plan_->emit_updates);
  if (!same_plan || !aggregates_->restoreLayout(in)) return false;
  const auto watermark = in.get<std::int64_t>();
  const auto next_start = in.get<std::int64_t>();
  const auto last_window_keys = in.get<std::uint64_t>();
  // next_start is a window start (or a limit) at or after the first window the watermark has
  // not passed: advanceWatermark() never leaves it lower.
  std::int64_t aligned;
  const bool window_start =
      next_start == kMinTime || next_start == kMaxTime ||
      (floorMultiple(next_start, plan_->slide, aligned) && aligned == next_start);
  if (!in.ok() || !window_start || next_start < firstUnfiredWindow(*plan_, watermark)) return false;
  watermark_ = watermark;
  next_start_ = next_start;
  last_window_keys_ = static_cast<std::size_t>(last_window_keys);

  constexpr std::size_t kMinSliceBytes = 8 + 4;
  const std::size_t slices = in.getCount(kMinSliceBytes);
  std::vector<std::size_t> keys(slices);
  std::size_t total = 0;
  for (std::size_t i = 0; i < slices; ++i) {
    // Live slices: in start order, each a slice of the plan that some window still needs (one
    // the watermark has expired is released, so never snapshotted) and that holds a key.
    const auto start = in.get<std::int64_t>();
    keys[i] = in.get<std::uint32_t>();
    std::int64_t first_window, last_window, expires;
    if (!in.ok() || keys[i] == 0 || (!slices_.empty() && start <= slices_.back()->start) ||
        !floorMultiple(start, plan_->slice, aligned) || aligned != start ||
        !sliceWindows(*plan_, start, first_window, last_window, expires) || expires <= watermark_) {
      return false;
    }
    slices_.push_back(takeSlice(start, first_window, last_window, expires));
    total += keys[i];
  }

  // The runs, in the order they were written; then per slice in the order of their entries,
  // which must follow each other from the first to the last without a gap or an overlap.
  struct Run {
    std::size_t slice;
    std::size_t first;
    std::size_t count;
    std::string_view entries;
  };
  std::vector<Run> runs;
  for (std::size_t read = 0; read < total;) {
    Run run;
    run.slice = in.get<std::uint32_t>();
    run.first = in.get<std::uint32_t>();
    run.count = in.get<std::uint32_t>();
    run.entries = in.getBytes();
    if (!in.ok() || run.slice >= slices || run.count == 0 || run.count > total - read) {
      return false;
    }
    read += run.count;
    runs.push_back(run);
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    return a.slice != b.slice ? a.slice < b.slice : a.first < b.first;
  });
  std::size_t next = 0;  // in runs' slice, the entry the next run must start with
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const Run& run = runs[r];
    if (run.first != next || run.count > keys[run.slice] - next) return false;
    next += run.count;
    KeyTable& table = slices_[run.slice]->table;
    SnapshotReader entries(run.entries);
    for (std::size_t k = 0; k < run.count; ++k) {
      const std::string_view key = entries.getBytes();
      const auto hash = entries.get<std::uint64_t>();
      if (!entries.ok() || key.size() > KeyTable::kMaxKeySize || table.find(hash, key) != nullptr) {
        return false;
      }
      Word* state = table.findOrInsert(hash, key, [](Word*) {});
      if (!aggregates_->restoreState(state, sketches_, entries)) return false;
    }
    if (!entries.done()) return false;
    if (r + 1 == runs.size() || runs[r + 1].slice != run.slice) {
      if (next != keys[run.slice]) return false;
      next = 0;
    }
  }
  return in.ok();
}

}  // namespace rivulet::pipeline
