// The consumer side of a source's stage rings, for the tests (rings.h).
#include "tests/support/rings.h"

#include <gtest/gtest.h>

#include "pipeline/event_router.h"

namespace rivulet::testutil {

std::string keyOnStage(std::uint32_t stage, std::uint32_t stages) {
  for (int i = 0;; ++i) {
    const std::string key = "k" + std::to_string(i);
    pipeline::KeyHasher hasher;
    hasher.add(static_cast<char>(pipeline::KeyPartType::kString), key);
    if (pipeline::stageOf(hasher.finish(), stages) == stage) return key;
  }
}

std::vector<std::pair<pipeline::KeyPartType, std::string>> keyParts(std::string_view encoded) {
  std::vector<std::pair<pipeline::KeyPartType, std::string>> parts;
  pipeline::KeyParts it(encoded);
  pipeline::KeyPartType type;
  std::string_view bytes;
  while (it.next(type, bytes)) parts.emplace_back(type, std::string(bytes));
  return parts;
}

RingSet::RingSet(std::size_t stages, std::size_t capacity) : records_(stages) {
  for (std::size_t i = 0; i < stages; ++i)
    rings_.push_back(std::make_unique<pipeline::Ring>(capacity));
}

std::vector<pipeline::Ring*> RingSet::pointers() const {
  std::vector<pipeline::Ring*> out;
  for (const auto& r : rings_) out.push_back(r.get());
  return out;
}

std::size_t RingSet::drain() {
  std::size_t read = 0;
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    pipeline::Ring& ring = *rings_[i];
    const std::size_t available = ring.available();
    std::size_t offset = 0;
    while (const pipeline::RecordHeader* h = reader_.peek(ring, offset, available)) {
      Record r;
      r.header = *h;
      const std::size_t bytes = h->cells * sizeof(pipeline::Cell) - sizeof(pipeline::RecordHeader);
      r.payload.assign(reinterpret_cast<const char*>(pipeline::payload(h)), bytes);
      records_[i].push_back(std::move(r));
      offset += h->cells;
      ++read;
    }
    ring.consume(offset);
  }
  return read;
}

std::size_t RingSet::count(pipeline::RecordType type) const {
  std::size_t n = 0;
  for (const auto& ring : records_)
    for (const Record& r : ring) n += r.type() == type;
  return n;
}

std::vector<Record> RingSet::events(std::uint16_t pipeline) const {
  std::vector<Record> out;
  for (const auto& ring : records_)
    for (const Record& r : ring)
      if ((r.type() == pipeline::RecordType::kEvent ||
           r.type() == pipeline::RecordType::kPublishedEvent) &&
          r.header.pipeline == pipeline)
        out.push_back(r);
  return out;
}

bool RingSet::ended() const {
  for (const auto& ring : records_) {
    bool end = false;
    for (const Record& r : ring) end = end || r.type() == pipeline::RecordType::kEnd;
    if (!end) return false;
  }
  return true;
}

std::uint64_t errors(const pipeline::SourceStats& stats, pipeline::ErrorReason reason) {
  return stats.errors[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
}

std::uint64_t totalErrors(const pipeline::SourceStats& stats) {
  std::uint64_t n = 0;
  for (const auto& c : stats.errors) n += c.load(std::memory_order_relaxed);
  return n;
}

void expectOneEndPerRing(const RingSet& rings, std::uint8_t flags) {
  for (std::size_t i = 0; i < rings.size(); ++i) {
    const std::vector<Record>& records = rings.records(i);
    std::size_t ends = 0;
    for (const Record& r : records) ends += r.type() == pipeline::RecordType::kEnd;
    EXPECT_EQ(ends, 1u) << "ring " << i;
    ASSERT_FALSE(records.empty()) << "ring " << i;
    EXPECT_EQ(records.back().type(), pipeline::RecordType::kEnd) << "ring " << i;
    EXPECT_EQ(records.back().header.flags, flags) << "ring " << i;
  }
}

std::size_t checkWatermarks(const RingSet& rings) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < rings.size(); ++i) {
    std::int64_t watermark = pipeline::kMinTime;
    for (const Record& r : rings.records(i)) {
      if (r.type() == pipeline::RecordType::kWatermark) {
        EXPECT_GE(r.header.time, watermark) << "ring " << i << ": watermark went back";
        watermark = r.header.time;
        ++seen;
      } else if (r.type() == pipeline::RecordType::kEvent) {
        EXPECT_GE(r.header.time, watermark) << "ring " << i << ": event behind the watermark";
      }
    }
  }
  return seen;
}

}  // namespace rivulet::testutil
