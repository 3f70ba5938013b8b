// The stage rings of one source seen from the consumer side, for the source and router tests:
// every record copied back out, with checks on the ends and the watermarks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/model/hash.h"
#include "pipeline/model/key.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/runtime/backoff.h"
#include "tests/support/wait.h"

namespace rivulet::testutil {

// The first one-part string key "k<i>" whose records go to `stage` of `stages`.
std::string keyOnStage(std::uint32_t stage, std::uint32_t stages);

// One record copied out of a ring.
struct Record {
  pipeline::RecordHeader header{};
  std::string payload;  // the bytes after the header (whole cells, so it may end in padding)

  pipeline::RecordType type() const { return header.type; }
  double value(std::size_t i) const {
    double v;
    std::memcpy(&v, payload.data() + i * sizeof(double), sizeof v);
    return v;
  }
  // The encoded key of an event record carrying `values` doubles.
  std::string_view key(std::size_t values) const {
    return std::string_view(payload).substr(values * sizeof(double), header.key_size);
  }
  // The hash a stage computes for the key (it picks the stage the record went to).
  std::uint64_t keyHash(std::size_t values) const { return pipeline::hashEncodedKey(key(values)); }
};

// The parts of an encoded key, e.g. {{kString, "AAPL"}, {kNumber, "3"}}.
std::vector<std::pair<pipeline::KeyPartType, std::string>> keyParts(std::string_view encoded);

// The stage rings of one source, and the consumer side of all of them. Only one thread may
// drain (each ring is single-consumer).
class RingSet {
 public:
  RingSet(std::size_t stages, std::size_t capacity);

  std::vector<pipeline::Ring*> pointers() const;
  std::size_t size() const { return rings_.size(); }
  pipeline::Ring& ring(std::size_t i) { return *rings_[i]; }

  // Moves every published record of every ring into records(). Returns how many were read.
  std::size_t drain();

  // Drains until `done()` holds; false if the deadline passed first.
  template <typename Done>
  bool drainUntil(Done done, std::chrono::nanoseconds timeout = kDeadline) {
    const Clock::time_point deadline = Clock::now() + timeout;
    pipeline::Backoff backoff;
    for (;;) {
      if (drain() > 0) backoff.reset();
      if (done()) return true;
      if (Clock::now() > deadline) return false;
      backoff.pause();
    }
  }

  const std::vector<Record>& records(std::size_t ring) const { return records_[ring]; }

  // Records of `type` over all rings.
  std::size_t count(pipeline::RecordType type) const;
  // The events of `pipeline` over all rings (per ring in ring order), kPublishedEvent too.
  std::vector<Record> events(std::uint16_t pipeline) const;
  // True once every ring has received its kEnd.
  bool ended() const;

 private:
  std::vector<std::unique_ptr<pipeline::Ring>> rings_;
  std::vector<std::vector<Record>> records_;
  pipeline::RecordReader reader_;
};

std::uint64_t errors(const pipeline::SourceStats& stats, pipeline::ErrorReason reason);
std::uint64_t totalErrors(const pipeline::SourceStats& stats);

// Every ring: exactly one kEnd, as its last record, with `flags`.
void expectOneEndPerRing(const RingSet& rings, std::uint8_t flags);

// Every ring: watermarks never go back, and no event after a watermark is older than it (the
// watermark's promise, which holds for inputs in time order and delay 0, or for inputs whose
// disorder stays within the delay). Returns how many watermarks were seen in all.
std::size_t checkWatermarks(const RingSet& rings);

}  // namespace rivulet::testutil
