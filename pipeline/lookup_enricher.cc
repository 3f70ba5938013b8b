#include "pipeline/lookup_enricher.h"

#include <algorithm>

namespace rivulet::pipeline {
namespace {

// The text a computed key is looked up by: its value taken as a field's, then lookupKey().
bool expressionKey(const config::ExprValue& value, LookupKeyText& room,
                   std::string_view& key) noexcept {
  config::FieldValue as_field;
  if (value.kind == config::ValueKind::kString) {
    as_field.type = config::FieldType::kString;
    as_field.text = value.text;
  } else if (value.kind == config::ValueKind::kNumber) {
    as_field.type = config::FieldType::kNumber;
    as_field.number = value.number;
  } else if (value.kind == config::ValueKind::kBool) {
    as_field.type = config::FieldType::kBool;
    as_field.text = value.boolean ? "true" : "false";
  }
  return lookupKey(as_field, room, key);
}

}  // namespace

void LookupEnricher::compile(const SourcePlan& plan,
                             const std::function<int(const config::FieldPath&)>& field_index) {
  lookups_.clear();
  for (const SourcePlan::Lookup& lookup : plan.lookups) {
    auto state = std::make_unique<LookupState>();
    state->store = lookup.store;
    state->column_names = lookup.columns;
    state->outputs = lookup.outputs;
    if (lookup.key.isFieldReference()) {
      state->key_field = field_index(lookup.key.fields().front());
    } else {
      state->key.emplace(lookup.key, field_index);
    }
    state->misses = lookup.misses != nullptr ? lookup.misses : &state->own_misses;
    lookups_.push_back(std::move(state));
  }
  refreshTables();
  enriched_.assign(plan.fields.size(), config::FieldValue{});
  refusing_lookups_.clear();
  for (const SourcePlan::Route& route : plan.routes) {
    refusing_lookups_.push_back(route.refusing_lookups);
  }
  refused_.assign(plan.routes.size(), 0);
  refusing_ = std::any_of(refusing_lookups_.begin(), refusing_lookups_.end(),
                          [](const auto& refusing) { return !refusing.empty(); });
}

void LookupEnricher::refreshTables() noexcept {
  for (const std::unique_ptr<LookupState>& state : lookups_) {
    if (state->store == nullptr) continue;
    // The version before the table: a replace() in between is picked up by the next event.
    state->version = state->store->version();
    state->table = state->store->current();
    state->columns.clear();
    for (const std::string& column : state->column_names) {
      state->columns.push_back(state->table != nullptr ? state->table->column(column) : -1);
    }
  }
}

const config::FieldValue* LookupEnricher::enrich(const config::FieldValue* fields) noexcept {
  std::copy(fields, fields + enriched_.size(), enriched_.begin());
  for (const std::unique_ptr<LookupState>& owned : lookups_) {
    LookupState& state = *owned;
    // A load of a line that is written once per table version: an event enriched after a
    // replace() has returned sees the new version.
    if (state.store != nullptr && state.store->version() != state.version) [[unlikely]]
      refreshTables();
    std::string_view key;
    const bool usable =
        state.key_field >= 0
            ? lookupKey(enriched_[static_cast<std::size_t>(state.key_field)], state.room, key)
            : expressionKey(state.key->evaluate(enriched_.data()), state.room, key);
    const config::FieldValue* row =
        usable && state.table != nullptr ? state.table->find(key) : nullptr;
    state.missed = row == nullptr;
    for (std::size_t c = 0; c < state.outputs.size(); ++c) {
      config::FieldValue& out = enriched_[static_cast<std::size_t>(state.outputs[c])];
      out = config::FieldValue{};
      out.type = config::FieldType::kNull;
      if (row != nullptr && state.columns[c] >= 0) out = row[state.columns[c]];
    }
    if (state.missed) bump(*state.misses);
  }
  if (!refusing_) return enriched_.data();
  for (std::size_t r = 0; r < refused_.size(); ++r) {
    const std::vector<std::size_t>& refusing = refusing_lookups_[r];
    refused_[r] = std::any_of(refusing.begin(), refusing.end(),
                              [this](std::size_t l) { return lookups_[l]->missed; });
  }
  return enriched_.data();
}

}  // namespace rivulet::pipeline
