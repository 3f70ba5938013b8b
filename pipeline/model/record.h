// Records: what travels through the rings. A record is one or more 8-byte cells; the first
// starts with a RecordHeader. Events, watermarks, ends of stream and results share one framing so
// control records travel in-band, in order with the data.
//
// Records are packed: they start at any cell, not at a cache line, so a line carries as many
// events as fit in it. A typical event (header 16, one value 8, a short key 8) takes 32 bytes,
// two to a line: the rings are where the source's and the stage's cores meet, and every line
// written on one and read on the other is a transfer, so bytes per event are what the data path
// pays for most.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include "pipeline/runtime/ring.h"

namespace rivulet::pipeline {

// The unit of ring space, and the alignment of every record (its header holds an int64).
struct alignas(8) Cell {
  std::byte bytes[8];
};
static_assert(sizeof(Cell) == 8);

using Ring = SpscRing<Cell>;

enum class RecordType : std::uint8_t {
  kEvent,      // source -> stage: one event projected for one pipeline
  kWatermark,  // source -> stage: no event with time < header.time will follow from this source
  kIdle,       // source -> stage: this source is idle; leave it out of the watermark minimum
  kEnd,        // source -> stage and stage -> publisher: the input ends (flags: kEndStopped)
  kResult,     // stage -> publisher: one window result, serialised
  kWindowEnd,  // stage -> publisher: this stage has emitted every result of a window
  kLate,       // stage -> publisher: a late event for _late/<pipeline>/ (LatePayload)
  // Commit marks (at-least-once, pipeline/commit_board.h). Source -> stage: the events before it
  // may be committed once their windows are published; header.time is the latest event time
  // routed before it, the payload its sequence number (u64). Stage -> publisher: this stage has
  // handed over every result owed to the mark; header.pipeline is the source, payload the seq.
  kMark,
  // Source -> stage: drop the state of the source's pipelines, its events will be consumed again
  // (a Kafka rebalance); header.time is the replay floor (see Stage), kMinTime for none.
  kReset,
  // Checkpoint barriers (pipeline/checkpoint_board.h), source -> stage and stage -> publisher:
  // everything before it belongs to checkpoint header.time (the id), nothing after it does.
  kBarrier,
  // Source -> stage: a kEvent replayed whose windows were all published before the replay (a
  // Kafka partition whose own floor is above the reset's, EventRouter::setPublishedThrough); the
  // stage counts it late. A type of its own, so that the stage's path for events has no test
  // for it.
  kPublishedEvent,
  // Stage -> publisher, after its kBarrier: the stage's part of checkpoint header.time (the id)
  // is on the board (it writes it while it goes on, Operator::beginSnapshot).
  kSnapshotDone,
};

enum : std::uint8_t {
  kEndStopped = 1,  // kEnd: stopped by a signal, not the end of a bounded input
  // kEvent, kPublishedEvent: after the key and items, the raw text: [size:u32][bytes]
  kEventRaw = 2,
};

// The first 16 bytes of every record. An event carries no key hash: the stage hashes the key
// bytes it reads anyway (a few multiplies), which is cheaper than 8 more bytes through the ring.
struct RecordHeader {
  std::uint16_t cells;  // cells in this record, >= 2
  RecordType type;
  std::uint8_t flags;
  std::uint16_t pipeline;  // pipeline id (events, results, window ends)
  std::uint16_t key_size;  // events: bytes of the encoded key
  std::int64_t time;       // event time (ns), watermark (ns), or window end (ns)
};
static_assert(sizeof(RecordHeader) == 16);

inline constexpr std::size_t kMaxRecordCells = 512;
inline constexpr std::size_t kMaxRecordBytes = kMaxRecordCells * sizeof(Cell);

inline constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

// a + b, saturating at kMinTime and kMaxTime: window bounds are computed near the int64 limits too
// (a watermark of kMaxTime ends the input).
inline std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMaxTime : kMinTime;
  return r;
}

// memcpy for the few bytes of a key part or a value, inline: at most two overlapping loads and
// stores instead of a library call with a size dispatch.
inline void copyShort(std::byte* to, const std::byte* from, std::size_t n) noexcept {
  const auto move = [&](auto word) {
    std::memcpy(&word, from, sizeof word);
    std::memcpy(to, &word, sizeof word);
    std::memcpy(&word, from + n - sizeof word, sizeof word);
    std::memcpy(to + n - sizeof word, &word, sizeof word);
  };
  if (n >= 8 && n <= 16) {
    move(std::uint64_t{});
  } else if (n >= 4 && n < 8) {
    move(std::uint32_t{});
  } else if (n < 4) {
    if (n > 0) to[0] = from[0];
    if (n > 1) to[1] = from[1];
    if (n > 2) to[2] = from[2];
  } else {
    std::memcpy(to, from, n);
  }
}

// Writes one record into kMaxRecordCells cells owned by someone else: ring space claimed with
// Ring::claim() (then staged with Ring::commit()), or a RecordBuilder's buffer. A small value
// type, so that a writer local to a function lives in registers. An event record: header, then
// the value slots (pipeline/model/value_slot.h), then the key bytes, then the bytes of the kItem
// values, then (flag kEventRaw) the raw text.
class RecordWriter {
 public:
  void start(Cell* at, RecordType type, std::uint16_t pipeline, std::int64_t time) noexcept {
    buffer_ = reinterpret_cast<std::byte*>(at);
    header() = RecordHeader{2, type, 0, pipeline, 0, time};
    size_ = sizeof(RecordHeader);
    overflowed_ = false;
  }

  // Valid from start() on.
  RecordHeader& header() noexcept { return *reinterpret_cast<RecordHeader*>(buffer_); }

  // False when the record would exceed kMaxRecordBytes; the record is then unusable
  // (overflowed() stays true until the next start()). Always inline: the router's build() calls
  // it per value, and the compiler's heuristics flip to a call as that function grows (30
  // instructions per event when they did, callgrind).
  [[gnu::always_inline]] bool append(const void* data, std::size_t n) noexcept {
    if (n > kMaxRecordBytes - size_) {
      overflowed_ = true;
      return false;
    }
    copyShort(buffer_ + size_, static_cast<const std::byte*>(data), n);
    size_ += n;
    return true;
  }
  bool append(std::string_view s) noexcept { return append(s.data(), s.size()); }
  // Overwrites n bytes appended earlier, at `offset` from the record's start: a value slot filled
  // in once the place of its item's bytes is known.
  void overwrite(std::size_t offset, const void* data, std::size_t n) noexcept {
    if (offset + n <= size_) std::memcpy(buffer_ + offset, data, n);
  }

  std::size_t size() const noexcept { return size_; }
  bool overflowed() const noexcept { return overflowed_; }

  // Seals the record: sets the cell count. Returns its cells.
  std::span<const Cell> finish() noexcept {
    const std::size_t cells = (size_ + sizeof(Cell) - 1) / sizeof(Cell);
    header().cells = static_cast<std::uint16_t>(cells);
    return {reinterpret_cast<const Cell*>(buffer_), cells};
  }

 private:
  std::byte* buffer_ = nullptr;
  std::size_t size_ = 0;
  bool overflowed_ = false;
};

// A RecordWriter with its own buffer, for records copied into a ring with Ring::tryPush():
// control records and results.
class RecordBuilder : public RecordWriter {
 public:
  RecordBuilder() = default;
  RecordBuilder(const RecordBuilder&) = delete;  // the writer points into cells_
  RecordBuilder& operator=(const RecordBuilder&) = delete;

  void start(RecordType type, std::uint16_t pipeline, std::int64_t time) noexcept {
    RecordWriter::start(cells_, type, pipeline, time);
  }

 private:
  Cell cells_[kMaxRecordCells];
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
    if (&ring.at(offset + cells - 1) == &first + (cells - 1)) return header;
    const std::size_t until_end = ring.contiguous(offset);
    std::memcpy(gather_, &first, until_end * sizeof(Cell));
    std::memcpy(gather_ + until_end, &ring.at(offset + until_end),
                (cells - until_end) * sizeof(Cell));
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
