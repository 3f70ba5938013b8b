// The static checks of an expression: each node's type, and every error that can never work.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "config/expression/expression.h"

namespace rivulet::config::expr {

// Sets the type of each of `nodes` (children first) and returns every error, by offset. `fields`
// are the expression's fields, typed by `types` where it says.
std::vector<ExprError> checkTypes(std::string_view text, std::vector<ExprNode>& nodes,
                                  std::span<const FieldPath> fields, const FieldTypes& types);

}  // namespace rivulet::config::expr
