// Aggregate expressions as written under a pipeline's `aggregates:` ("count()", "sum(qty)").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rivulet::config {

// A top-level event field name as this slice accepts it: [A-Za-z_][A-Za-z0-9_]*.
bool isFieldName(std::string_view text);

// Parses "func(arg)" (spaces allowed around each token) into kind and field; `name` is left
// empty for the caller. On failure returns nullopt and sets *error to a message naming the bad
// part: a syntax error, an unknown or not yet supported function, a wrong number of arguments or
// an argument that is not a field name.
std::optional<AggregateSpec> parseAggregate(std::string_view text, std::string* error);

}  // namespace rivulet::config
