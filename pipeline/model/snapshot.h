// SnapshotWriter / SnapshotReader: the byte encoding of checkpointed state. Fixed-width
// little-endian integers and doubles, and length-prefixed byte strings: no schema, the reader
// reads in the order the writer wrote. The reader never trusts its input (a checkpoint file may be
// truncated or corrupt): every read is bounds-checked, and after the first failed one `ok()` is
// false and every further read yields zero.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "pipeline/runtime/remap_array.h"

namespace rivulet::pipeline {

static_assert(std::endian::native == std::endian::little, "snapshots are little-endian");

// A stage writes its state with it a step at a time between batches of input, so a put is a
// bounds check and a store (std::string::append checks and copies generically, ~4x the
// instructions), and growth copies nothing: the buffer is a RemapArray's storage, which from
// 1 MiB on grows with mremap(2), so a step that outgrows it pays for a system call, not for a
// copy of megabytes into freshly faulted pages. A stage keeps its writers from one checkpoint
// to the next (clear()), so their pages are faulted in once.
class SnapshotWriter {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
  void put(T value) {
    std::memcpy(room(sizeof(T)), &value, sizeof(T));
    size_ += sizeof(T);
  }
  void putBytes(std::string_view bytes) {
    put<std::uint32_t>(static_cast<std::uint32_t>(bytes.size()));
    putRaw(bytes.data(), bytes.size());
  }
  // `n` bytes as they are, without a length.
  void putRaw(const void* data, std::size_t n) {
    if (n == 0) return;
    std::memcpy(room(n), data, n);
    size_ += n;
  }

  // Room for `n` bytes, counted as written: the caller fills them (a loop the compiler can
  // vectorise, where a put per element checks the bounds each time).
  char* extend(std::size_t n) {
    char* at = room(n);
    size_ += n;
    return at;
  }

  std::string_view bytes() const noexcept { return {data(), size_}; }
  // Empty again, keeping the buffer (and its pages) for what is written next.
  void clear() noexcept { size_ = 0; }
  std::size_t size() const noexcept { return size_; }
  // Replaces `n` bytes written at `offset` (a count known only once what it counts is written).
  void overwrite(std::size_t offset, const void* bytes, std::size_t n) noexcept {
    std::memcpy(data() + offset, bytes, n);
  }
  // What was written, as a string (a copy); the writer is empty again.
  std::string take() {
    std::string out(bytes());
    size_ = 0;
    return out;
  }

 private:
  char* data() const noexcept { return static_cast<char*>(buffer_.data()); }
  // Where the next `n` bytes go.
  char* room(std::size_t n) {
    if (buffer_.capacity() - size_ < n) [[unlikely]]
      buffer_.reserve(std::max(buffer_.capacity() * 2, size_ + n + 256), size_);
    return data() + size_;
  }

  RemapBytes buffer_;  // size_ bytes of its capacity are written
  std::size_t size_ = 0;
};

class SnapshotReader {
 public:
  explicit SnapshotReader(std::string_view in) noexcept : in_(in) {}

  template <typename T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T> T get()
  noexcept {
    T value{};
    if (!take(sizeof(T))) return value;
    std::memcpy(&value, in_.data() + pos_ - sizeof(T), sizeof(T));
    return value;
  }
  // A view into the input: valid as long as the input is.
  std::string_view getBytes() noexcept {
    const std::uint32_t size = get<std::uint32_t>();
    if (!take(size)) return {};
    return in_.substr(pos_ - size, size);
  }
  // `n` bytes as they were put with putRaw: a view into the input, as long as the input is.
  std::string_view getRaw(std::size_t n) noexcept {
    if (!take(n)) return {};
    return in_.substr(pos_ - n, n);
  }
  // A count of items that each take at least `min_item_bytes`: one the rest of the input cannot
  // hold fails the reader (so that a corrupt count cannot make the caller reserve gigabytes).
  std::uint32_t getCount(std::size_t min_item_bytes) noexcept {
    const std::uint32_t count = get<std::uint32_t>();
    if (min_item_bytes > 0 && count > remaining() / min_item_bytes) fail();
    return ok_ ? count : 0;
  }

  // Marks the input as invalid (a value out of range, say); reads yield zero from now on.
  void fail() noexcept { ok_ = false; }
  bool ok() const noexcept { return ok_; }
  bool done() const noexcept { return ok_ && pos_ == in_.size(); }
  std::size_t remaining() const noexcept { return ok_ ? in_.size() - pos_ : 0; }

 private:
  bool take(std::size_t size) noexcept {
    if (!ok_ || size > in_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += size;
    return true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace rivulet::pipeline
