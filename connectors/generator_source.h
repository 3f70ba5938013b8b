// GeneratorSource: deterministic synthetic events {ts, key, value} for demos, tests and
// benchmarks. Event i is a pure function of (seed, i), so runs are reproducible and a position is
// just an index.
#pragma once

#include <cstdint>

#include "connectors/source.h"

namespace rivulet::connectors {

struct GeneratedEvent {
  std::int64_t ts_ms;
  std::uint64_t key;  // the key is "k<key>"
  double value;       // in [0, 1)
};

// Event i of a generator: ts = start + floor(i * 1000 / events_per_second) ms; key and value from
// a counter-based hash of (seed, i).
GeneratedEvent generateEvent(const config::GeneratorSpec& spec, std::int64_t start_ms,
                             std::uint64_t i) noexcept;

class GeneratorSource final : public Source {
 public:
  GeneratorSource(const config::GeneratorSpec& spec, pipeline::EventRouter router);
  void run(std::stop_token stop) override;
  bool bounded() const override { return spec_.count > 0; }

 private:
  const config::GeneratorSpec spec_;
  pipeline::EventRouter router_;
  std::int64_t start_ms_;
};

}  // namespace rivulet::connectors
