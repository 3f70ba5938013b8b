// `tables:` (lookup tables) and a pipeline's `lookup:` list (enrichment from them).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kTableKeys[] = {"path", "format", "key"};
constexpr std::string_view kTableFormats[] = {"csv", "json"};
constexpr std::string_view kLookupKeys[] = {"table", "key", "fields", "missing"};
constexpr std::string_view kMissingModes[] = {"null", "refuse"};

// The format a path's extension names, if it names one.
std::optional<Format> formatOfPath(std::string_view path) {
  if (path.ends_with(".csv")) return Format::kCsv;
  for (const std::string_view ext : {".json", ".jsonl", ".ndjson"}) {
    if (path.ends_with(ext)) return Format::kJson;
  }
  return std::nullopt;
}

TableSpec readTable(YamlReader& reader, const Entry& entry) {
  TableSpec table;
  table.name = entry.key;
  reader.checkName(entry, "table");
  auto map = reader.map(entry.value);
  if (!map) return table;
  std::optional<Format> format;
  if (const Entry* e = map->require("path")) {
    if (const auto path = reader.nonEmptyString(e->value)) {
      table.path = *path;
      table.at = reader.location(e->value);
      format = formatOfPath(*path);
      if (::access(path->c_str(), R_OK) != 0) {
        reader.error(e->value, "cannot read " + quote(*path) + ": " + std::strerror(errno));
      }
    }
  }
  if (const Entry* e = map->find("format")) {
    if (const auto name = reader.choice(e->value, kTableFormats, "a table format")) {
      format = *name == "csv" ? Format::kCsv : Format::kJson;
    }
  } else if (!format && !table.path.empty()) {
    reader.error(map->self(),
                 "format: csv or json is required (the path's extension does not say which)");
  }
  table.format = format.value_or(Format::kCsv);
  if (const Entry* e = map->require("key")) {
    if (const auto key = reader.nonEmptyString(e->value)) table.key = *key;
  }
  map->reportUnknown(kTableKeys);
  return table;
}

// Notes that a lookup reads `column` of `table`, first named at `at`.
void needColumn(YamlReader& reader, TableSpec& table, const std::string& column, const Value& at) {
  if (std::find(table.columns.begin(), table.columns.end(), column) != table.columns.end()) return;
  table.columns.push_back(column);
  table.columns_at.push_back(reader.location(at));
}

// `fields:` of a lookup: columns, each under its own name or `alias: column`.
std::vector<std::pair<std::string, std::string>> readLookupFields(YamlReader& reader,
                                                                  const Value& value) {
  std::vector<std::pair<std::string, std::string>> fields;
  const auto items = reader.list(value, /*scalar_is_list=*/true);
  if (!items) return fields;
  if (items->empty()) reader.error(value, "at least one column is required");
  for (const Value& item : *items) {
    if (item.node.IsMap()) {
      auto alias = reader.map(item);
      if (!alias) continue;
      if (alias->entries().size() != 1) {
        reader.error(item, "expected a column, or one \"name: column\"");
        continue;
      }
      const Entry& e = alias->entries().front();
      if (const auto column = reader.nonEmptyString(e.value)) fields.emplace_back(e.key, *column);
    } else if (const auto column = reader.nonEmptyString(item)) {
      fields.emplace_back(*column, *column);
    }
  }
  return fields;
}

}  // namespace

std::vector<TableSpec> readTables(YamlReader& reader, const Value& value) {
  std::vector<TableSpec> tables;
  auto map = reader.map(value);
  if (!map) return tables;
  for (const Entry& entry : map->entries()) tables.push_back(readTable(reader, entry));
  return tables;
}

std::vector<LookupSpec> readLookups(YamlReader& reader, const Value& value,
                                    std::vector<TableSpec>& tables, KnownSources& known,
                                    KnownSources& all, std::vector<SourceInfo>& storage) {
  std::vector<LookupSpec> lookups;
  const auto items = reader.list(value, /*scalar_is_list=*/false);
  if (!items) return lookups;
  // Copies of what the pipeline reads, which get each lookup's fields as it is read; a lookup's
  // field replaces a source's field of the same name, declared type included.
  storage.clear();
  storage.reserve(all.size());
  for (const SourceInfo* source : all) storage.push_back(*source);
  const auto copyOf = [&](const SourceInfo* source) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i] == source) return &storage[i];
    }
    return static_cast<SourceInfo*>(nullptr);
  };
  for (const SourceInfo*& source : known) source = copyOf(source);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = &storage[i];
  std::vector<std::string> names;  // the fields added so far
  std::vector<std::string_view> table_names;
  for (const TableSpec& t : tables) table_names.push_back(t.name);
  for (const Value& item : *items) {
    auto map = reader.map(item);
    if (!map) continue;
    std::optional<std::size_t> table;
    if (const Entry* e = map->require("table")) {
      if (const auto name = reader.scalar(e->value, "a table name")) {
        const auto it = std::find(table_names.begin(), table_names.end(), *name);
        if (it != table_names.end()) {
          table = static_cast<std::size_t>(it - table_names.begin());
        } else {
          reader.error(e->value,
                       quote(*name) + " is not a table" + suggestion(*name, table_names, "tables"));
        }
      }
    }
    const FieldTypes types = [&all](const FieldPath& path) { return fieldType(all, path); };
    std::optional<Expression> key;
    if (const Entry* e = map->require("key")) {
      key = readExpression(reader, e->value, ExprType::kAny,
                           "a field or expression whose value is a row's key", known, types);
    }
    std::vector<std::pair<std::string, std::string>> fields;
    if (const Entry* e = map->require("fields")) {
      fields = readLookupFields(reader, e->value);
      for (const auto& [name, column] : fields) {
        if (std::find(names.begin(), names.end(), name) != names.end()) {
          reader.error(e->value, quote(name) +
                                     " is added by two lookups (rename one: "
                                     "\"alias: column\")");
        }
        names.push_back(name);
        if (table) needColumn(reader, tables[*table], column, e->value);
      }
    }
    bool refuse = false;
    // `missing: null` is YAML's null, not the text "null": both mean null.
    if (const Entry* e = map->find("missing"); e != nullptr && !e->value.node.IsNull()) {
      if (const auto mode = reader.choice(e->value, kMissingModes, "what a missing key gives")) {
        refuse = *mode == "refuse";
      }
    }
    map->reportUnknown(kLookupKeys);
    // Later entries, and everything after lookup:, read these fields.
    for (SourceInfo& source : storage) {
      for (const auto& field : fields) {
        const std::string& name = field.first;  // a lambda may not capture a structured binding
        source.lookup_fields.push_back(name);
        std::erase_if(source.fields, [&](const DeclaredField& d) {
          return d.path.segments.size() == 1 && d.path.segments.front() == name;
        });
      }
    }
    if (table && key && !fields.empty()) {
      lookups.push_back(LookupSpec{*table, std::move(*key), std::move(fields), refuse});
    }
  }
  return lookups;
}

}  // namespace rivulet::config
