// A feed of trades {ts, sym, px} for the tests of the source kinds (udp, zmq, csv, tcp clients):
// second by second with distinct times shuffled within each second (so no event is late and
// first/last have no ties), written as JSON or as CSV in any column order, with awkward symbols
// (a comma, a quote, blanks, UTF-8) and number forms; malformed input by the reason it must be
// counted under; a brute-force reference per pipeline; waiting on a source's counters.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/reference.h"
#include "tests/integration/harness/subscriber.h"
#include "tests/support/metrics.h"

namespace rivulet::testutil {

inline constexpr std::int64_t kFeedBase = 1'700'000'000'000;  // ms, a whole second

struct Trade {
  std::int64_t ts = 0;
  std::string sym;
  std::optional<double> px;  // nullopt: no price (absent in JSON, an empty CSV field)
  std::string px_text;       // as written
};

inline const std::vector<AggregateSpec> kTradeAggregates = {
    {"n", Agg::kCount},  {"total", Agg::kSum},  {"low", Agg::kMin},    {"high", Agg::kMax},
    {"mean", Agg::kAvg}, {"open", Agg::kFirst}, {"close", Agg::kLast},
};

// The YAML of kTradeAggregates, over px.
inline constexpr const char* kTradeAggregatesYaml =
    "    aggregates:\n      n: count()\n      total: sum(px)\n      low: min(px)\n"
    "      high: max(px)\n      mean: avg(px)\n      open: first(px)\n      close: last(px)\n";

// YAML for a pipeline over `source`: per sym, 1 s tumbling windows, kTradeAggregates.
std::string tradePipeline(const std::string& name, const std::string& source);

inline const std::vector<AggregateSpec> kHopAggregates = {
    {"n", Agg::kCount}, {"total", Agg::kSum}, {"open", Agg::kFirst}, {"close", Agg::kLast}};

// YAML for a pipeline over `source` without a key: 3 s windows every second, kHopAggregates.
std::string hopPipeline(const std::string& name, const std::string& source);

// JSON text of a string.
std::string jsonString(std::string_view s);

std::string toJson(const Trade& t);

// A CSV field: quoted when it must be (a comma, a quote, a line break, blanks at an end), and
// then with its quotes doubled.
std::string csvField(std::string_view value, bool quote = false);

// A row of `columns` (a permutation of ts, sym, px) from the raw field texts.
std::string csvRow(const std::vector<std::string>& columns, const std::string& ts,
                   const std::string& sym, const std::string& px);

std::string toCsv(const Trade& t, const std::vector<std::string>& columns, bool quote_all = false);

// Input every source must refuse, with the reason it must be counted under; `ts` keeps each in
// the current second.
using Malformed = std::vector<std::pair<std::string, std::string>>;

Malformed malformedJson(std::int64_t ts);
Malformed malformedCsv(std::int64_t ts, const std::vector<std::string>& columns);

// The trades of one pipeline and its reference.
class TradeFeed {
 public:
  TradeFeed(std::string pipeline, std::uint64_t seed);

  // `count` trades of second `second` (distinct times, shuffled), added to the reference.
  std::vector<Trade> second(int second, int count);

  // A trade far ahead: its watermark fires every window before it.
  Trade farFuture();

  // A trade sent besides those second() made.
  void add(const Trade& t);

  static constexpr std::int64_t kFarFuture = kFeedBase + 3'600'000;
  const WindowReference& reference() const { return reference_; }
  std::int64_t accepted() const { return accepted_; }
  std::mt19937_64& rng() { return rng_; }

  // The final results of this pipeline match the reference: every window the far-future trade
  // closed, or with `all` (at the end of a bounded input) every window.
  void expectFinalsMatch(const std::vector<Result>& results, bool all = false) const;

 private:
  WindowReference reference_;
  std::mt19937_64 rng_;
  std::int64_t accepted_ = 0;
};

// What a source counted: accepted, refused (every reason) and dropped.
double countedBy(const Metrics& m, const std::string& source);

// Scrapes until `source` has counted `n` inputs; the last scrape, or a failure.
::testing::AssertionResult waitCounted(const Daemon& daemon, const std::string& source,
                                       std::int64_t n, Metrics* last = nullptr);

// The source's counters: `events` accepted, exactly `errors` by reason (every other reason 0),
// nothing dropped.
void expectSourceCounters(const Metrics& m, const std::string& source, std::int64_t events,
                          const std::map<std::string, std::int64_t>& errors);

}  // namespace rivulet::testutil
