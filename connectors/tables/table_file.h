// Reading a lookup table's file (`tables:`) into a LookupTable: CSV whose first line names the
// columns, or JSON lines (one flat object per line). A file is taken whole or not at all: any bad
// row refuses it, and the version before stays in use.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "pipeline/tables/lookup_table.h"

namespace rivulet::connectors {

struct TableRead {
  std::shared_ptr<const pipeline::LookupTable> table;  // null when the file was refused
  // Why, for the operator: the path and line of a bad row ("sectors.csv:7: invalid_csv"), or the
  // config's location of a column the file lacks.
  std::string error;
};

// Reads the key column and the columns the lookups read (spec.columns). Blank lines are skipped;
// a row whose key is null or missing is refused, as is a row a parser refuses; a key given twice
// takes the later row (LookupTable::duplicates() counts them). A CSV field may not span lines.
TableRead readTable(const config::TableSpec& spec);

}  // namespace rivulet::connectors
