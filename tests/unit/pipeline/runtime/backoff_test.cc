// Backoff: the order of its steps (spin, yield, sleep) and the spin budget, which keeps a waiting
// thread spinning, neither yielding nor parking, until the budget is spent.
#include "pipeline/runtime/backoff.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "pipeline/runtime/clock.h"

namespace rivulet::pipeline {
namespace {

TEST(Backoff, SpinsThenYieldsThenIsExhausted) {
  Backoff backoff;
  for (int i = 0; i < Backoff::kSpins; ++i) {
    EXPECT_FALSE(backoff.parked());
    backoff.pause();
  }
  EXPECT_TRUE(backoff.parked());
  for (int i = 0; i < Backoff::kYields; ++i) {
    EXPECT_FALSE(backoff.exhausted());
    backoff.pause();
  }
  EXPECT_TRUE(backoff.exhausted());
  backoff.reset();
  EXPECT_FALSE(backoff.parked());
}

// With a budget the steps after spinning wait for it: however many pauses fit in it, the backoff
// is not exhausted (a stage would not park) until the clock says the budget is spent.
TEST(Backoff, ABudgetKeepsSpinningUntilItIsSpent) {
  constexpr std::int64_t kBudget = 2'000'000;  // 2 ms
  const std::int64_t from = steadyNanos();     // before the budget starts
  Backoff backoff(kBudget);
  for (int i = 0; i < Backoff::kSpins + Backoff::kYields; ++i) backoff.pause();
  std::int64_t pauses = 0;
  while (!backoff.exhausted()) {
    // Not exhausted while the budget lasts, whatever the count of pauses.
    ASSERT_LT(steadyNanos() - from, 60'000'000'000) << "the budget never ran out";
    backoff.pause();
    ++pauses;
  }
  EXPECT_GE(steadyNanos() - from, kBudget) << "exhausted after " << pauses << " pauses";
  // After a reset the budget starts again: the same pauses leave it far from exhausted (the clock
  // is read once in 64 of them, so at most one of them yields).
  backoff.reset();
  for (int i = 0; i < Backoff::kSpins + Backoff::kYields; ++i) backoff.pause();
  EXPECT_FALSE(backoff.exhausted());
}

}  // namespace
}  // namespace rivulet::pipeline
