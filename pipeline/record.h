// Records: what travels through the rings. A record is one or more 64-byte cells; the first
// starts with a RecordHeader. Events, watermarks, ends of stream and results share one framing so
// control records travel in-band, in order with the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include "pipeline/ring.h"

namespace rivulet::pipeline {

// One cache line: a single-cell event record is moved between cores as one line.
struct alignas(64) Cell {
  std::byte bytes[64];
};
static_assert(sizeof(Cell) == 64);

using Ring = SpscRing<Cell>;

enum class RecordType : std::uint8_t {
  kEvent,      // source -> stage: one event projected for one pipeline
  kWatermark,  // source -> stage: no event with time < header.time will follow from this source
  kIdle,       // source -> stage: this source is idle; leave it out of the watermark minimum
  kEnd,        // source -> stage and stage -> publisher: the input ends (flags: kEndStopped)
  kResult,     // stage -> publisher: one window result, serialised
  kWindowEnd,  // stage -> publisher: this stage has emitted every result of a window
};

enum : std::uint8_t {
  kEndStopped = 1,  // kEnd: stopped by a signal, not the end of a bounded input
};

// The first 24 bytes of every record. Field order keeps it packed without padding.
struct RecordHeader {
  std::uint16_t cells;  // cells in this record, >= 1
  RecordType type;
  std::uint8_t flags;
  std::uint16_t pipeline;  // pipeline id (events, results, window ends)
  std::uint16_t key_size;  // events: bytes of the encoded key
  std::int64_t time;       // event time (ns), watermark (ns), or window end (ns)
  std::uint64_t key_hash;  // events: hash of the encoded key
};
static_assert(sizeof(RecordHeader) == 24);

inline constexpr std::size_t kMaxRecordCells = 64;
inline constexpr std::size_t kMaxRecordBytes = kMaxRecordCells * sizeof(Cell);

inline constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

// Builds one record in a local buffer; the buffer is then pushed with Ring::tryPush(cells(), n).
// An event record: header, then `value_count` doubles, then the key bytes.
class RecordBuilder {
 public:
  RecordHeader& header() noexcept { return *reinterpret_cast<RecordHeader*>(buffer_); }

  void start(RecordType type, std::uint16_t pipeline, std::int64_t time) noexcept {
    header() = RecordHeader{1, type, 0, pipeline, 0, time, 0};
    size_ = sizeof(RecordHeader);
    overflowed_ = false;
  }

  // False when the record would exceed kMaxRecordBytes; the record is then unusable
  // (overflowed() stays true until the next start()).
  bool append(const void* data, std::size_t n) noexcept {
    if (n > kMaxRecordBytes - size_) {
      overflowed_ = true;
      return false;
    }
    std::memcpy(buffer_ + size_, data, n);
    size_ += n;
    return true;
  }
  bool append(std::string_view s) noexcept { return append(s.data(), s.size()); }

  std::size_t size() const noexcept { return size_; }
  bool overflowed() const noexcept { return overflowed_; }

  // Seals the record: sets the cell count. Returns the cells to push.
  std::span<const Cell> finish() noexcept {
    const std::size_t cells = (size_ + sizeof(Cell) - 1) / sizeof(Cell);
    header().cells = static_cast<std::uint16_t>(cells);
    return {reinterpret_cast<const Cell*>(buffer_), cells};
  }

 private:
  alignas(64) std::byte buffer_[kMaxRecordBytes];
  std::size_t size_ = 0;
  bool overflowed_ = false;
};

// Reads the record at the head of a ring (consumer side). Records are read in place when their
// cells are contiguous, and gathered into a local buffer when they wrap around the ring's end.
class RecordReader {
 public:
  // The next complete record, or nullptr if none is available. `available` is ring.available().
  const RecordHeader* peek(const Ring& ring, std::size_t offset, std::size_t available) noexcept {
    if (offset >= available) return nullptr;
    const Cell& first = ring.at(offset);
    const auto* header = reinterpret_cast<const RecordHeader*>(&first);
    const std::size_t cells = header->cells;
    // Producers publish whole records, but the caller may pass a window that cuts one.
    if (offset + cells > available) return nullptr;
    if (cells == 1 || &ring.at(offset + cells - 1) == &first + (cells - 1)) return header;
    for (std::size_t i = 0; i < cells; ++i) gather_[i] = ring.at(offset + i);
    return reinterpret_cast<const RecordHeader*>(gather_);
  }

 private:
  Cell gather_[kMaxRecordCells];
};

// The payload of a record: the bytes after its header.
inline const std::byte* payload(const RecordHeader* h) noexcept {
  return reinterpret_cast<const std::byte*>(h) + sizeof(RecordHeader);
}

}  // namespace rivulet::pipeline
