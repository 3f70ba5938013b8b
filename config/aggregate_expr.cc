#include "config/aggregate_expr.h"

#include <algorithm>
#include <vector>

#include "config/message_text.h"

namespace rivulet::config {
namespace {

struct Function {
  std::string_view name;
  AggregateKind kind;
};

constexpr Function kFunctions[] = {
    {"count", AggregateKind::kCount},       {"sum", AggregateKind::kSum},
    {"min", AggregateKind::kMin},           {"max", AggregateKind::kMax},
    {"avg", AggregateKind::kAvg},           {"first", AggregateKind::kFirst},
    {"last", AggregateKind::kLast},         {"stddev", AggregateKind::kStddev},
    {"variance", AggregateKind::kVariance}, {"count_if", AggregateKind::kCountIf},
};
constexpr std::string_view kFunctionNames[] = {"count", "sum",  "min",    "max",      "avg",
                                               "first", "last", "stddev", "variance", "count_if"};

// DESIGN §2 functions that later slices add.
constexpr std::string_view kNotYet[] = {
    "quantile", "count_distinct", "top_k", "p50", "p90", "p95", "p99", "p999"};

// Splits at the commas outside parentheses, brackets and quoted strings.
std::vector<std::string_view> splitArguments(std::string_view text) {
  std::vector<std::string_view> args;
  int depth = 0;
  char quote_char = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote_char != 0) {
      if (c == quote_char) quote_char = 0;
    } else if (c == '\'' || c == '`') {
      quote_char = c;
    } else if (c == '(' || c == '[') {
      ++depth;
    } else if ((c == ')' || c == ']') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      args.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  args.push_back(text.substr(start));
  return args;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentChar(char c) { return isIdentStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

bool isFieldName(std::string_view text) {
  return !text.empty() && isIdentStart(text.front()) &&
         std::all_of(text.begin(), text.end(), isIdentChar);
}

std::optional<AggregateSpec> parseAggregate(std::string_view text, std::string* error) {
  const std::string quoted = quote(text);
  const std::string syntax_error =
      quoted + " is not an aggregate (use e.g. count(), sum(field), avg(field))";
  std::string_view rest = trim(text);
  std::size_t name_end = 0;
  while (name_end < rest.size() && isIdentChar(rest[name_end])) ++name_end;
  const std::string_view name = rest.substr(0, name_end);
  rest = trim(rest.substr(name_end));
  if (name.empty() || !isIdentStart(name.front()) || rest.size() < 2 || rest.front() != '(' ||
      rest.back() != ')') {
    *error = syntax_error;
    return std::nullopt;
  }
  const std::string_view inner = rest.substr(1, rest.size() - 2);

  if (std::find(std::begin(kNotYet), std::end(kNotYet), name) != std::end(kNotYet)) {
    *error = quote(name) + " is not supported yet";
    return std::nullopt;
  }
  const auto function = std::find_if(std::begin(kFunctions), std::end(kFunctions),
                                     [&](const Function& f) { return f.name == name; });
  if (function == std::end(kFunctions)) {
    *error = "unknown function " + quote(name) + suggestion(name, kFunctionNames, "functions");
    return std::nullopt;
  }

  std::vector<std::string_view> args;
  if (!trim(inner).empty()) {
    for (std::string_view arg : splitArguments(inner)) args.push_back(trim(arg));
  }

  AggregateSpec spec;
  spec.kind = function->kind;
  if (spec.kind == AggregateKind::kCount) {
    if (!args.empty()) {
      *error = quoted + ": count takes no argument (use count())";
      return std::nullopt;
    }
    return spec;
  }
  if (args.size() != 1) {
    *error =
        quoted + ": " + std::string(name) +
        (spec.kind == AggregateKind::kCountIf
             ? " takes exactly one condition, e.g. count_if(qty > 100)"
             : " takes exactly one field or expression, e.g. " + std::string(name) + "(value)");
    return std::nullopt;
  }
  if (isFieldName(args.front()) && spec.kind != AggregateKind::kCountIf) {
    spec.field = std::string(args.front());
    return spec;
  }
  // An expression: a number for the numeric aggregates, a condition for count_if.
  ExpressionResult parsed = parseExpression(args.front());
  if (!parsed.expression) {
    *error = quoted + ": " + parsed.errors.front().message;
    return std::nullopt;
  }
  const ExprType wanted =
      spec.kind == AggregateKind::kCountIf ? ExprType::kBool : ExprType::kNumber;
  if (const auto e = checkResultType(*parsed.expression, wanted)) {
    *error = quoted + ": " + e->message;
    return std::nullopt;
  }
  spec.field = parsed.expression->toString();
  spec.argument = std::move(parsed.expression);
  return spec;
}

}  // namespace rivulet::config
