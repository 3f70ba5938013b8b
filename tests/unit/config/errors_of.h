// errorsOf: loads a YAML text that must be invalid and returns its errors as the daemon prints
// them, for exact comparison in the config tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace rivulet::config {

inline std::vector<std::string> errorsOf(std::string_view yaml) {
  const LoadResult result = loadString(yaml, "t.yaml");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_FALSE(result.errors.empty());
  std::vector<std::string> lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.toString());
  return lines;
}

}  // namespace rivulet::config
