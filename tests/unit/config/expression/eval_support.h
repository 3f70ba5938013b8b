// What the expression tests share: an evaluated value as text (a number to 17 digits, a string
// quoted, an error by its reason), so that results compare as the expression would write them.
#pragma once

#include <cstdio>
#include <string>

#include "config/expression/program.h"

namespace rivulet::testutil {

inline std::string show(const config::ExprValue& v) {
  switch (v.kind) {
    case config::ValueKind::kNull:
      return "null";
    case config::ValueKind::kNumber: {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", v.number);
      return text;
    }
    case config::ValueKind::kString:
      return "'" + std::string(v.text) + "'";
    case config::ValueKind::kBool:
      return v.boolean ? "true" : "false";
    case config::ValueKind::kError:
      return v.error == config::EvalError::kTooLarge ? "error too_large" : "error wrong_type";
  }
  return "?";
}

}  // namespace rivulet::testutil
