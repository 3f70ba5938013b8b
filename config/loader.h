// Loading a rivulet YAML config file into a validated Config, with every error of the file
// reported at once (README: "Writing a config").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace rivulet::config {

struct ConfigError {
  std::string file;
  int line = 0;         // 1-based; 0 when the error is about the whole file
  int column = 0;       // 1-based; 0 when the error is about the whole file
  std::string path;     // field path, e.g. "pipelines.volume_1m.window.tumbling"; may be empty
  std::string message;  // e.g. "\"1x\" is not a duration (use e.g. 500ms, 10s, 1m)"

  // "file:line:column: path: message"; "file: message" when line is 0; without "path: " when
  // path is empty.
  std::string toString() const;
};

// Exactly one of: config set and errors empty, or config nullopt and errors non-empty (in file
// order).
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
};

// Reads and validates the file at `path`. An unreadable file gives one error at line 0.
LoadResult loadFile(const std::string& path);

// Validates `yaml` as if read from a file called `file_name` (used in messages and Config::file).
LoadResult loadString(std::string_view yaml, const std::string& file_name);

// One line for `rivuletd --check`, e.g. "demo.yaml: ok: 1 source (demo: generator), 2 pipelines
// (w1: tumbling 1s, w2: hopping 10s/1s)".
std::string summary(const Config& config);

}  // namespace rivulet::config
