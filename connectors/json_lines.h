// JsonLines: the common tail of the line-oriented sources — parse a line, route the event, count
// what was refused.
#pragma once

#include <string_view>
#include <vector>

#include "connectors/json_event_parser.h"
#include "pipeline/event_router.h"

namespace rivulet::connectors {

class JsonLines {
 public:
  explicit JsonLines(pipeline::EventRouter& router)
      : router_(router), parser_(router.plan().fields), fields_(router.plan().fields.size()) {}

  // Returns why the event was refused (already counted), or kNone.
  pipeline::ErrorReason line(std::string_view text, std::size_t capacity,
                             std::int64_t now) noexcept {
    const pipeline::ErrorReason reason = parser_.parse(text, capacity, fields_);
    if (reason != pipeline::ErrorReason::kNone) {
      router_.refuse(reason);
      return reason;
    }
    return router_.route(fields_.data(), now, text);
  }

  void tooLong() noexcept { router_.refuse(pipeline::ErrorReason::kLineTooLong); }

 private:
  pipeline::EventRouter& router_;
  JsonEventParser parser_;
  std::vector<pipeline::FieldValue> fields_;
};

}  // namespace rivulet::connectors
