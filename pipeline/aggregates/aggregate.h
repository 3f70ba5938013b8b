// Aggregates: a pipeline's aggregate functions compiled into one fixed-size state of 8-byte
// words per (key, slice). State words live in plain arrays owned by the window state; this class
// only knows the layout and the arithmetic, so updating a key costs no allocation and no virtual
// call. The sketch aggregates (quantile, count_distinct, top_k) keep a handle in their word to a
// sketch in a SketchPool (pipeline/aggregates/sketch_pool.h) owned by whoever owns the states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pipeline/model/json_writer.h"

namespace rivulet::pipeline {

union Word {
  double f;
  std::int64_t i;
};

class SketchPool;
class SnapshotReader;
class SnapshotWriter;

// How an owner of states uses this (WindowOperator does; any other owner must too):
//   - one SketchPool per owner, built from these Aggregates, used on the owner's thread only;
//   - init() a new state; update() and merge() it with the owner's pool;
//   - before a state is dropped or overwritten (a table cleared, a scratch state reused, a single
//     state freed), release() it with the same pool, or its sketches are never reused.
// States without sketch aggregates (hasSketches() false) hold no handles: release() is then a
// no-op the owner may skip.
class Aggregates {
 public:
  // value_index[k]: where aggregate k finds its argument in an event's values; -1 for count().
  // The argument of count_distinct must be a ValueForm::kDistinctHash value and that of top_k a
  // ValueForm::kItem value (pipeline/model/value_slot.h); every other argument is a number.
  Aggregates(std::span<const config::AggregateSpec> specs, std::span<const int> value_index);

  std::size_t words() const noexcept { return words_; }
  // Whether states hold sketch handles, i.e. need release().
  bool hasSketches() const noexcept { return has_sketches_; }
  // The Space-Saving capacity of each top_k aggregate, in order: what a SketchPool needs.
  std::span<const std::size_t> topKCapacities() const noexcept { return top_k_capacities_; }

  // The state of an empty input. It holds no sketch: a sketch aggregate takes one from the pool
  // at its first non-null value, so init() needs no pool and keys without values cost none.
  void init(Word* state) const noexcept;
  // Folds one event in. `values` are the event's value slots (pipeline/model/value_slot.h); null,
  // absent, is skipped by every aggregate but count(), as SQL does. Inline: it is the per-event
  // hot path.
  void update(Word* state, std::int64_t time, const double* values,
              SketchPool& sketches) const noexcept;
  // into := into ⊕ from, for states of disjoint time ranges (slices of one window). `from` is
  // unchanged and keeps its sketches.
  void merge(Word* into, const Word* from, SketchPool& sketches) const noexcept;
  // Returns the state's sketches to the pool and leaves the state as init() does.
  void release(Word* state, SketchPool& sketches) const noexcept;
  // Writes {"name":value,...} of the aggregates not hidden: count, count_if and count_distinct
  // as integers, top_k as [[item,count],...] (largest count first), the rest as numbers; empty
  // input as null (0 for the counts). Uses the pool's scratch, hence not const.
  void writeJson(const Word* state, SketchPool& sketches, JsonWriter& out) const;

  // One aggregate at a time, k in config order (pipeline/aggregates/computed_values.h): its
  // quoted name with the colon, whether it is hidden, its value as writeJson writes it, and as a
  // number (NaN for null, and for top_k, which no expression reads).
  std::size_t size() const noexcept { return outputs_.size(); }
  std::string_view jsonName(std::size_t k) const noexcept { return outputs_[k].name; }
  bool hidden(std::size_t k) const noexcept { return outputs_[k].hidden; }
  void writeValue(std::size_t k, const Word* state, SketchPool& sketches, JsonWriter& out) const;
  double value(std::size_t k, const Word* state, const SketchPool& sketches) const;

  // Checkpoints (pipeline/model/snapshot.h; aggregate.cc has the encoding). The layout is what a
  // snapshot of states must match to be read back with these Aggregates: the state's words and
  // each aggregate's kind and place. restoreLayout() is false for another layout.
  void snapshotLayout(SnapshotWriter& out) const;
  bool restoreLayout(SnapshotReader& in) const;
  // A state by value: the plain words as they are, each sketch by its contents. restoreState()
  // overwrites `state` (which holds no sketch) and takes sketches from `sketches` for it; on input
  // that is corrupt or out of range it returns false, fails `in` and leaves the state as init()
  // does.
  void snapshotState(const Word* state, const SketchPool& sketches, SnapshotWriter& out) const;
  bool restoreState(Word* state, SketchPool& sketches, SnapshotReader& in) const;

 private:
  // An aggregate with state words of its own.
  struct Op {
    config::AggregateKind kind;
    int value;             // index into values, -1 for count()
    std::uint32_t offset;  // first word of this aggregate's state
    std::uint32_t top_k;   // top_k: its store in the pool (index into top_k_capacities_)
  };
  // An output value: an Op's state, or another quantile's sketch of the same values (p50(x) and
  // p99(x) read one sketch).
  struct Output {
    config::AggregateKind kind;
    std::uint32_t offset;
    double quantile;      // kQuantile: q
    std::size_t k;        // kTopK: k
    std::uint32_t top_k;  // kTopK: its store in the pool
    std::string name;     // JSON-escaped and quoted, with the colon: "\"volume\":"
    bool hidden;          // config::AggregateSpec::hidden
  };
  static void writeOutput(const Output& output, const Word* state, SketchPool& sketches,
                          JsonWriter& out);
  // update() of the sketch aggregates (ops_ from plain_ops_ on), out of line: they cost far more
  // than a call, and the inlined loop of the others stays small.
  [[gnu::noinline]] void updateSketches(Word* state, const double* values,
                                        SketchPool& sketches) const noexcept;

  std::vector<Op> ops_;  // the plain aggregates, then the sketch aggregates
  std::size_t plain_ops_ = 0;
  std::vector<Output> outputs_;
  std::vector<std::size_t> top_k_capacities_;
  std::size_t words_ = 0;
  bool has_sketches_ = false;
};

// State layouts, in words:
//   count        [n:i]
//   count_if     [n:i]          its value is 1 where the condition holds (0 or null elsewhere)
//   sum          [sum:f]        starts at -0, the identity of +, and is null while it is -0:
//                each value is added as v + 0, which is +0 for v = -0, and a sum of values that
//                are not -0 is never -0 (IEEE 754: x + y is -0 only if both are)
//   avg          [sum:f][n:i]   null when n == 0
//   min, max     [v:f]          starts at +inf/-inf, which JSON can only print as null anyway
//   first, last  [v:f][time:i]  v is NaN (null) until a non-null value arrives
//   stddev, variance [n:i][mean:f][m2:f]  Welford: m2 is the sum of squared deviations from the
//                mean; null below two values
//   quantile, count_distinct, top_k  [sketch:i]  a handle into the SketchPool, or kNoSketch
//                until the first non-null value
// Forced inline: the compiler's size heuristics leave it out of line, and inlining it saves
// ~10% of the instructions of an event (measured with bench/window_bench.cc).
[[gnu::always_inline]] inline void Aggregates::update(Word* state, std::int64_t time,
                                                      const double* values,
                                                      SketchPool& sketches) const noexcept {
  using config::AggregateKind;
  for (const Op& op : ops_) {
    Word* s = state + op.offset;
    switch (op.kind) {
      case AggregateKind::kCount:
        ++s[0].i;
        break;
      case AggregateKind::kCountIf:
        s[0].i += values[op.value] == 1;
        break;
      case AggregateKind::kSum: {
        const double v = values[op.value];
        if (v == v) s[0].f += v + 0.0;  // not null (NaN); + 0: see the layout above
        break;
      }
      case AggregateKind::kAvg: {
        const double v = values[op.value];
        if (v == v) {
          s[0].f += v;
          ++s[1].i;
        }
        break;
      }
      // A NaN compares false, so nulls fall through min and max without a test.
      case AggregateKind::kMin: {
        const double v = values[op.value];
        s[0].f = v < s[0].f ? v : s[0].f;
        break;
      }
      case AggregateKind::kMax: {
        const double v = values[op.value];
        s[0].f = v > s[0].f ? v : s[0].f;
        break;
      }
      // Ties in time: first keeps the earliest added value, last takes the latest added.
      case AggregateKind::kFirst: {
        const double v = values[op.value];
        if (v == v && (time < s[1].i || s[0].f != s[0].f)) {
          s[0].f = v;
          s[1].i = time;
        }
        break;
      }
      case AggregateKind::kLast: {
        const double v = values[op.value];
        if (v == v && time >= s[1].i) {
          s[0].f = v;
          s[1].i = time;
        }
        break;
      }
      // Welford's update: no catastrophic cancellation, unlike sum and sum of squares.
      case AggregateKind::kStddev:
      case AggregateKind::kVariance: {
        const double v = values[op.value];
        if (v == v) {
          ++s[0].i;
          const double delta = v - s[1].f;
          s[1].f += delta / static_cast<double>(s[0].i);
          s[2].f += delta * (v - s[1].f);
        }
        break;
      }
      // The sketch aggregates come last: one call does them all and returns, so that nothing of
      // the loop has to survive the call.
      case AggregateKind::kQuantile:
      case AggregateKind::kCountDistinct:
      case AggregateKind::kTopK:
        updateSketches(state, values, sketches);
        return;
    }
  }
}

}  // namespace rivulet::pipeline
