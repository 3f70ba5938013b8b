// The Prometheus text parser of the tests (metrics.h).
#include "tests/support/metrics.h"

#include <cstdlib>

#include "tests/support/files.h"

namespace rivulet::testutil {
namespace {

std::optional<Metrics> fail(std::string* error, const std::string& line) {
  *error = "cannot parse metrics line: " + line;
  return std::nullopt;
}

}  // namespace

std::optional<Metrics> Metrics::parse(std::string_view text, std::string* error) {
  Metrics metrics;
  for (const std::string& line : splitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    std::size_t i = line.find_first_of("{ ");
    if (i == std::string::npos) return fail(error, line);
    sample.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
          return fail(error, line);
        const std::string name = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        if (j >= line.size()) return fail(error, line);
        sample.labels[name] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail(error, line);
      ++i;  // '}'
    }
    while (i < line.size() && line[i] == ' ') ++i;
    const std::string value = line.substr(i, line.find(' ', i) - i);
    char* end = nullptr;
    sample.value = std::strtod(value.c_str(), &end);  // also "NaN", "+Inf"
    if (value.empty() || *end != '\0') return fail(error, line);
    metrics.samples_.push_back(std::move(sample));
  }
  return metrics;
}

std::optional<double> Metrics::value(std::string_view name, const Labels& labels) const {
  for (const Sample& s : samples_) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

double Metrics::valueOr0(std::string_view name, const Labels& labels) const {
  return value(name, labels).value_or(0);
}

std::vector<Sample> Metrics::all(std::string_view name) const {
  std::vector<Sample> out;
  for (const Sample& s : samples_) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

double Metrics::sum(std::string_view name) const {
  double total = 0;
  for (const Sample& s : samples_) {
    if (s.name == name) total += s.value;
  }
  return total;
}

}  // namespace rivulet::testutil
