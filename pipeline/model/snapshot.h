// SnapshotWriter / SnapshotReader: the byte encoding of checkpointed state. Fixed-width
// little-endian integers and doubles, and length-prefixed byte strings: no schema, the reader
// reads in the order the writer wrote. The reader never trusts its input (a checkpoint file may be
// truncated or corrupt): every read is bounds-checked, and after the first failed one `ok()` is
// false and every further read yields zero.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace rivulet::pipeline {

static_assert(std::endian::native == std::endian::little, "snapshots are little-endian");

class SnapshotWriter {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
  void put(T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out_.append(bytes, sizeof(T));
  }
  void putBytes(std::string_view bytes) {
    put<std::uint32_t>(static_cast<std::uint32_t>(bytes.size()));
    out_.append(bytes);
  }

  const std::string& bytes() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }

 private:
  std::string out_;
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
