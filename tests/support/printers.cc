// gtest printers for the enums the tests compare (printers.h).
#include "tests/support/printers.h"

#include <cstddef>
#include <iterator>

namespace rivulet::config {

void PrintTo(FieldType type, std::ostream* os) {
  static constexpr const char* kNames[] = {"missing", "null", "number", "string", "bool", "other"};
  const auto i = static_cast<std::size_t>(type);
  *os << (i < std::size(kNames) ? kNames[i] : "?");
}

}  // namespace rivulet::config

namespace rivulet::pipeline {

void PrintTo(ErrorReason reason, std::ostream* os) { *os << reasonName(reason); }

void PrintTo(RecordType type, std::ostream* os) {
  static constexpr const char* kNames[] = {"event",      "watermark", "idle", "end",   "result",
                                           "window_end", "late",      "mark", "reset", "barrier"};
  const auto i = static_cast<std::size_t>(type);
  *os << (i < std::size(kNames) ? kNames[i] : "?");
}

void PrintTo(KeyPartType type, std::ostream* os) { *os << static_cast<char>(type); }

}  // namespace rivulet::pipeline
