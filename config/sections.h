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

PipelineConfig readPipeline(YamlReader& reader, const Entry& entry, const SourceTable& sources);
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
