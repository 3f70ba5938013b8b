// ErrorReason: why an event was refused, the `reason` label of the refusal counters. Its own
// header, so that the parsers and the router name a reason without the counters.
#pragma once

#include <cstdint>
#include <string_view>

namespace rivulet::pipeline {

// Why an event was refused: the `reason` label of rivulet_source_errors_total (an event no pipeline
// of the source can take) and rivulet_pipeline_refused_total (one a pipeline cannot evaluate).
enum class ErrorReason : std::uint8_t {
  kNone,
  kInvalidJson,   // not JSON, or JSON with a syntax error in what was read
  kNotObject,     // valid JSON, but not an object
  kMissingTime,   // no event-time field
  kBadTime,       // event-time field is not a number, or out of range
  kMissingField,  // a group-by field is absent or null, or a group-by expression is null
  kWrongType,     // a group-by field is an object/array, a group-by expression is infinite, an
                  // aggregate argument is of a type it cannot be, or an expression meets a wrong
                  // type
  kLineTooLong,   // longer than max_line
  kKeyTooLong,    // the encoded group-by key exceeds kMaxKeyBytes
  kFutureTime,    // stamped more than watermark.max_future ahead of the wall clock
  kTooLarge,      // its projection (values and key) does not fit in one record
  kValueTooLong,  // a top_k value's text exceeds kMaxItemBytes
  kInvalidCsv,    // csv: a quote inside an unquoted field, text after a closing quote, an
                  // unterminated quote, or a line break outside quotes
  kWrongColumnCount,  // csv: more or fewer columns than the source's columns or header
  kTruncated,         // a datagram or message longer than max_datagram / max_message
  kLookupMiss,        // a lookup with missing: refuse found no row for the event's key
  kCount,
};

std::string_view reasonName(ErrorReason reason) noexcept;

// The reasons one pipeline refuses an event for while others may take it (the rest are about the
// event itself: no pipeline can take it).
inline constexpr ErrorReason kPipelineReasons[] = {
    ErrorReason::kMissingField, ErrorReason::kWrongType,    ErrorReason::kKeyTooLong,
    ErrorReason::kTooLarge,     ErrorReason::kValueTooLong, ErrorReason::kLookupMiss};

}  // namespace rivulet::pipeline
