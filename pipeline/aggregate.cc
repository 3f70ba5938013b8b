#include "pipeline/aggregate.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kNoTimeBefore = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kNoTimeAfter = std::numeric_limits<std::int64_t>::max();

// Words of state per aggregate; the layouts are described at Aggregates::update.
std::size_t wordsOf(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kCount:
    case AggregateKind::kCountIf:
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      return 1;
    case AggregateKind::kSum:
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

}  // namespace

Aggregates::Aggregates(std::span<const config::AggregateSpec> specs,
                       std::span<const int> value_index) {
  assert(specs.size() == value_index.size());
  ops_.reserve(specs.size());
  names_.reserve(specs.size());
  for (std::size_t k = 0; k < specs.size(); ++k) {
    ops_.push_back(Op{specs[k].kind, value_index[k], static_cast<std::uint32_t>(words_)});
    words_ += wordsOf(specs[k].kind);
    std::string name;
    JsonWriter json(name);
    json.string(specs[k].name);
    json.raw(':');
    names_.push_back(std::move(name));
  }
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
    }
  }
}

void Aggregates::merge(Word* into, const Word* from) const noexcept {
  for (const Op& op : ops_) {
    Word* a = into + op.offset;
    const Word* b = from + op.offset;
    switch (op.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountIf:
        a[0].i += b[0].i;
        break;
      case AggregateKind::kSum:
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
    }
  }
}

void Aggregates::writeJson(const Word* state, JsonWriter& out) const {
  out.raw('{');
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    const Op& op = ops_[k];
    const Word* s = state + op.offset;
    if (k > 0) out.raw(',');
    out.raw(names_[k]);
    switch (op.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountIf:
        out.integer(s[0].i);
        break;
      case AggregateKind::kSum:
        if (s[1].i == 0) {
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
          out.number(op.kind == AggregateKind::kVariance ? variance : std::sqrt(variance));
        }
        break;
    }
  }
  out.raw('}');
}

}  // namespace rivulet::pipeline
