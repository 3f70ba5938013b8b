// RemapArray: contents survive growth from the heap into a mapping and through remaps, clear()
// keeps the capacity, a move hands the storage over.
#include "pipeline/runtime/remap_array.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

namespace rivulet::pipeline {
namespace {

constexpr std::size_t kMapped = RemapBytes::kMapBytes / sizeof(std::uint64_t);

TEST(RemapArrayTest, ContentsSurviveGrowthIntoAndWithinAMapping) {
  RemapArray<std::uint64_t> array;
  EXPECT_EQ(array.size(), 0u);
  // Growing one element at a time, then in large steps: from realloc'd heap blocks into the
  // first mapping and through several remaps.
  for (std::uint64_t i = 0; i < 2 * kMapped; ++i) *array.grow(1) = i * 2654435761u;
  for (std::size_t step = 0; step < 3; ++step) {
    std::uint64_t* block = array.grow(3 * kMapped);
    for (std::size_t i = 0; i < 3 * kMapped; ++i) {
      ASSERT_EQ(block[i], 0u);  // value-initialised
      block[i] = ~i;
    }
  }
  ASSERT_EQ(array.size(), 11 * kMapped);
  for (std::uint64_t i = 0; i < 2 * kMapped; ++i) ASSERT_EQ(array[i], i * 2654435761u) << i;
  for (std::size_t i = 2 * kMapped; i < array.size(); ++i) {
    ASSERT_EQ(array[i], ~((i - 2 * kMapped) % (3 * kMapped))) << i;
  }
}

TEST(RemapArrayTest, ClearKeepsTheStorage) {
  for (const std::size_t size : {std::size_t{100}, 4 * kMapped}) {
    RemapArray<std::uint64_t> array;
    array.grow(size);
    const std::uint64_t* storage = array.data();
    array.clear();
    EXPECT_EQ(array.size(), 0u);
    std::uint64_t* again = array.grow(size);
    EXPECT_EQ(again, storage) << size;
    EXPECT_EQ(again[size - 1], 0u);
  }
}

TEST(RemapArrayTest, MovesHandTheStorageOver) {
  RemapArray<std::uint64_t> a;
  *a.grow(1) = 7;
  a.grow(2 * kMapped);
  RemapArray<std::uint64_t> b = std::move(a);
  EXPECT_EQ(b.size(), 2 * kMapped + 1);
  EXPECT_EQ(b[0], 7u);
  RemapArray<std::uint64_t> c;
  *c.grow(1) = 9;
  c = std::move(b);
  EXPECT_EQ(c[0], 7u);
  EXPECT_EQ(c.size(), 2 * kMapped + 1);
}

}  // namespace
}  // namespace rivulet::pipeline
