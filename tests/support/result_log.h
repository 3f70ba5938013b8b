// A ResultSink for the operator tests that logs what an operator emits: every call as it came,
// and as text each result as "final [0,10) <key> {json}" (or "partial", "update") and each window
// end as "end [0,10) <results>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/windows/operator.h"

namespace rivulet::testutil {

// One call of a ResultSink: a result, or (kind == kEnd) a window's end.
struct Emitted {
  static constexpr int kEnd = -1;
  int kind;  // a pipeline::ResultKind, or kEnd
  std::int64_t start;
  std::int64_t end;
  std::string key;          // results
  std::string json;         // results: Aggregates::writeJson
  std::size_t results = 0;  // kEnd

  bool operator==(const Emitted&) const = default;
  std::string describe() const;
};

class ResultLog : public pipeline::ResultSink {
 public:
  // What a window end does to the log.
  enum class WindowEnds {
    kLogged,
    // Logged after the window's final or partial results, which are held back until then and
    // sorted: the order of keys within a window is not part of the contract. Updates are logged
    // as they come, one at a time.
    kLoggedAfterSortedResults,
    kIgnored,
    kRefused,  // a test failure: sessions have none
  };

  ResultLog(const pipeline::Aggregates& aggregates, WindowEnds ends);

  void onResult(const pipeline::WindowResult& r) override;
  void onWindowEnd(std::int64_t start, std::int64_t end, std::size_t results) override;

  std::vector<Emitted> emitted;  // every call, whatever `ends` says
  std::vector<std::string> log;

 private:
  const pipeline::Aggregates& aggregates_;
  WindowEnds ends_;
  std::vector<std::string> window_;  // kLoggedAfterSortedResults: the window's results so far
};

}  // namespace rivulet::testutil
