// Readable gtest output for the enums the tests compare: gtest finds a PrintTo by argument-
// dependent lookup, so each is declared in its enum's namespace.
#pragma once

#include <ostream>

#include "config/expression/field_value.h"
#include "pipeline/model/error_reason.h"
#include "pipeline/model/key.h"
#include "pipeline/model/record.h"

namespace rivulet::config {
void PrintTo(FieldType type, std::ostream* os);
}  // namespace rivulet::config

namespace rivulet::pipeline {
void PrintTo(ErrorReason reason, std::ostream* os);
void PrintTo(RecordType type, std::ostream* os);
void PrintTo(KeyPartType type, std::ostream* os);
}  // namespace rivulet::pipeline
