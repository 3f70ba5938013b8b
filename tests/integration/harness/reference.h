// The brute-force reference: every window re-aggregated from the raw events a test sent, and the
// comparison of the daemon's results with it.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness/results.h"

namespace rivulet::testutil {

enum class Agg { kCount, kSum, kMin, kMax, kAvg, kFirst, kLast, kQuantile, kCountDistinct, kTopK };

struct AggregateSpec {
  std::string name;
  Agg kind;
  double q = 0;  // kQuantile
  int k = 0;     // kTopK
};

// The value count_distinct and top_k read: a string or a number, with its JSON text.
struct Item {
  bool is_string = false;
  std::string text;                               // a string's value, or a number's JSON text
  auto operator<=>(const Item&) const = default;  // a number before a string, as rivulet's bytes
};

// One window and key, aggregated the obvious way.
struct RefState {
  std::int64_t count = 0;
  std::int64_t n = 0;  // non-null values
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::int64_t first_ts = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_ts = std::numeric_limits<std::int64_t>::min();
  double first = 0;
  double last = 0;
  std::vector<double> values;          // the non-null values, for quantiles
  std::map<Item, std::int64_t> items;  // for count_distinct and top_k

  // Ties in time: first keeps the earliest added, last takes the latest added.
  void add(std::int64_t ts, std::optional<double> value, const std::optional<Item>& item);
};

struct WindowId {
  std::int64_t start = 0;  // ms
  std::int64_t end = 0;    // ms
  std::vector<std::string> key;
  auto operator<=>(const WindowId&) const = default;
};

std::int64_t floorDiv(std::int64_t a, std::int64_t b);

// The windows of one pipeline (epoch-aligned, [start, start + size) for start a multiple of
// slide), re-aggregated from the raw events.
class WindowReference {
 public:
  WindowReference(std::string pipeline, std::vector<std::string> group_by, std::int64_t size_ms,
                  std::int64_t slide_ms);

  // Adds an event as the daemon must when its watermark is `watermark_ms` (allowed lateness 0):
  // to every window containing ts whose end the watermark has not reached. Returns false if there
  // is none: the event is late. `value` is what the numeric aggregates read, `item` what
  // count_distinct and top_k read.
  bool add(std::int64_t ts_ms, const std::vector<std::string>& key, std::optional<double> value,
           std::int64_t watermark_ms = std::numeric_limits<std::int64_t>::min(),
           const std::optional<Item>& item = std::nullopt);

  std::string topic(const WindowId& id) const;

  const std::string& pipeline() const { return pipeline_; }
  const std::vector<std::string>& groupBy() const { return group_by_; }
  const std::map<WindowId, RefState>& windows() const { return windows_; }
  std::int64_t events() const { return events_; }  // events added to at least one window
  std::int64_t late() const { return late_; }

  // The windows the watermark `watermark_ms` fires (end <= watermark), or those it leaves open.
  std::size_t countFired(std::int64_t watermark_ms, bool fired = true) const;

 private:
  std::string pipeline_;
  std::vector<std::string> group_by_;
  std::int64_t size_;
  std::int64_t slide_;
  std::map<WindowId, RefState> windows_;
  std::int64_t events_ = 0;
  std::int64_t late_ = 0;
};

// Equal to 1e-9 relative (sums may be added up in another order than the reference's).
bool closeRelative(double got, double want);

// top_k's expected array: largest count first, ties by item (numbers before strings, then by
// text, as rivulet orders items by their bytes), k of them; null without items.
std::string topKJson(const RefState& state, int k);

// Compares one result's values with the reference state: counts as integers, sum and avg to 1e-9
// relative, min/max/first/last exactly (they are input values, which round-trip), quantiles of up
// to 64 values as numpy's linear interpolation and of more within the sketch's 1% of the exact
// lower quantile, count_distinct and top_k exactly (tests keep to fewer distinct items than either
// counts exactly); null where no non-null value arrived.
void expectValuesMatch(const Result& got, const RefState& want,
                       const std::vector<AggregateSpec>& aggregates);

// Compares the results of `reference`'s pipeline with kind `kind` against the reference windows
// `select` picks: the same set of (window, key), each once, with the right topic, key object and
// values.
void expectResultsMatch(const std::vector<Result>& results, std::string_view kind,
                        const WindowReference& reference,
                        const std::vector<AggregateSpec>& aggregates,
                        const std::function<bool(const WindowId&)>& select);

// seq starts at 1 and rises by 1 per message of each pipeline, in arrival order.
void expectSeqWithoutGaps(const std::vector<Result>& results);

}  // namespace rivulet::testutil
