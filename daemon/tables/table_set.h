// TableSet: the running daemon's lookup tables (`tables:`). Each table's file is read at start;
// afterwards the control thread reads it again when it changes (checked every tick) and on
// SIGHUP, and swaps the new version in (pipeline/tables/lookup_table.h) while events flow. A file
// that cannot be read, or has a bad row, leaves the version before in use, and is counted.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/model/stats.h"
#include "pipeline/source_plan.h"
#include "pipeline/tables/lookup_table.h"

namespace rivulet::daemon {

class TableSet {
 public:
  // Reads every table; throws std::runtime_error (the first bad file's error) if one cannot be.
  // `writers`: how many routers will look tables up (sources and result feeds), each with miss
  // counters of its own.
  TableSet(const std::vector<config::TableSpec>& specs, std::size_t writers);

  // Points `plan`'s lookups at their tables, and their misses at router `writer`'s counters.
  void bind(pipeline::SourcePlan& plan, std::size_t writer) const;

  // ---- the control thread ----
  // Reads again each table whose file changed (its size, time or inode) and has stayed so for a
  // tick: a file being written is not read half-way (writing a new file and renaming it over the
  // old one is still the way to replace a table at once).
  void tick();
  // SIGHUP: reads every table again.
  void reloadAll();
  // For a config reload to `next`'s tables: what it changes that needs a restart (a table added,
  // removed, or read from another path, format or key), one line each.
  std::vector<std::string> restartNeeded(const std::vector<config::TableSpec>& next) const;
  // Applies `next`'s tables (restartNeeded() empty): those whose lookups read other columns are
  // read again with them. Returns the errors; on any, nothing changed.
  std::vector<std::string> update(const std::vector<config::TableSpec>& next);

  // ---- the metrics (any thread) ----
  std::size_t size() const { return tables_.size(); }
  const std::string& name(std::size_t t) const { return tables_[t]->spec.name; }
  std::uint64_t rows(std::size_t t) const { return tables_[t]->rows.load(); }
  std::uint64_t reloads(std::size_t t) const { return tables_[t]->reloads.load(); }
  std::uint64_t failures(std::size_t t) const { return tables_[t]->failures.load(); }
  // Events whose key no row has, over every router.
  std::uint64_t misses(std::size_t t) const;

 private:
  // What tells a file's versions apart.
  struct FileId {
    std::int64_t mtime_ns = -1, size = -1;
    std::uint64_t inode = 0;
    bool operator==(const FileId&) const = default;
  };
  struct Table {
    config::TableSpec spec;
    std::shared_ptr<pipeline::TableStore> store;
    FileId loaded;  // the file as it was when read last
    FileId seen;    // as the last tick found it
    std::atomic<std::uint64_t> rows{0}, reloads{0}, failures{0};
  };
  struct alignas(pipeline::kFalseSharingRange) Misses {
    pipeline::Counter count{0};
  };

  static FileId idOf(const std::string& path);
  // Reads table `t` again (with `spec`); false, logged and counted, if it cannot be.
  bool reload(Table& table, const config::TableSpec& spec, const char* why);

  std::vector<std::unique_ptr<Table>> tables_;
  std::vector<std::unique_ptr<Misses>> misses_;  // [writer * tables + table]
};

// Reads every table of `config` once, as a start would: the errors (for --check).
std::vector<std::string> checkTables(const config::Config& config);

}  // namespace rivulet::daemon
