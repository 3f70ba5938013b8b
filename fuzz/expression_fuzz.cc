// The expression compiler on arbitrary text: parsing and the static checks refuse or accept it;
// an accepted expression's canonical form parses again to the same form, and it compiles and
// evaluates over a few events (numbers, strings, nulls, missing fields) without failing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/expression/expression.h"
#include "config/expression/program.h"

namespace {

using rivulet::config::FieldType;
using rivulet::config::FieldValue;

FieldValue number(double v) {
  FieldValue f;
  f.type = FieldType::kNumber;
  f.number = v;
  return f;
}

FieldValue text(std::string_view s) {
  FieldValue f;
  f.type = FieldType::kString;
  f.text = s;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  const rivulet::config::ExpressionResult parsed = rivulet::config::parseExpression(source);
  if (!parsed.expression) {
    if (parsed.errors.empty()) std::abort();  // refused without a reason
    return 0;
  }
  const rivulet::config::Expression& expression = *parsed.expression;
  const std::string canonical = expression.toString();
  const rivulet::config::ExpressionResult again = rivulet::config::parseExpression(canonical);
  if (!again.expression || again.expression->toString() != canonical) std::abort();

  // Fields 0..n-1 get values from a few fixed events; every third field is missing.
  const auto index = [&](const rivulet::config::FieldPath& path) {
    for (std::size_t i = 0; i < expression.fields().size(); ++i) {
      if (expression.fields()[i] == path) return i % 3 == 2 ? -1 : static_cast<int>(i);
    }
    return -1;
  };
  for (const auto want : {rivulet::config::ExprType::kAny, rivulet::config::ExprType::kBool,
                          rivulet::config::ExprType::kNumber}) {
    if (rivulet::config::checkResultType(expression, want)) continue;
    rivulet::config::CompiledExpression compiled(expression, index, want);
    const std::vector<std::vector<FieldValue>> events = {
        std::vector<FieldValue>(expression.fields().size(), number(0)),
        std::vector<FieldValue>(expression.fields().size(), number(-1.5e308)),
        std::vector<FieldValue>(expression.fields().size(), text("O'Brien \xc3\xa9")),
        std::vector<FieldValue>(expression.fields().size(), FieldValue{}),
    };
    for (const std::vector<FieldValue>& event : events) compiled.evaluate(event.data());
  }
  return 0;
}
