#include "pipeline/runtime/remap_array.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace rivulet::pipeline {

RemapBytes::RemapBytes(RemapBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

RemapBytes& RemapBytes::operator=(RemapBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

RemapBytes::~RemapBytes() { release(); }

void RemapBytes::release() noexcept {
  if (data_ == nullptr) return;
  if (capacity_ >= kMapBytes) {
    munmap(data_, capacity_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  capacity_ = 0;
}

void RemapBytes::reserve(std::size_t bytes, std::size_t used) {
  if (bytes <= capacity_) return;
  void* grown = nullptr;
  if (bytes < kMapBytes) {
    grown = std::realloc(data_, bytes);
    if (grown == nullptr) throw std::bad_alloc();
  } else if (capacity_ >= kMapBytes) {
    grown = mremap(data_, capacity_, bytes, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) throw std::bad_alloc();
  } else {
    // The one copy, of less than kMapBytes, from the heap into the first mapping.
    grown = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (grown == MAP_FAILED) throw std::bad_alloc();
    if (used > 0) std::memcpy(grown, data_, used);
    std::free(data_);
  }
  data_ = grown;
  capacity_ = bytes;
}

}  // namespace rivulet::pipeline
