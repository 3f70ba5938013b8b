// The schema of each top-level section of a config file (the README documents it), read with
// YamlReader. Each reader returns its best effort and reports what is wrong; the loader discards
// the result if anything was reported.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace rivulet::config {

// The fields of generator events, by profile. A nexmark event has those of its type only:
// persons id to state, auctions id and item_name to category, bids auction to channel.
inline constexpr std::string_view kGeneratorFields[] = {"ts", "key", "value"};
inline constexpr std::string_view kNexmarkFields[] = {
    "event_type", "dateTime", "id",        "name",        "email_address", "credit_card",
    "city",       "state",    "item_name", "initial_bid", "reserve",       "expires",
    "seller",     "category", "auction",   "bidder",      "price",         "channel"};

// What pipelines need to know about each entry under `sources:`, the invalid ones too, so that a
// bad source gives one error and not one more per pipeline reading it.
struct SourceInfo {
  std::string name;
  std::optional<SourceKind> kind;  // nullopt: missing, unknown or not supported yet
  GeneratorProfile profile = GeneratorProfile::kKeys;  // generators: which fields they have
  std::vector<std::string> csv_columns;  // format csv with `columns`: its events' only fields
  // Fields of known type: those `fields:` declares, and a generator's.
  std::vector<DeclaredField> fields;
  // A pipeline's results, read by a pipeline naming it in `from:` (config/plan_graph.h): their
  // fields, the upstream window's slide (`window: upstream`), and why it cannot be read, if so.
  bool results = false;
  std::vector<std::string> result_fields;
  Nanos result_slide = 0;
  int tier = 0;  // config/plan_graph.h
  std::string unreadable;
  // The fields a pipeline's `lookup:` adds to the events it reads from here (readLookups).
  std::vector<std::string> lookup_fields;
};

struct SourceTable {
  bool readable = false;  // false: `sources` itself is missing or not a map; `from` goes unchecked
  std::vector<SourceInfo> sources;
  // The pipelines read so far, each as the source of its results: a pipeline is read after
  // those it reads (the loader orders them).
  std::vector<SourceInfo> pipelines;
  std::vector<std::string> pipeline_names;  // every pipeline's, for "did you mean"
};

DaemonConfig readDaemon(YamlReader& reader, const Value& value);

// `curve: { secret_key: FILE, clients: DIR }` for a server, `{ secret_key: FILE, server_key:
// FILE }` for a client; the files are read now.
enum class CurveRole { kServer, kClient };
std::optional<CurveSpec> readCurve(YamlReader& reader, const Value& value, CurveRole role);

SourceConfig readSource(YamlReader& reader, const Entry& entry, SourceInfo* info);

// `tables` are the config's, read before the pipelines: their columns grow by what the
// pipeline's lookups read.
PipelineConfig readPipeline(YamlReader& reader, const Entry& entry, const SourceTable& sources,
                            std::vector<TableSpec>& tables);

// `tables:`: each table's file must be readable now; its rows are read by the engine (and by
// --check), which reports a bad file, or a column the lookups read that it lacks, then.
std::vector<TableSpec> readTables(YamlReader& reader, const Value& value);

// A librdkafka `properties:` map (a source's or an output's): the properties `owned` names are
// refused with `why` (what rivulet does with them).
std::vector<std::pair<std::string, std::string>> readKafkaProperties(
    YamlReader& reader, const Entry& entry, std::span<const std::string_view> owned,
    std::string_view why);

// `outputs:`, read after the pipelines, whose names an output's `pipelines:` must be (and
// published ones).
std::vector<OutputSpec> readOutputs(YamlReader& reader, const Value& value,
                                    const std::vector<PipelineConfig>& pipelines);

// The sources a pipeline reads whose fields are known (generators, csv sources with columns), so
// that field names can be checked.
using KnownSources = std::vector<const SourceInfo*>;

// A pipeline's `lookup:` list. `known` and `all` (what the pipeline reads) are replaced with
// copies of themselves in `storage` that also have the lookups' fields, which may then be read by
// everything after the lookups (a later lookup's key too).
std::vector<LookupSpec> readLookups(YamlReader& reader, const Value& value,
                                    std::vector<TableSpec>& tables, KnownSources& known,
                                    KnownSources& all, std::vector<SourceInfo>& storage);

// Where byte `offset` of the expression `text`, the scalar `value`, is in the file.
YAML::Mark markAt(const Value& value, const std::string& text, std::uint32_t offset);

// An expression, checked to give a value of type `want` (see checkResultType) and to read only
// fields its sources have, where they are known. Its errors are placed at their column when the
// scalar is on one line (a quoted scalar starts one column after its quote; escapes inside double
// quotes are not accounted for). `expected` names it in the error for a value that is not a scalar.
std::optional<Expression> readExpression(YamlReader& reader, const Value& value, ExprType want,
                                         std::string_view expected, const KnownSources& known,
                                         const FieldTypes& types);
// A pipeline's results as a source of the pipelines reading it.
SourceInfo resultsOf(const PipelineConfig& pipeline);

// `fields:` of a source: field -> number | integer | string | bool. A generator's fields are
// fixed, so its declarations must agree with them.
std::vector<DeclaredField> readFields(YamlReader& reader, const Value& value, SourceInfo* info);
// Sets info->fields: `declared`, and for a generator its fields too.
void settleFieldTypes(SourceInfo* info, const std::vector<DeclaredField>& declared);
std::string_view fieldKindName(FieldKind kind);
ExprType exprType(FieldKind kind);
// The static type of `path` for a pipeline reading `sources`: the type they declare (kAny where
// none does, or two disagree).
ExprType fieldType(std::span<const SourceInfo* const> sources, const FieldPath& path);

// Whether the fields of `source`'s events are known from its config: a generator's, or the
// columns of a csv source that names them.
bool hasKnownFields(const SourceInfo& source);

// Reports `field` at `at` if `source`'s fields are known and do not include it.
void checkSourceField(YamlReader& reader, const Value& at, const FieldPath& field,
                      const SourceInfo& source);

}  // namespace rivulet::config
