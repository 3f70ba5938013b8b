// Aggregate expressions as written under a pipeline's `aggregates:` ("count()", "sum(qty)").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rivulet::config {

// A top-level event field name as this slice accepts it: [A-Za-z_][A-Za-z0-9_]*.
bool isFieldName(std::string_view text);

// Whether `name` (lower case) is an aggregate function: count, sum, ..., p999, top_k.
bool isAggregateFunction(std::string_view name);

// Parses "func(arg)", or "quantile(arg, q)" / "top_k(arg, k)" (spaces allowed around each token),
// into kind, field and parameter; `name` is left empty for the caller. On failure returns nullopt
// and sets *error to a message naming the bad part: a syntax error, an unknown function, a wrong
// number of arguments, an argument that is not a field or an expression of the right type, or a
// q that is not a number literal in [0, 1] or a k that is not an integer in [1, kMaxTopK].
std::optional<AggregateSpec> parseAggregate(std::string_view text, std::string* error);

}  // namespace rivulet::config
