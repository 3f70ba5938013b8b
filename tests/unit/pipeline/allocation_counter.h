// Counts every allocation of a test binary, so a test can check that a steady state (a warm
// window operator, sketch or compiled expression) allocates nothing: it replaces the global
// operator new, so include it from exactly one file of each test binary (here every test
// binary is one file). Every form of new that plain delete releases is replaced, so that both
// sides agree (ASan checks that they do).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace rivulet::testutil {
inline std::atomic<std::size_t> allocations{0};
}  // namespace rivulet::testutil

// Out of line, so that g++ does not see a pointer from operator new reach free() (a
// -Wmismatched-new-delete false positive).
[[gnu::noinline]] void* operator new(std::size_t size) {
  rivulet::testutil::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  rivulet::testutil::allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
