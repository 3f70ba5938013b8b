#include "pipeline/aggregates/aggregate.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/key.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/model/value_slot.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kNoTimeBefore = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kNoTimeAfter = std::numeric_limits<std::int64_t>::max();
// The state word of a sketch aggregate that has no sketch yet.
constexpr std::int64_t kNoSketch = -1;

// Words of state per aggregate; the layouts are described at Aggregates::update.
std::size_t wordsOf(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kCount:
    case AggregateKind::kCountIf:
    case AggregateKind::kSum:
    case AggregateKind::kMin:
    case AggregateKind::kMax:
    case AggregateKind::kQuantile:
    case AggregateKind::kCountDistinct:
    case AggregateKind::kTopK:
      return 1;
    case AggregateKind::kAvg:
    case AggregateKind::kFirst:
    case AggregateKind::kLast:
      return 2;
    case AggregateKind::kStddev:
    case AggregateKind::kVariance:
      return 3;
  }
  return 1;
}

bool isNull(double v) { return std::isnan(v); }

// An empty sum is -0 (Aggregates::update); no sum of values is, since update adds each as v + 0.
constexpr double kEmptySum = -0.0;
bool isEmptySum(double sum) { return sum == 0 && std::signbit(sum); }

bool isSketch(AggregateKind kind) {
  return kind == AggregateKind::kQuantile || kind == AggregateKind::kCountDistinct ||
         kind == AggregateKind::kTopK;
}

// into := into ⊕ from for the sketches behind two state words (from has one); `into` takes a
// sketch from the store first if it has none.
template <typename Sketch, typename... Scratch>
void mergeSketch(SketchStore<Sketch>& store, Word& into, const Word& from, Scratch&... scratch) {
  if (into.i == kNoSketch) into.i = store.acquire();
  store[static_cast<std::uint32_t>(into.i)].merge(store[static_cast<std::uint32_t>(from.i)],
                                                  scratch...);
}

// A top_k item: [type][text] (pipeline/model/value_slot.h); strings print quoted, numbers and bools
// as the text they came as.
void writeItem(std::string_view item, JsonWriter& out) {
  const std::string_view text = item.substr(1);
  if (static_cast<KeyPartType>(item.front()) == KeyPartType::kString) {
    out.string(text);
  } else {
    out.raw(text);
  }
}

}  // namespace

Aggregates::Aggregates(std::span<const config::AggregateSpec> specs,
                       std::span<const int> value_index) {
  assert(specs.size() == value_index.size());
  ops_.reserve(specs.size());
  outputs_.reserve(specs.size());
  for (std::size_t k = 0; k < specs.size(); ++k) {
    const config::AggregateSpec& spec = specs[k];
    std::string name;
    JsonWriter json(name);
    json.string(spec.name);
    json.raw(':');
    Output output{spec.kind,
                  static_cast<std::uint32_t>(words_),
                  spec.quantile,
                  static_cast<std::size_t>(spec.k),
                  0,
                  std::move(name),
                  spec.hidden};
    has_sketches_ = has_sketches_ || isSketch(spec.kind);
    // Quantiles of the same values read one sketch, whatever their q.
    const auto shared = std::find_if(ops_.begin(), ops_.end(), [&](const Op& op) {
      return spec.kind == AggregateKind::kQuantile && op.kind == AggregateKind::kQuantile &&
             op.value == value_index[k];
    });
    if (shared != ops_.end()) {
      output.offset = shared->offset;
    } else {
      Op op{spec.kind, value_index[k], static_cast<std::uint32_t>(words_), 0};
      if (spec.kind == AggregateKind::kTopK) {
        op.top_k = output.top_k = static_cast<std::uint32_t>(top_k_capacities_.size());
        top_k_capacities_.push_back(TopK::capacityFor(output.k));
      }
      ops_.push_back(op);
      words_ += wordsOf(spec.kind);
    }
    outputs_.push_back(std::move(output));
  }
  plain_ops_ = static_cast<std::size_t>(
      std::stable_partition(ops_.begin(), ops_.end(),
                            [](const Op& op) { return !isSketch(op.kind); }) -
      ops_.begin());
}

void Aggregates::init(Word* state) const noexcept {
  for (const Op& op : ops_) {
    Word* s = state + op.offset;
    switch (op.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountIf:
        s[0].i = 0;
        break;
      case AggregateKind::kSum:
        s[0].f = kEmptySum;
        break;
      case AggregateKind::kAvg:
        s[0].f = 0;
        s[1].i = 0;
        break;
      case AggregateKind::kMin:
        s[0].f = kInfinity;
        break;
      case AggregateKind::kMax:
        s[0].f = -kInfinity;
        break;
      case AggregateKind::kFirst:
        s[0].f = kNull;
        s[1].i = kNoTimeAfter;
        break;
      case AggregateKind::kLast:
        s[0].f = kNull;
        s[1].i = kNoTimeBefore;
        break;
      case AggregateKind::kStddev:
      case AggregateKind::kVariance:
        s[0].i = 0;
        s[1].f = 0;
        s[2].f = 0;
        break;
      case AggregateKind::kQuantile:
      case AggregateKind::kCountDistinct:
      case AggregateKind::kTopK:
        s[0].i = kNoSketch;
        break;
    }
  }
}

void Aggregates::updateSketches(Word* state, const double* values,
                                SketchPool& sketches) const noexcept {
  for (const Op& op : std::span(ops_).subspan(plain_ops_)) {
    Word& s = state[op.offset];
    const double& slot = values[op.value];
    if (op.kind == AggregateKind::kQuantile) {
      // The sketch ignores infinities (an overflowed expression): take none for them.
      if (!std::isfinite(slot)) continue;
      SketchStore<QuantileSketch>& store = sketches.quantiles();
      if (s.i == kNoSketch) s.i = store.acquire();
      store[static_cast<std::uint32_t>(s.i)].add(slot);
    } else if (op.kind == AggregateKind::kCountDistinct) {
      const std::uint64_t hash = slotBits(slot);
      if (hash == kNullSlot) continue;
      SketchStore<DistinctCounter>& store = sketches.distinctCounters();
      if (s.i == kNoSketch) s.i = store.acquire();
      store[static_cast<std::uint32_t>(s.i)].add(hash);
    } else {
      if (slotBits(slot) == kNullSlot) continue;
      SketchStore<TopK>& store = sketches.topK(op.top_k);
      if (s.i == kNoSketch) s.i = store.acquire();
      store[static_cast<std::uint32_t>(s.i)].add(itemAt(values, slot));
    }
  }
}

void Aggregates::merge(Word* into, const Word* from, SketchPool& sketches) const noexcept {
  for (const Op& op : ops_) {
    Word* a = into + op.offset;
    const Word* b = from + op.offset;
    switch (op.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountIf:
        a[0].i += b[0].i;
        break;
      case AggregateKind::kSum:  // -0 is the identity of +
        a[0].f += b[0].f;
        break;
      case AggregateKind::kAvg:
        a[0].f += b[0].f;
        a[1].i += b[1].i;
        break;
      case AggregateKind::kMin:
        if (b[0].f < a[0].f) a[0].f = b[0].f;
        break;
      case AggregateKind::kMax:
        if (b[0].f > a[0].f) a[0].f = b[0].f;
        break;
      // `from` covers later times than `into`: on equal times it was added later.
      case AggregateKind::kFirst:
        if (!isNull(b[0].f) && (isNull(a[0].f) || b[1].i < a[1].i)) {
          a[0] = b[0];
          a[1] = b[1];
        }
        break;
      case AggregateKind::kLast:
        if (!isNull(b[0].f) && (isNull(a[0].f) || b[1].i >= a[1].i)) {
          a[0] = b[0];
          a[1] = b[1];
        }
        break;
      // Chan et al.'s pairwise combination of two (n, mean, M2) summaries: exact in exact
      // arithmetic and as stable as Welford's update, so slices merge without losing precision.
      case AggregateKind::kStddev:
      case AggregateKind::kVariance: {
        if (b[0].i == 0) break;
        if (a[0].i == 0) {
          a[0] = b[0];
          a[1] = b[1];
          a[2] = b[2];
          break;
        }
        const double na = static_cast<double>(a[0].i);
        const double nb = static_cast<double>(b[0].i);
        const double n = na + nb;
        const double delta = b[1].f - a[1].f;
        a[1].f += delta * nb / n;
        a[2].f += b[2].f + delta * delta * na * nb / n;
        a[0].i += b[0].i;
        break;
      }
      case AggregateKind::kQuantile:
        if (b[0].i != kNoSketch) mergeSketch(sketches.quantiles(), a[0], b[0]);
        break;
      case AggregateKind::kCountDistinct:
        if (b[0].i != kNoSketch) mergeSketch(sketches.distinctCounters(), a[0], b[0]);
        break;
      case AggregateKind::kTopK:
        if (b[0].i != kNoSketch) {
          mergeSketch(sketches.topK(op.top_k), a[0], b[0], sketches.topKMergeScratch());
        }
        break;
    }
  }
}

void Aggregates::release(Word* state, SketchPool& sketches) const noexcept {
  for (const Op& op : std::span(ops_).subspan(plain_ops_)) {
    Word& s = state[op.offset];
    if (s.i == kNoSketch) continue;
    const auto handle = static_cast<std::uint32_t>(s.i);
    switch (op.kind) {
      case AggregateKind::kQuantile:
        sketches.quantiles().release(handle);
        break;
      case AggregateKind::kCountDistinct:
        sketches.distinctCounters().release(handle);
        break;
      default:
        sketches.topK(op.top_k).release(handle);
        break;
    }
    s.i = kNoSketch;
  }
}

double Aggregates::value(std::size_t k, const Word* state, const SketchPool& sketches) const {
  const Output& output = outputs_[k];
  const Word* s = state + output.offset;
  switch (output.kind) {
    case AggregateKind::kCount:
    case AggregateKind::kCountIf:
      return static_cast<double>(s[0].i);
    case AggregateKind::kSum:
      return isEmptySum(s[0].f) ? kNull : s[0].f;
    case AggregateKind::kAvg:
      return s[1].i == 0 ? kNull : s[0].f / static_cast<double>(s[1].i);
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      return std::isinf(s[0].f) ? kNull : s[0].f;
    case AggregateKind::kFirst:
    case AggregateKind::kLast:
      return s[0].f;
    case AggregateKind::kStddev:
    case AggregateKind::kVariance: {
      if (s[0].i < 2) return kNull;
      const double variance = s[2].f / static_cast<double>(s[0].i - 1);
      return output.kind == AggregateKind::kVariance ? variance : std::sqrt(variance);
    }
    case AggregateKind::kQuantile:
      return s[0].i == kNoSketch
                 ? kNull
                 : sketches.quantiles()[static_cast<std::uint32_t>(s[0].i)].quantile(
                       output.quantile);
    case AggregateKind::kCountDistinct:
      return s[0].i == kNoSketch
                 ? 0.0
                 : static_cast<double>(
                       sketches.distinctCounters()[static_cast<std::uint32_t>(s[0].i)].estimate());
    case AggregateKind::kTopK:
      return kNull;
  }
  return kNull;
}

// Inline in writeJson's loop: a result of a pipeline without computed values costs what it did.
[[gnu::always_inline]] inline void Aggregates::writeOutput(const Output& output, const Word* state,
                                                           SketchPool& sketches, JsonWriter& out) {
  const Word* s = state + output.offset;
  {
    switch (output.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountIf:
        out.integer(s[0].i);
        break;
      case AggregateKind::kSum:
        if (isEmptySum(s[0].f)) {
          out.null();
        } else {
          out.number(s[0].f);
        }
        break;
      case AggregateKind::kAvg:
        if (s[1].i == 0) {
          out.null();
        } else {
          out.number(s[0].f / static_cast<double>(s[1].i));
        }
        break;
      // Empty min/max hold ±inf and empty first/last NaN: number() prints both as null.
      case AggregateKind::kMin:
      case AggregateKind::kMax:
      case AggregateKind::kFirst:
      case AggregateKind::kLast:
        out.number(s[0].f);
        break;
      // Sample statistics (divisor n - 1), as SQL's STDDEV/VARIANCE: null below two values.
      case AggregateKind::kStddev:
      case AggregateKind::kVariance:
        if (s[0].i < 2) {
          out.null();
        } else {
          const double variance = s[2].f / static_cast<double>(s[0].i - 1);
          out.number(output.kind == AggregateKind::kVariance ? variance : std::sqrt(variance));
        }
        break;
      case AggregateKind::kQuantile:
        if (s[0].i == kNoSketch) {
          out.null();
        } else {
          out.number(
              sketches.quantiles()[static_cast<std::uint32_t>(s[0].i)].quantile(output.quantile));
        }
        break;
      // A count, so 0 rather than null without values, as SQL's COUNT(DISTINCT x).
      case AggregateKind::kCountDistinct:
        if (s[0].i == kNoSketch) {
          out.integer(0);
        } else {
          const std::uint64_t n =
              sketches.distinctCounters()[static_cast<std::uint32_t>(s[0].i)].estimate();
          out.integer(static_cast<std::int64_t>(n));
        }
        break;
      case AggregateKind::kTopK: {
        if (s[0].i == kNoSketch) {
          out.null();
          break;
        }
        std::vector<TopK::Entry>& entries = sketches.topKEntries();
        sketches.topK(output.top_k)[static_cast<std::uint32_t>(s[0].i)].top(output.k, entries);
        out.raw('[');
        for (std::size_t e = 0; e < entries.size(); ++e) {
          if (e > 0) out.raw(',');
          out.raw('[');
          writeItem(entries[e].item, out);
          out.raw(',');
          out.integer(static_cast<std::int64_t>(entries[e].count));
          out.raw(']');
        }
        out.raw(']');
        break;
      }
    }
  }
}

void Aggregates::writeValue(std::size_t k, const Word* state, SketchPool& sketches,
                            JsonWriter& out) const {
  writeOutput(outputs_[k], state, sketches, out);
}

void Aggregates::writeJson(const Word* state, SketchPool& sketches, JsonWriter& out) const {
  out.raw('{');
  bool first = true;
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    if (outputs_[k].hidden) continue;
    if (!first) out.raw(',');
    first = false;
    out.raw(outputs_[k].name);
    writeOutput(outputs_[k], state, sketches, out);
  }
  out.raw('}');
}

// Snapshot encoding (pipeline/model/snapshot.h).
// Layout: u32 words, u32 aggregates with state, then per aggregate (in update order): u8 kind,
//   u32 first word, and for top_k u32 the summary's capacity.
// State, per aggregate in the same order: a plain one's words as they are (8 bytes each: the
//   bits of the double or integer); a sketch aggregate's u8 0 (no sketch yet) or u8 1 and the
//   sketch's own snapshot (QuantileSketch, DistinctCounter, TopK).

namespace {

// restoreState() for one sketch aggregate's word: a sketch from `store`, filled from `in`.
template <typename Sketch>
bool restoreSketch(SketchStore<Sketch>& store, Word& word, SnapshotReader& in) {
  const auto present = in.get<std::uint8_t>();
  if (present == 0) return in.ok();
  if (present != 1) return false;
  const std::uint32_t handle = store.acquire();
  if (!store[handle].restore(in)) {
    store.release(handle);
    return false;
  }
  word.i = handle;
  return true;
}

template <typename Sketch>
void snapshotSketch(const SketchStore<Sketch>& store, const Word& word, SnapshotWriter& out) {
  out.put<std::uint8_t>(word.i != kNoSketch);
  if (word.i != kNoSketch) store[static_cast<std::uint32_t>(word.i)].snapshot(out);
}

}  // namespace

void Aggregates::snapshotLayout(SnapshotWriter& out) const {
  out.put<std::uint32_t>(static_cast<std::uint32_t>(words_));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(ops_.size()));
  for (const Op& op : ops_) {
    out.put<std::uint8_t>(static_cast<std::uint8_t>(op.kind));
    out.put<std::uint32_t>(op.offset);
    if (op.kind == AggregateKind::kTopK) {
      out.put<std::uint32_t>(static_cast<std::uint32_t>(top_k_capacities_[op.top_k]));
    }
  }
}

bool Aggregates::restoreLayout(SnapshotReader& in) const {
  bool ok = in.get<std::uint32_t>() == words_ && in.get<std::uint32_t>() == ops_.size();
  for (std::size_t k = 0; ok && k < ops_.size(); ++k) {
    const Op& op = ops_[k];
    ok =
        in.get<std::uint8_t>() == static_cast<std::uint8_t>(op.kind) &&
        in.get<std::uint32_t>() == op.offset &&
        (op.kind != AggregateKind::kTopK || in.get<std::uint32_t>() == top_k_capacities_[op.top_k]);
  }
  if (!ok || !in.ok()) {
    in.fail();
    return false;
  }
  return true;
}

void Aggregates::snapshotState(const Word* state, const SketchPool& sketches,
                               SnapshotWriter& out) const {
  for (const Op& op : ops_) {
    const Word* s = state + op.offset;
    switch (op.kind) {
      case AggregateKind::kQuantile:
        snapshotSketch(sketches.quantiles(), s[0], out);
        break;
      case AggregateKind::kCountDistinct:
        snapshotSketch(sketches.distinctCounters(), s[0], out);
        break;
      case AggregateKind::kTopK:
        snapshotSketch(sketches.topK(op.top_k), s[0], out);
        break;
      case AggregateKind::kSum: {
        // As [sum:f][n:i], the layout of avg, with n 0 or 1: what an empty sum is stays in the
        // snapshot rather than in the state's encoding.
        const bool empty = isEmptySum(s[0].f);
        out.put<double>(empty ? 0.0 : s[0].f);
        out.put<std::int64_t>(empty ? 0 : 1);
        break;
      }
      default:
        for (std::size_t w = 0; w < wordsOf(op.kind); ++w) out.put<std::int64_t>(s[w].i);
        break;
    }
  }
}

bool Aggregates::restoreState(Word* state, SketchPool& sketches, SnapshotReader& in) const {
  init(state);
  bool ok = true;
  for (const Op& op : ops_) {
    Word* s = state + op.offset;
    switch (op.kind) {
      case AggregateKind::kQuantile:
        ok = restoreSketch(sketches.quantiles(), s[0], in);
        break;
      case AggregateKind::kCountDistinct:
        ok = restoreSketch(sketches.distinctCounters(), s[0], in);
        break;
      case AggregateKind::kTopK:
        ok = restoreSketch(sketches.topK(op.top_k), s[0], in);
        break;
      case AggregateKind::kSum: {
        const auto sum = in.get<double>();
        const auto n = in.get<std::int64_t>();
        ok = n >= 0;
        s[0].f = n == 0 ? kEmptySum : sum + 0.0;
        break;
      }
      default:
        for (std::size_t w = 0; w < wordsOf(op.kind); ++w) s[w].i = in.get<std::int64_t>();
        break;
    }
    // The counts (the first word of count and count_if, the second of avg, the first of stddev
    // and variance) cannot be negative.
    switch (op.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountIf:
      case AggregateKind::kStddev:
      case AggregateKind::kVariance:
        ok = ok && s[0].i >= 0;
        break;
      case AggregateKind::kAvg:
        ok = ok && s[1].i >= 0;
        break;
      default:
        break;
    }
    if (!ok || !in.ok()) {
      in.fail();
      release(state, sketches);
      init(state);
      return false;
    }
  }
  return true;
}

}  // namespace rivulet::pipeline
