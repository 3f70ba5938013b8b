// RemapArray: a growable array of trivially copyable elements whose growth never holds two copies.
// std::vector grows by allocating twice the size and copying, so a table of 1 GB holds 2 GB
// resident while it grows. Here an array of kMapBytes or more is a private anonymous mapping that
// grows with mremap(2): the kernel moves the page-table entries instead of copying the pages, so
// growing costs no copy and no second resident copy; pages of the capacity not yet written are
// not resident at all. Below kMapBytes it is a malloc'd block grown with realloc.
#pragma once

#include <cstddef>
#include <type_traits>

namespace rivulet::pipeline {

// The untyped storage: capacity in bytes, mapped from kMapBytes on.
class RemapBytes {
 public:
  static constexpr std::size_t kMapBytes = std::size_t{1} << 20;

  RemapBytes() = default;
  RemapBytes(const RemapBytes&) = delete;
  RemapBytes& operator=(const RemapBytes&) = delete;
  RemapBytes(RemapBytes&& other) noexcept;
  RemapBytes& operator=(RemapBytes&& other) noexcept;
  ~RemapBytes();

  void* data() const noexcept { return data_; }
  std::size_t capacity() const noexcept { return capacity_; }
  // Grows the capacity to at least `bytes`, keeping the first `used` bytes. Throws
  // std::bad_alloc when the memory is not there.
  void reserve(std::size_t bytes, std::size_t used);

 private:
  void release() noexcept;

  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

template <typename T>
class RemapArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  T* data() noexcept { return static_cast<T*>(bytes_.data()); }
  const T* data() const noexcept { return static_cast<const T*>(bytes_.data()); }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }

  // Appends `n` value-initialised elements; returns the first. Amortised O(n): the capacity
  // doubles.
  T* grow(std::size_t n) {
    if ((size_ + n) * sizeof(T) > bytes_.capacity()) {
      std::size_t bytes = bytes_.capacity() == 0 ? 64 * sizeof(T) : bytes_.capacity() * 2;
      while (bytes < (size_ + n) * sizeof(T)) bytes *= 2;
      bytes_.reserve(bytes, size_ * sizeof(T));
    }
    T* first = data() + size_;
    for (std::size_t i = 0; i < n; ++i) first[i] = T{};
    size_ += n;
    return first;
  }
  // Keeps the capacity.
  void clear() noexcept { size_ = 0; }

 private:
  RemapBytes bytes_;
  std::size_t size_ = 0;
};

}  // namespace rivulet::pipeline
