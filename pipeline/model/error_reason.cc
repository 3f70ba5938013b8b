#include "pipeline/model/error_reason.h"

namespace rivulet::pipeline {

std::string_view reasonName(ErrorReason reason) noexcept {
  switch (reason) {
    case ErrorReason::kNone:
      return "none";
    case ErrorReason::kInvalidJson:
      return "invalid_json";
    case ErrorReason::kNotObject:
      return "not_object";
    case ErrorReason::kMissingTime:
      return "missing_time";
    case ErrorReason::kBadTime:
      return "bad_time";
    case ErrorReason::kMissingField:
      return "missing_field";
    case ErrorReason::kWrongType:
      return "wrong_type";
    case ErrorReason::kLineTooLong:
      return "line_too_long";
    case ErrorReason::kKeyTooLong:
      return "key_too_long";
    case ErrorReason::kFutureTime:
      return "future_time";
    case ErrorReason::kTooLarge:
      return "too_large";
    case ErrorReason::kValueTooLong:
      return "value_too_long";
    case ErrorReason::kInvalidCsv:
      return "invalid_csv";
    case ErrorReason::kWrongColumnCount:
      return "wrong_column_count";
    case ErrorReason::kTruncated:
      return "truncated";
    case ErrorReason::kLookupMiss:
      return "lookup_miss";
    case ErrorReason::kCount:
      break;
  }
  return "unknown";
}

}  // namespace rivulet::pipeline
