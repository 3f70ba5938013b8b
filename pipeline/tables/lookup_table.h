// LookupTable: one version of a lookup table (`tables:`), immutable once built: rows of typed
// values found by the text of their key column. TableStore: the current version of one table,
// replaced whole when its file is read again, which the routers pick up between batches.
//
// Readers never lock per event: a router holds a shared_ptr to the version it uses and reads the
// store's version counter per event (a plain load of a line written once per version); only when
// it rose does it take the store's mutex, for the copy of the new shared_ptr. So an event routed
// after replace() returned sees the new version. An old version is freed by whichever holder lets
// go of it last.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/expression/field_value.h"
#include "pipeline/model/hash.h"
#include "pipeline/model/number_text.h"

namespace rivulet::pipeline {

// Room for a key's text made from a number (lookupKey()).
struct LookupKeyText {
  char text[kMaxNumberText];
};

// The text a value is looked up by: a string's own bytes, a number's shortest text (an integer's
// digits: 42 and 42.0 are one key), true or false. False for null, missing and nested values,
// which no row's key can be.
bool lookupKey(const config::FieldValue& value, LookupKeyText& room,
               std::string_view& key) noexcept;

class LookupTable {
 public:
  // Rows are added with their values in columns' order; the first row of a key counts for it
  // only until a later row has the same key (the file's last row wins, as in a map being
  // written), which duplicates() counts.
  LookupTable(std::vector<std::string> columns, std::size_t key_column);

  // Copies the row's texts. Returns false if the row's key is null or nested (not added).
  bool addRow(std::span<const config::FieldValue> values);
  // After the last row: builds the index. No row may be added after it.
  void seal();

  std::span<const std::string> columns() const noexcept { return columns_; }
  // The index of column `name`, -1 if the table has none.
  int column(std::string_view name) const noexcept;
  // Rows added, and of them those a later row of the same key replaced.
  std::size_t rows() const noexcept { return keys_.size(); }
  std::size_t duplicates() const noexcept { return duplicates_; }

  // The values of the row whose key is `key` (one per column), or nullptr. Inline: the router
  // calls it per event.
  const config::FieldValue* find(std::string_view key) const noexcept {
    const std::uint64_t hash = hashKey(key);
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot slot = slots_[i];
      if (slot.row == 0) return nullptr;
      if (slot.tag == tag && keys_[slot.row - 1] == key) {
        return &values_[(slot.row - 1) * columns_.size()];
      }
    }
  }

 private:
  std::vector<std::string> columns_;
  std::size_t key_column_;
  // Texts of every value, in one arena; the views in values_ are set by seal(), once it no
  // longer grows (until then each value's text is an offset into it, kept in offsets_).
  std::string arena_;
  std::vector<config::FieldValue> values_;  // rows() * columns
  std::vector<std::size_t> offsets_;        // per value, before seal()
  std::vector<std::string_view> keys_;      // per row
  std::vector<std::size_t> key_offsets_;
  // Open addressing: row + 1 (0: an empty slot) and the high half of its key's hash, which
  // settles most mismatches without reading the key; a power of two at most half full (one empty
  // slot before seal(), so that find() ends).
  struct Slot {
    std::uint32_t row = 0;
    std::uint32_t tag = 0;
  };
  std::vector<Slot> slots_ = {Slot{}};
  std::size_t mask_ = 0;
  std::size_t duplicates_ = 0;
};

// The running version of one table. Thread contract: replace() on one thread (the daemon's
// control thread), current() and version() on any.
class TableStore {
 public:
  explicit TableStore(std::shared_ptr<const LookupTable> table) : table_(std::move(table)) {}

  // Rises with each replace(): a router compares it with the version it holds.
  std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const LookupTable> current() const {
    std::lock_guard lock(mutex_);
    return table_;
  }
  void replace(std::shared_ptr<const LookupTable> table) {
    {
      std::lock_guard lock(mutex_);
      table_ = std::move(table);
    }
    version_.fetch_add(1, std::memory_order_release);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const LookupTable> table_;  // under mutex_
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace rivulet::pipeline
