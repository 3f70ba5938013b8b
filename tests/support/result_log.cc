// The operator tests' text log of results and window ends (result_log.h).
#include "tests/support/result_log.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "pipeline/model/json_writer.h"
#include "pipeline/model/key.h"

namespace rivulet::testutil {
namespace {

std::string span(std::int64_t start, std::int64_t end) {
  return "[" + std::to_string(start) + "," + std::to_string(end) + ")";
}

const char* kindName(pipeline::ResultKind kind) {
  switch (kind) {
    case pipeline::ResultKind::kFinal:
      return "final";
    case pipeline::ResultKind::kPartial:
      return "partial";
    case pipeline::ResultKind::kUpdate:
      return "update";
  }
  return "?";
}

}  // namespace

std::string Emitted::describe() const {
  return std::to_string(kind) + " " + span(start, end) + " " +
         key.substr(std::min(key.size(), pipeline::kKeyPartHeader)) + " " + json + " " +
         std::to_string(results);
}

ResultLog::ResultLog(const pipeline::Aggregates& aggregates, WindowEnds ends)
    : aggregates_(aggregates), ends_(ends) {}

void ResultLog::onResult(const pipeline::WindowResult& r) {
  std::string json;
  pipeline::JsonWriter writer(json);
  aggregates_.writeJson(r.state, *r.sketches, writer);
  emitted.push_back({static_cast<int>(r.kind), r.start, r.end, std::string(r.key), json});
  std::string line = std::string(kindName(r.kind)) + " " + span(r.start, r.end) + " " +
                     std::string(r.key) + " " + json;
  if (ends_ == WindowEnds::kLoggedAfterSortedResults && r.kind != pipeline::ResultKind::kUpdate) {
    window_.push_back(std::move(line));
  } else {
    log.push_back(std::move(line));
  }
}

void ResultLog::onWindowEnd(std::int64_t start, std::int64_t end, std::size_t results) {
  emitted.push_back({Emitted::kEnd, start, end, "", "", results});
  switch (ends_) {
    case WindowEnds::kIgnored:
      return;
    case WindowEnds::kRefused:
      ADD_FAILURE() << "no window-end markers for sessions";
      return;
    case WindowEnds::kLoggedAfterSortedResults:
      EXPECT_EQ(results, window_.size());
      std::sort(window_.begin(), window_.end());
      log.insert(log.end(), window_.begin(), window_.end());
      window_.clear();
      break;
    case WindowEnds::kLogged:
      break;
  }
  log.push_back("end " + span(start, end) + " " + std::to_string(results));
}

}  // namespace rivulet::testutil
