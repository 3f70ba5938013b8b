// LookupEnricher: the lookups (`lookup:`) of one source's plan, done for its EventRouter. Per
// event it copies the parser's fields, probes each lookup's table version by the key's text and
// writes the columns the lookup reads into its fields, and notes which routes refuse the event
// because a lookup of theirs missed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/expression/field_value.h"
#include "config/expression/program.h"
#include "pipeline/model/stats.h"
#include "pipeline/source_plan.h"
#include "pipeline/tables/lookup_table.h"

namespace rivulet::pipeline {

// Thread contract: owned and called by one source thread only (its router's).
class LookupEnricher {
 public:
  // Derives what enrich() uses from `plan` (`field_index` maps a key's field to its index in
  // plan.fields) and takes the tables' current versions. Cold: allocates.
  void compile(const SourcePlan& plan,
               const std::function<int(const config::FieldPath&)>& field_index);

  // Whether the plan has no lookups: then enrich() must not be called.
  bool empty() const noexcept { return lookups_.empty(); }
  // Whether some route refuses an event one of its lookups missed (see refused()).
  bool refusing() const noexcept { return refusing_; }

  // The event's fields (in the plan's order) with the lookups' fields filled in, valid until the
  // next call; each miss is counted. A lookup whose table has a new version takes it first.
  [[gnu::noinline]] const config::FieldValue* enrich(const config::FieldValue* fields) noexcept;
  // Whether route `r` refuses the event last enriched (a lookup it refuses misses of missed).
  // Kept only when refusing().
  bool refused(std::size_t r) const noexcept { return refused_[r] != 0; }

 private:
  // Per plan lookup: the table version used, its columns' indices in it, the key.
  struct LookupState {
    std::shared_ptr<TableStore> store;  // null: every key misses
    std::shared_ptr<const LookupTable> table;
    std::uint64_t version = 0;
    std::vector<std::string> column_names;  // the table's columns it reads
    std::vector<int> columns;               // per column name: its index in table, -1 if absent
    std::vector<int> outputs;               // per column name: its field, an index into the fields
    int key_field = -1;                     // the key when it is a plain field
    std::optional<config::CompiledExpression> key;
    LookupKeyText room;
    bool missed = false;        // for the event being enriched
    Counter* misses = nullptr;  // the plan's counter, or own_misses
    Counter own_misses{0};
  };

  // Takes the tables' current versions.
  [[gnu::cold]] void refreshTables() noexcept;

  // Boxed: a Counter does not move.
  std::vector<std::unique_ptr<LookupState>> lookups_;
  std::vector<config::FieldValue> enriched_;  // the event's fields, lookup fields filled in
  // Per route: the lookups whose miss it refuses the event for, and whether one missed.
  std::vector<std::vector<std::size_t>> refusing_lookups_;
  std::vector<std::uint8_t> refused_;
  bool refusing_ = false;  // some route refuses a miss
};

}  // namespace rivulet::pipeline
