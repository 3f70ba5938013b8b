#include "config/aggregate_expr.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <system_error>
#include <vector>

#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

struct Function {
  std::string_view name;
  AggregateKind kind;
  double quantile = 0;  // the shorthands median and p50..p999: their q
};

constexpr Function kFunctions[] = {
    {"count", AggregateKind::kCount},
    {"sum", AggregateKind::kSum},
    {"min", AggregateKind::kMin},
    {"max", AggregateKind::kMax},
    {"avg", AggregateKind::kAvg},
    {"first", AggregateKind::kFirst},
    {"last", AggregateKind::kLast},
    {"stddev", AggregateKind::kStddev},
    {"variance", AggregateKind::kVariance},
    {"count_if", AggregateKind::kCountIf},
    {"quantile", AggregateKind::kQuantile},
    {"median", AggregateKind::kQuantile, 0.5},
    {"p50", AggregateKind::kQuantile, 0.5},
    {"p90", AggregateKind::kQuantile, 0.9},
    {"p95", AggregateKind::kQuantile, 0.95},
    {"p99", AggregateKind::kQuantile, 0.99},
    {"p999", AggregateKind::kQuantile, 0.999},
    {"count_distinct", AggregateKind::kCountDistinct},
    {"top_k", AggregateKind::kTopK},
};
constexpr std::string_view kFunctionNames[] = {
    "count",    "sum",      "min",    "max", "avg", "first", "last", "stddev", "variance",
    "count_if", "quantile", "median", "p50", "p90", "p95",   "p99",  "p999",   "count_distinct",
    "top_k"};

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

// What function `name` takes, for a call with the wrong number of arguments.
std::string usage(std::string_view name, AggregateKind kind) {
  if (kind == AggregateKind::kCountIf) return "exactly one condition, e.g. count_if(qty > 100)";
  if (name == "quantile") {
    return "a field or expression and a number q in [0, 1], e.g. quantile(latency_ms, 0.99)";
  }
  if (kind == AggregateKind::kTopK) {
    return "a field or expression and a count k, e.g. top_k(venue, 3)";
  }
  return "exactly one field or expression, e.g. " + std::string(name) + "(value)";
}

// Reads the q of quantile(x, q) or the k of top_k(x, k): a literal, since one sketch serves the
// whole window and cannot follow a value that changes per event.
bool parseParameter(std::string_view text, const std::string& quoted, AggregateSpec& spec,
                    std::string* error) {
  const char* end = text.data() + text.size();
  if (spec.kind == AggregateKind::kQuantile) {
    double q = 0;
    const auto [at, ec] = std::from_chars(text.data(), end, q);
    // Written so that NaN fails too.
    if (ec != std::errc() || at != end || !(q >= 0 && q <= 1)) {
      *error = quoted + ": q must be a number in [0, 1], got " + quote(text);
      return false;
    }
    spec.quantile = q;
    return true;
  }
  std::int64_t k = 0;
  const auto [at, ec] = std::from_chars(text.data(), end, k);
  if (ec != std::errc() || at != end || k < 1 || k > kMaxTopK) {
    *error = quoted + ": k must be an integer from 1 to " + std::to_string(kMaxTopK) + ", got " +
             quote(text);
    return false;
  }
  spec.k = k;
  return true;
}

}  // namespace

bool isAggregateFunction(std::string_view name) {
  return std::find(std::begin(kFunctionNames), std::end(kFunctionNames), name) !=
         std::end(kFunctionNames);
}

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
  spec.quantile = function->quantile;
  if (spec.kind == AggregateKind::kCount) {
    if (!args.empty()) {
      *error = quoted + ": count takes no argument (use count())";
      return std::nullopt;
    }
    return spec;
  }
  // quantile and top_k take a parameter after the argument; median and p50..p999 do not.
  const bool parameter = name == "quantile" || spec.kind == AggregateKind::kTopK;
  if (args.size() != (parameter ? 2u : 1u)) {
    *error = quoted + ": " + std::string(name) + " takes " + usage(name, spec.kind);
    return std::nullopt;
  }
  if (parameter && !parseParameter(args[1], quoted, spec, error)) return std::nullopt;
  if (isFieldName(args.front()) && spec.kind != AggregateKind::kCountIf) {
    spec.field = std::string(args.front());
    return spec;
  }
  // An expression: a condition for count_if, any value for count_distinct and top_k (they count
  // strings and bools too), a number for the rest.
  ExpressionResult parsed = parseExpression(args.front());
  if (!parsed.expression) {
    *error = quoted + ": " + parsed.errors.front().message;
    return std::nullopt;
  }
  const ExprType wanted =
      spec.kind == AggregateKind::kCountIf ? ExprType::kBool
      : spec.kind == AggregateKind::kCountDistinct || spec.kind == AggregateKind::kTopK
          ? ExprType::kAny
          : ExprType::kNumber;
  if (const auto e = checkResultType(*parsed.expression, wanted)) {
    *error = quoted + ": " + e->message;
    return std::nullopt;
  }
  spec.field = parsed.expression->toString();
  spec.argument = std::move(parsed.expression);
  return spec;
}

}  // namespace rivulet::config
