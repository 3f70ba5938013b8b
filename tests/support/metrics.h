// The samples of a Prometheus text exposition, parsed for the tests' checks.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rivulet::testutil {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// `name{label="value",...} value [timestamp]` lines; comments and blank lines skipped.
class Metrics {
 public:
  // nullopt (with the line in `error`) at the first line that does not parse.
  static std::optional<Metrics> parse(std::string_view text, std::string* error);

  // The sample with exactly these labels.
  std::optional<double> value(std::string_view name, const Labels& labels = {}) const;
  // Like value(), 0 when absent (for counters that may not be exported before their first use).
  double valueOr0(std::string_view name, const Labels& labels = {}) const;
  std::vector<Sample> all(std::string_view name) const;
  double sum(std::string_view name) const;
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
};

}  // namespace rivulet::testutil
