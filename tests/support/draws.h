// Random draws from one seeded engine, as the property tests make their random cases: a case is
// a function of its seed, so a failing one can be run again alone.
#pragma once

#include <cstdint>
#include <random>

namespace rivulet::testutil {

class Draws {
 public:
  explicit Draws(std::uint64_t seed) : rng_(seed) {}

  // In [lo, hi].
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  // In [lo, hi).
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool chance(double p) { return real(0, 1) < p; }

  std::mt19937_64& engine() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

}  // namespace rivulet::testutil
