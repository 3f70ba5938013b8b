// Field values as a parser hands them over, for the tests of what reads them (the expression
// program, the event router). The texts they view live as long as the test.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/expression/field_value.h"

namespace rivulet::testutil {

// A number; `text` is its JSON token.
config::FieldValue number(double value, std::string_view text = {});
// A number written without fraction or exponent, its token the decimal digits.
config::FieldValue integer(std::int64_t value);
config::FieldValue str(std::string_view text);
// A string that views `text` itself rather than a copy: for a test of where a result points.
config::FieldValue strViewing(std::string_view text);
config::FieldValue boolean(bool value);
config::FieldValue null();
config::FieldValue missing();
// An object or an array.
config::FieldValue other();

}  // namespace rivulet::testutil
