// Waiting on a condition with a deadline: a failing test fails, it does not hang.
#pragma once

#include <chrono>
#include <thread>

namespace rivulet::testutil {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

// How long a wait for something that must happen may take before the test gives up on it.
inline constexpr auto kDeadline = std::chrono::seconds(30);

// Evaluates `condition` every `poll` until it holds or `timeout` has passed; returns whether it
// held. The only sleeping the tests do is this polling.
template <typename Condition>
bool waitUntil(Condition&& condition, std::chrono::nanoseconds timeout,
               std::chrono::nanoseconds poll = 5ms) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace rivulet::testutil
