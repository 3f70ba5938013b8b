// Aggregates: a pipeline's aggregate functions compiled into one fixed-size state of 8-byte
// words per (key, slice). State words live in plain arrays owned by the window state; this class
// only knows the layout and the arithmetic, so updating a key costs no allocation and no virtual
// call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
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
  // aggregate but count() skips, as SQL does.
  void update(Word* state, std::int64_t time, const double* values) const noexcept;
  // into := into ⊕ from, for states of disjoint time ranges (slices of one window).
  void merge(Word* into, const Word* from) const noexcept;
  // Writes {"name":value,...}: count as an integer, the rest as numbers, empty input as null.
  void writeJson(const Word* state, JsonWriter& out) const;

 private:
  struct Op {
    config::AggregateKind kind;
    int value;           // index into values, -1 for count()
    std::size_t offset;  // first word of this aggregate's state
  };
  std::vector<Op> ops_;
  std::vector<std::string> names_;  // JSON-escaped and quoted, with the colon: "\"volume\":"
  std::size_t words_ = 0;
};

}  // namespace rivulet::pipeline
