#include "daemon/tables/table_set.h"

#include <stdexcept>

#include "connectors/tables/table_file.h"
#include "daemon/log.h"

namespace rivulet::daemon {
namespace {

std::string rowsText(const pipeline::LookupTable& table) {
  std::string text = std::to_string(table.rows() - table.duplicates()) + " rows";
  if (table.duplicates() > 0) {
    text += " (" + std::to_string(table.duplicates()) +
            " keys given again by a later row, which counts)";
  }
  return text;
}

}  // namespace

TableSet::TableSet(const std::vector<config::TableSpec>& specs, std::size_t writers) {
  for (const config::TableSpec& spec : specs) {
    auto table = std::make_unique<Table>();
    table->spec = spec;
    table->loaded = table->seen = idOf(spec.path);
    connectors::TableRead read = connectors::readTable(spec);
    if (!read.table) throw std::runtime_error(read.error);
    logInfo("table " + spec.name + ": " + rowsText(*read.table) + " from " + spec.path);
    table->rows = read.table->rows() - read.table->duplicates();
    table->store = std::make_shared<pipeline::TableStore>(std::move(read.table));
    tables_.push_back(std::move(table));
  }
  for (std::size_t i = 0; i < writers * tables_.size(); ++i)
    misses_.push_back(std::make_unique<Misses>());
}

void TableSet::bind(pipeline::SourcePlan& plan, std::size_t writer) const {
  for (pipeline::SourcePlan::Lookup& lookup : plan.lookups) {
    lookup.store = tables_[lookup.table]->store;
    lookup.misses = &misses_[writer * tables_.size() + lookup.table]->count;
  }
}

TableSet::FileId TableSet::idOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileId{};
  return FileId{static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino)};
}

bool TableSet::reload(Table& table, const config::TableSpec& spec, const char* why) {
  const FileId before = idOf(spec.path);
  connectors::TableRead read = connectors::readTable(spec);
  if (read.table && idOf(spec.path) != before) {
    read.table = nullptr;  // written to while being read: at a later tick
    read.error = spec.path + ": changed while being read";
  }
  table.loaded = table.seen = before;
  if (!read.table) {
    table.failures.fetch_add(1);
    logError("table " + spec.name + " (" + why + "): " + read.error +
             "; the version before stays in use");
    return false;
  }
  logInfo("table " + spec.name + " (" + why + "): " + rowsText(*read.table) + " from " + spec.path);
  table.rows = read.table->rows() - read.table->duplicates();
  table.store->replace(std::move(read.table));
  table.reloads.fetch_add(1);
  return true;
}

void TableSet::tick() {
  for (auto& table : tables_) {
    const FileId now = idOf(table->spec.path);
    if (now == table->loaded) continue;
    // Changed: read once it has stayed the same for a tick. A missing file is not read at all.
    if (now == table->seen && now.size >= 0) {
      reload(*table, table->spec, "file changed");
    } else {
      if (now.size < 0 && table->seen.size >= 0) {
        logWarn("table " + table->spec.name + ": " + table->spec.path +
                " is gone; the version before stays in use");
      }
      table->seen = now;
    }
  }
}

void TableSet::reloadAll() {
  for (auto& table : tables_) reload(*table, table->spec, "SIGHUP");
}

std::vector<std::string> TableSet::restartNeeded(const std::vector<config::TableSpec>& next) const {
  std::vector<std::string> out;
  const auto same = [](const config::TableSpec& a, const config::TableSpec& b) {
    return a.path == b.path && a.format == b.format && a.key == b.key;
  };
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    const config::TableSpec& spec = tables_[t]->spec;
    if (t >= next.size() || next[t].name != spec.name) {
      out.push_back("tables: " + spec.name + " removed or moved");
    } else if (!same(spec, next[t])) {
      out.push_back("tables: " + spec.name + " changed");
    }
  }
  for (std::size_t t = tables_.size(); t < next.size(); ++t)
    out.push_back("tables: " + next[t].name + " added");
  return out;
}

std::vector<std::string> TableSet::update(const std::vector<config::TableSpec>& next) {
  std::vector<std::string> errors;
  std::vector<std::shared_ptr<const pipeline::LookupTable>> read(tables_.size());
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    if (next[t].columns == tables_[t]->spec.columns) continue;
    connectors::TableRead r = connectors::readTable(next[t]);
    if (!r.table) errors.push_back(r.error);
    read[t] = std::move(r.table);
  }
  if (!errors.empty()) return errors;
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    // The name stays (the metrics read it meanwhile); the rest may only differ in columns.
    tables_[t]->spec.columns = next[t].columns;
    tables_[t]->spec.columns_at = next[t].columns_at;
    tables_[t]->spec.at = next[t].at;
    if (read[t] == nullptr) continue;
    tables_[t]->rows = read[t]->rows() - read[t]->duplicates();
    tables_[t]->store->replace(std::move(read[t]));
    tables_[t]->reloads.fetch_add(1);
  }
  return errors;
}

std::uint64_t TableSet::misses(std::size_t t) const {
  std::uint64_t sum = 0;
  for (std::size_t i = t; i < misses_.size(); i += tables_.size())
    sum += misses_[i]->count.load(std::memory_order_relaxed);
  return sum;
}

std::vector<std::string> checkTables(const config::Config& config) {
  std::vector<std::string> errors;
  for (const config::TableSpec& spec : config.tables) {
    connectors::TableRead read = connectors::readTable(spec);
    if (!read.table) errors.push_back(read.error);
  }
  return errors;
}

}  // namespace rivulet::daemon
