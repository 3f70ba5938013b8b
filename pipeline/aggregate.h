// Aggregates: a pipeline's aggregate functions compiled into one fixed-size state of 8-byte
// words per (key, slice). State words live in plain arrays owned by the window state; this class
// only knows the layout and the arithmetic, so updating a key costs no allocation and no virtual
// call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/json_writer.h"

namespace rivulet::pipeline {

union Word {
  double f;
  std::int64_t i;
};

class Aggregates {
 public:
  // value_index[k]: where aggregate k finds its argument in an event's values; -1 for count().
  Aggregates(std::span<const config::AggregateSpec> specs, std::span<const int> value_index);

  std::size_t words() const noexcept { return words_; }

  // The state of an empty input.
  void init(Word* state) const noexcept;
  // Folds one event in. `values` are the event's values; NaN means null (absent), which every
  // aggregate but count() skips, as SQL does. Inline: it is the per-event hot path.
  void update(Word* state, std::int64_t time, const double* values) const noexcept;
  // into := into ⊕ from, for states of disjoint time ranges (slices of one window).
  void merge(Word* into, const Word* from) const noexcept;
  // Writes {"name":value,...}: count as an integer, the rest as numbers, empty input as null.
  void writeJson(const Word* state, JsonWriter& out) const;

 private:
  struct Op {
    config::AggregateKind kind;
    int value;             // index into values, -1 for count()
    std::uint32_t offset;  // first word of this aggregate's state
  };
  std::vector<Op> ops_;
  std::vector<std::string> names_;  // JSON-escaped and quoted, with the colon: "\"volume\":"
  std::size_t words_ = 0;
};

// State layouts, in words:
//   count        [n:i]
//   count_if     [n:i]          its value is 1 where the condition holds (0 or null elsewhere)
//   sum, avg     [sum:f][n:i]   null when n == 0
//   min, max     [v:f]          starts at +inf/-inf, which JSON can only print as null anyway
//   first, last  [v:f][time:i]  v is NaN (null) until a non-null value arrives
//   stddev, variance [n:i][mean:f][m2:f]  Welford: m2 is the sum of squared deviations from the
//                mean; null below two values
// Forced inline: the compiler's size heuristics leave it out of line, and inlining it saves
// ~10% of the instructions of an event (measured with bench/window_bench.cc).
[[gnu::always_inline]] inline void Aggregates::update(Word* state, std::int64_t time,
                                                      const double* values) const noexcept {
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
      case AggregateKind::kSum:
      case AggregateKind::kAvg: {
        const double v = values[op.value];
        if (v == v) {  // not null (NaN)
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
    }
  }
}

}  // namespace rivulet::pipeline
