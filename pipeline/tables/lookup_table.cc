#include "pipeline/tables/lookup_table.h"

#include <algorithm>
#include <bit>
#include <charconv>

#include "pipeline/model/hash.h"

namespace rivulet::pipeline {

bool lookupKey(const config::FieldValue& value, LookupKeyText& room,
               std::string_view& key) noexcept {
  switch (value.type) {
    case config::FieldType::kString:
      key = value.text;
      return true;
    case config::FieldType::kBool:
      key = value.text == "true" ? "true" : "false";
      return true;
    case config::FieldType::kNumber:
      if (value.is_integer) {
        const auto done = std::to_chars(room.text, room.text + sizeof room.text, value.integer);
        key = std::string_view(room.text, static_cast<std::size_t>(done.ptr - room.text));
      } else {
        key = numberText(value.number, room.text);
      }
      return true;
    default:
      return false;
  }
}

LookupTable::LookupTable(std::vector<std::string> columns, std::size_t key_column)
    : columns_(std::move(columns)), key_column_(key_column) {}

int LookupTable::column(std::string_view name) const noexcept {
  const auto it = std::find(columns_.begin(), columns_.end(), name);
  return it == columns_.end() ? -1 : static_cast<int>(it - columns_.begin());
}

bool LookupTable::addRow(std::span<const config::FieldValue> values) {
  LookupKeyText room;
  std::string_view key;
  if (!lookupKey(values[key_column_], room, key)) return false;
  key_offsets_.push_back(arena_.size());
  arena_.append(key);
  keys_.emplace_back(nullptr, key.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    config::FieldValue value = c < values.size() ? values[c] : config::FieldValue{};
    if (value.type == config::FieldType::kMissing) value.type = config::FieldType::kNull;
    offsets_.push_back(arena_.size());
    arena_.append(value.text);
    value.text = std::string_view(nullptr, value.text.size());
    values_.push_back(value);
  }
  return true;
}

void LookupTable::seal() {
  for (std::size_t i = 0; i < values_.size(); ++i) {
    values_[i].text = std::string_view(arena_.data() + offsets_[i], values_[i].text.size());
  }
  for (std::size_t r = 0; r < keys_.size(); ++r) {
    keys_[r] = std::string_view(arena_.data() + key_offsets_[r], keys_[r].size());
  }
  offsets_ = {};
  key_offsets_ = {};
  const std::size_t size = std::bit_ceil(std::max<std::size_t>(16, keys_.size() * 2));
  slots_.assign(size, Slot{});
  mask_ = size - 1;
  for (std::size_t r = 0; r < keys_.size(); ++r) {
    const std::uint64_t hash = hashKey(keys_[r]);
    const Slot slot{static_cast<std::uint32_t>(r + 1), static_cast<std::uint32_t>(hash >> 32)};
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].row == 0) {
        slots_[i] = slot;
        break;
      }
      if (keys_[slots_[i].row - 1] == keys_[r]) {  // a later row of the key: it wins
        slots_[i] = slot;
        ++duplicates_;
        break;
      }
    }
  }
}

}  // namespace rivulet::pipeline
