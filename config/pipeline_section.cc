// One entry under `pipelines:`: its sources, key fields, window and aggregates.
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "config/aggregate_expr.h"
#include "config/duration.h"
#include "config/expression/grammar.h"
#include "config/expression/tokens.h"
#include "config/plan_graph.h"
#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kPipelineKeys[] = {
    "from", "group_by", "window", "allowed_lateness", "aggregates", "where", "having",
    "top",  "emit",     "late",   "max_keys",         "publish",    "join",  "lookup"};
constexpr std::string_view kJoinKeys[] = {"type", "left", "right"};
constexpr std::string_view kJoinSideKeys[] = {"from", "key", "fields", "where"};
constexpr std::string_view kJoinTypes[] = {"inner", "left"};
constexpr std::string_view kWindowKeys[] = {"tumbling", "hopping", "session"};
constexpr std::string_view kHoppingKeys[] = {"size", "slide"};
constexpr std::string_view kSessionKeys[] = {"gap"};
constexpr std::string_view kEmitModes[] = {"final", "updates"};
constexpr std::string_view kLateKeys[] = {"topic"};
constexpr std::string_view kTopKeys[] = {"n", "by", "order", "ties"};
constexpr std::string_view kOrders[] = {"desc", "asc"};
constexpr std::string_view kTies[] = {"keep", "drop"};
constexpr Nanos kMillisecond = 1'000'000;
// A hopping window is kept as size/gcd(size, slide) panes; more would make each event cost too
// much and each key's state too large.
constexpr Nanos kMaxPanes = 10'000;
// max_keys beyond this is a typo rather than a plan: 2^32 keys would not fit a stage's tables.
constexpr std::int64_t kMaxKeysLimit = std::int64_t{1} << 31;

void checkFieldOfSources(YamlReader& reader, const Value& at, const FieldPath& field,
                         const KnownSources& sources) {
  // One error per field is enough: report it against the first source that lacks it.
  for (const SourceInfo* source : sources) {
    const std::size_t before = reader.errorCount();
    checkSourceField(reader, at, field, *source);
    if (reader.errorCount() != before) return;
  }
}

// The sources `from` names, or the one pipeline whose results it reads: those whose fields are
// known into `known`, all of them into `all`.
std::vector<std::string> readFrom(YamlReader& reader, const Value& value,
                                  const SourceTable& sources, KnownSources* known,
                                  KnownSources* all) {
  std::vector<std::string> from;
  const auto items = reader.list(value, /*scalar_is_list=*/true);
  if (!items) return from;
  if (items->empty()) {
    reader.error(value, "at least one source is required");
    return from;
  }
  std::vector<std::string_view> names;
  for (const SourceInfo& source : sources.sources) names.push_back(source.name);
  for (const std::string& pipeline : sources.pipeline_names) names.push_back(pipeline);
  for (const Value& item : *items) {
    const auto name = reader.scalar(item, "a source name");
    if (!name) continue;
    if (std::find(from.begin(), from.end(), *name) != from.end()) {
      reader.error(item, quote(*name) + " is listed twice");
      continue;
    }
    from.push_back(*name);
    if (!sources.readable) continue;
    const auto named = [&](const SourceInfo& s) { return s.name == *name; };
    const auto source = std::find_if(sources.sources.begin(), sources.sources.end(), named);
    const auto pipeline = std::find_if(sources.pipelines.begin(), sources.pipelines.end(), named);
    if (source != sources.sources.end()) {
      all->push_back(&*source);
      if (hasKnownFields(*source)) known->push_back(&*source);
    } else if (pipeline != sources.pipelines.end()) {
      if (items->size() > 1) {
        reader.error(item, "pipeline " + quote(*name) +
                               " must be the only entry of from: a pipeline reads one pipeline's "
                               "results, or sources");
      } else if (!pipeline->unreadable.empty()) {
        reader.error(item, "pipeline " + quote(*name) + " cannot be read: " + pipeline->unreadable);
      }
      all->push_back(&*pipeline);
      known->push_back(&*pipeline);
    } else {
      reader.error(item, quote(*name) + " is not a source or a pipeline" +
                             suggestion(*name, names, "sources and pipelines"));
    }
  }
  return from;
}

// The group_by entries: field names, and expressions under a name of their own
// (`- bucket: floor(px / 10)`).
std::vector<GroupBySpec> readGroupBy(YamlReader& reader, const Value& value,
                                     const KnownSources& known, const FieldTypes& types) {
  std::vector<GroupBySpec> group_by;
  const auto items = reader.list(value, /*scalar_is_list=*/true);
  if (!items) return group_by;
  // Adds the entry unless an earlier one has its name, which is reported at the later name.
  const auto add = [&](GroupBySpec spec, const YAML::Mark& mark, const std::string& path) {
    if (std::any_of(group_by.begin(), group_by.end(),
                    [&](const GroupBySpec& g) { return g.name == spec.name; })) {
      reader.error(mark, path, quote(spec.name) + " is listed twice");
    } else {
      group_by.push_back(std::move(spec));
    }
  };
  for (const Value& item : *items) {
    if (item.node.IsMap()) {
      const MapReader map(reader, item);
      if (map.entries().size() != 1) {
        reader.error(item, "expected one \"name: expression\" entry, got " +
                               std::to_string(map.entries().size()));
        continue;
      }
      const Entry& entry = map.entries().front();
      const bool named = isFieldName(entry.key);
      if (!named) {
        reader.error(entry.key_mark, entry.value.path,
                     quote(entry.key) +
                         " is not a valid name (letters, digits and '_', not starting with a "
                         "digit)");
      }
      auto expression = readExpression(reader, entry.value, ExprType::kAny,
                                       "an expression such as floor(price / 10)", known, types);
      if (named && expression) {
        add(GroupBySpec{entry.key, std::move(expression)}, entry.key_mark, entry.value.path);
      }
      continue;
    }
    const auto field = reader.scalar(item, "a field name or \"name: expression\"");
    if (!field) continue;
    if (!isFieldName(*field)) {
      reader.error(item, quote(*field) +
                             " is not a field name (letters, digits and '_', not starting with "
                             "a digit; an expression or a nested field needs a name: "
                             "- name: expression)");
      continue;
    }
    checkFieldOfSources(reader, item, FieldPath{{*field}}, known);
    add(GroupBySpec{*field}, item.mark, item.path);
  }
  return group_by;
}

// A window length: > 0 and whole milliseconds, since results carry millisecond bounds.
std::optional<Nanos> readWindowLength(YamlReader& reader, const Value& value) {
  const auto length = reader.duration(value);
  if (!length) return std::nullopt;
  const std::string text = quote(value.node.Scalar());
  if (*length == 0) {
    reader.error(value, text + " is too short (a window is at least 1ms)");
    return std::nullopt;
  }
  if (*length % kMillisecond != 0) {
    reader.error(value, text + " is not a whole number of milliseconds");
    return std::nullopt;
  }
  return length;
}

void readHopping(YamlReader& reader, const Value& value, WindowSpec* window) {
  auto map = reader.map(value);
  if (!map) return;
  const Entry* size_entry = map->require("size");
  const Entry* slide_entry = map->require("slide");
  const auto size = size_entry ? readWindowLength(reader, size_entry->value) : std::nullopt;
  const auto slide = slide_entry ? readWindowLength(reader, slide_entry->value) : std::nullopt;
  map->reportUnknown(kHoppingKeys);
  if (!size || !slide) return;
  const std::string size_text = quote(size_entry->value.node.Scalar());
  const std::string slide_text = quote(slide_entry->value.node.Scalar());
  if (*slide > *size) {
    reader.error(slide_entry->value, "slide " + slide_text + " is longer than size " + size_text);
    return;
  }
  const Nanos panes = *size / std::gcd(*size, *slide);
  if (panes > kMaxPanes) {
    reader.error(slide_entry->value, "size " + size_text + " and slide " + slide_text + " need " +
                                         std::to_string(panes) + " panes per window (at most " +
                                         std::to_string(kMaxPanes) +
                                         "); use a slide that divides the size");
    return;
  }
  window->kind = WindowKind::kHopping;
  window->size = *size;
  window->slide = *slide;
}

void readSession(YamlReader& reader, const Value& value, WindowSpec* window) {
  auto map = reader.map(value);
  if (!map) return;
  const Entry* gap_entry = map->require("gap");
  const auto gap = gap_entry ? readWindowLength(reader, gap_entry->value) : std::nullopt;
  map->reportUnknown(kSessionKeys);
  if (!gap) return;
  window->kind = WindowKind::kSession;
  window->size = *gap;
  window->slide = 0;
}

void readWindow(YamlReader& reader, const Value& value, WindowSpec* window) {
  auto map = reader.map(value);
  if (!map) return;
  const std::size_t errors_before = reader.errorCount();
  const Entry* kinds[] = {map->find("tumbling"), map->find("hopping"), map->find("session")};
  map->reportUnknown(kWindowKeys);
  const Entry* first = nullptr;
  for (const Entry* kind : kinds) {
    if (kind == nullptr) continue;
    if (first == nullptr || kind->key_mark.pos < first->key_mark.pos) first = kind;
  }
  for (const Entry* kind : kinds) {
    if (kind != nullptr && kind != first) {
      reader.error(kind->key_mark, kind->value.path,
                   "a window is one of tumbling, hopping or session, not several");
      return;
    }
  }
  if (first == nullptr) {
    // Only when nothing else was said about this map: after a typo ("tumblng") it is noise.
    if (reader.errorCount() == errors_before) {
      reader.error(value, "missing \"tumbling\", \"hopping\" or \"session\" (e.g. tumbling: 1m)");
    }
  } else if (first == kinds[0]) {
    if (const auto size = readWindowLength(reader, first->value)) {
      window->kind = WindowKind::kTumbling;
      window->size = *size;
      window->slide = *size;
    }
  } else if (first == kinds[1]) {
    readHopping(reader, first->value, window);
  } else {
    readSession(reader, first->value, window);
  }
}

bool readEmitUpdates(YamlReader& reader, const Value& value) {
  const auto mode = reader.scalar(value, "an emit mode");
  if (!mode || *mode == "final") return false;
  if (*mode == "updates") return true;
  {
    reader.error(value, quote(*mode) + " is not an emit mode" +
                            suggestion(*mode, kEmitModes, "expected one of"));
  }
  return false;
}

// What an aggregate's argument must be: a condition for count_if, any value for count_distinct
// and top_k (they count strings and bools too), a number for the rest.
ExprType argumentType(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kCountIf:
      return ExprType::kBool;
    case AggregateKind::kCountDistinct:
    case AggregateKind::kTopK:
      return ExprType::kAny;
    default:
      return ExprType::kNumber;
  }
}

// Checks that an aggregate's argument reads only fields its sources have, where they are known.
void checkArgumentFields(YamlReader& reader, const Entry& entry, const AggregateSpec& spec,
                         const KnownSources& known) {
  if (spec.argument) {
    for (const FieldPath& f : spec.argument->fields()) {
      checkFieldOfSources(reader, entry.value, f, known);
    }
  } else if (spec.kind != AggregateKind::kCount) {
    checkFieldOfSources(reader, entry.value, FieldPath{{spec.field}}, known);
  }
}

// Checks an aggregate's argument against the fields' declared types.
void checkArgumentType(YamlReader& reader, const Entry& entry, const std::string& text,
                       const AggregateSpec& spec, const FieldTypes& types) {
  const ExprType want = argumentType(spec.kind);
  if (spec.argument) {
    const ExpressionResult typed = parseExpression(spec.argument->text(), types);
    if (!typed.errors.empty()) {
      reader.error(entry.value, quote(text) + ": " + typed.errors.front().message);
    } else if (const auto e = checkResultType(*typed.expression, want)) {
      reader.error(entry.value, quote(text) + ": " + e->message);
    }
    return;
  }
  const ExprType declared = types(FieldPath{{spec.field}});
  if (want != ExprType::kAny && declared != ExprType::kAny && declared != want) {
    reader.error(entry.value, quote(text) + ": " + quote(spec.field) + " is declared " +
                                  std::string(typeName(declared)) +
                                  ", and the argument must be a " + std::string(typeName(want)));
  }
}

// Whether `text` is one aggregate call and nothing after it: `sum(qty)`, not `sum(a) / sum(b)`,
// `upper(sym)` or `max(max(px), 0)` (min and max of two or more arguments are functions). Text
// that does not tokenize, or whose call is not closed, counts as one call, for parseAggregate's
// message.
bool isOneCall(std::string_view text) {
  const std::vector<expr::Token> tokens = expr::tokenize(text);
  using expr::Tok;
  if (tokens.size() < 3 || tokens[0].kind != Tok::kName || tokens[1].kind != Tok::kLeftParen) {
    return false;
  }
  const std::string name =
      expr::lowerCase(text.substr(tokens[0].begin, tokens[0].end - tokens[0].begin));
  int depth = 0;
  bool several = false;  // arguments at the call's own level
  std::size_t i = 1;
  for (; i < tokens.size(); ++i) {
    const Tok kind = tokens[i].kind;
    if (kind == Tok::kEnd || kind == Tok::kError) return true;
    if (kind == Tok::kLeftParen || kind == Tok::kLeftBracket) ++depth;
    if (kind == Tok::kRightParen || kind == Tok::kRightBracket) --depth;
    several = several || (depth == 1 && kind == Tok::kComma);
    if (depth == 0) break;
  }
  if (tokens[i + 1].kind != Tok::kEnd) return false;
  if (isAggregateFunction(name)) return !(several && (name == "min" || name == "max"));
  // A function of neither kind is a misspelt aggregate more likely than anything: parseAggregate
  // suggests the aggregate it meant.
  return std::none_of(std::begin(expr::kFunctions), std::end(expr::kFunctions),
                      [&](const expr::FunctionInfo& f) { return f.name == name; });
}

// The type of an aggregate's value; top_k's is a list, which no expression takes.
ExprType valueType(AggregateKind kind) {
  return kind == AggregateKind::kTopK ? ExprType::kAny : ExprType::kNumber;
}

// What a computed value or `having:` reads: the pipeline's aggregates, its group_by keys and the
// computed values so far by name, and aggregates called inline, which become hidden aggregates of
// the pipeline (one per distinct call text).
class ResultScope {
 public:
  ResultScope(YamlReader& reader, PipelineConfig& pipeline, const KnownSources& known,
              const FieldTypes& types)
      : reader_(reader), pipeline_(pipeline), known_(known), types_(types) {
    for (const GroupBySpec& g : pipeline.group_by) {
      add(g.name, g.expression ? g.expression->type() : types(FieldPath{{g.name}}));
    }
  }

  void add(const std::string& name, ExprType type) { names_.push_back({name, type}); }

  // Reads `entry`'s expression, checked to give `want`, or reports its errors.
  std::optional<Expression> read(const Entry& entry, ExprType want, std::string_view expected) {
    const auto text = reader_.scalar(entry.value, expected);
    if (!text) return std::nullopt;
    const auto at = [&](std::uint32_t offset) { return markAt(entry.value, *text, offset); };
    const FieldTypes types = [this](const FieldPath& path) { return typeOf(path); };
    ExpressionResult parsed = parseResultExpression(*text, types, isAggregateFunction);
    for (const ExprError& e : parsed.errors)
      reader_.error(at(e.offset), entry.value.path, e.message);
    if (!parsed.expression) return std::nullopt;
    if (const auto e = checkResultType(*parsed.expression, want)) {
      reader_.error(at(e->offset), entry.value.path, e->message);
      return std::nullopt;
    }
    bool usable = true;
    for (const FieldPath& field : parsed.expression->fields()) {
      usable = resolve(entry, field) && usable;
    }
    if (!usable) return std::nullopt;
    return std::move(parsed.expression);
  }

 private:
  struct Name {
    std::string name;
    ExprType type;
  };

  ExprType typeOf(const FieldPath& path) const {
    if (path.segments.size() != 1) return ExprType::kAny;
    const std::string& name = path.segments.front();
    for (const Name& n : names_) {
      if (n.name == name) return n.type;
    }
    std::string ignored;
    if (const auto call = parseAggregate(name, &ignored)) return valueType(call->kind);
    return ExprType::kAny;
  }

  // A name the expression reads: known, or an aggregate call, added as a hidden aggregate.
  bool resolve(const Entry& entry, const FieldPath& field) {
    const std::string& name = field.segments.front();
    const bool call = field.segments.size() == 1 && name.find('(') != std::string::npos;
    if (!call) {
      if (field.segments.size() == 1 &&
          std::any_of(names_.begin(), names_.end(),
                      [&](const Name& n) { return n.name == name; })) {
        return true;
      }
      std::vector<std::string_view> names;
      for (const Name& n : names_) names.push_back(n.name);
      reader_.error(entry.value,
                    quote(field.toString()) +
                        " is not a value of the results: outside an aggregate call, a computed "
                        "value or having reads the aggregates, the group_by keys and the "
                        "computed values before it (an event field is read through an aggregate, "
                        "e.g. sum(" +
                        (isFieldName(name) ? name : std::string("qty")) + "))" +
                        suggestion(name, names, "names"));
      return false;
    }
    std::string message;
    auto spec = parseAggregate(name, &message);
    if (!spec) {
      reader_.error(entry.value, std::move(message));
      return false;
    }
    if (spec->kind == AggregateKind::kTopK) {
      reader_.error(entry.value,
                    quote(name) + " is a list of items: an expression cannot compute with it");
      return false;
    }
    if (std::any_of(pipeline_.aggregates.begin(), pipeline_.aggregates.end(),
                    [&](const AggregateSpec& a) { return a.hidden && a.name == name; })) {
      return true;
    }
    const std::size_t before = reader_.errorCount();
    checkArgumentFields(reader_, entry, *spec, known_);
    if (spec->kind != AggregateKind::kCount) {
      checkArgumentType(reader_, entry, name, *spec, types_);
    }
    if (reader_.errorCount() != before) return false;
    spec->name = name;
    spec->hidden = true;
    pipeline_.aggregates.push_back(std::move(*spec));
    return true;
  }

  YamlReader& reader_;
  PipelineConfig& pipeline_;
  const KnownSources& known_;
  const FieldTypes& types_;
  std::vector<Name> names_;
};

// One of `choices` (the first is the default when absent): its index.
std::size_t readChoice(YamlReader& reader, MapReader& map, std::string_view key,
                       std::span<const std::string_view> choices, std::string_view what) {
  const Entry* e = map.find(key);
  if (!e) return 0;
  const auto text = reader.scalar(e->value, what);
  if (!text) return 0;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (*text == choices[i]) return i;
  }
  reader.error(e->value, quote(*text) + " is not " + std::string(what) +
                             suggestion(*text, choices, "expected one of"));
  return 0;
}

// `top: {n, by, order, ties}`, for windows whose results are final once: not sessions (a window
// per key, nothing to rank it against) and not emit: updates.
std::optional<TopSpec> readTop(YamlReader& reader, const Entry& entry, ResultScope& scope,
                               const PipelineConfig& pipeline) {
  auto map = reader.map(entry.value);
  if (!map) return std::nullopt;
  const Entry* n = map->require("n");
  const Entry* by = map->require("by");
  const std::int64_t count = n ? reader.integer(n->value, 1, kMaxTopN).value_or(0) : 0;
  auto expression =
      by ? scope.read(*by, ExprType::kNumber, "an expression such as \"volume\"") : std::nullopt;
  const bool ascending = readChoice(reader, *map, "order", kOrders, "an order") == 1;
  const bool keep_ties = readChoice(reader, *map, "ties", kTies, "a ties rule") == 0;
  map->reportUnknown(kTopKeys);
  if (pipeline.window.kind == WindowKind::kSession) {
    reader.error(entry.key_mark, entry.value.path,
                 "top ranks the results of a window, and a session is a window of one key");
    return std::nullopt;
  }
  if (pipeline.emit_updates) {
    reader.error(entry.key_mark, entry.value.path,
                 "top ranks each window's final results once: it cannot follow emit: updates");
    return std::nullopt;
  }
  if (count == 0 || !expression) return std::nullopt;
  return TopSpec{count, std::move(*expression), ascending, keep_ties};
}

// `aggregates:`: each entry an aggregate call (`sum(qty)`), or a value computed from aggregates
// (`sum(price * qty) / sum(qty)`), read once the plain ones are all known.
void readAggregates(YamlReader& reader, const Value& value, ResultScope& scope,
                    PipelineConfig& pipeline, const KnownSources& known, const FieldTypes& types) {
  auto map = reader.map(value);
  if (!map) return;
  if (map->empty()) {
    reader.error(value, "at least one aggregate is required");
    return;
  }
  std::vector<std::pair<const Entry*, std::size_t>> computed;  // with their positions
  std::size_t position = 0;
  for (const Entry& entry : map->entries()) {
    map->markUsed(entry);
    if (entry.key.empty()) {
      reader.error(entry.key_mark, entry.value.path, "an aggregate name must not be empty");
    } else if (std::any_of(pipeline.group_by.begin(), pipeline.group_by.end(),
                           [&](const GroupBySpec& g) { return g.name == entry.key; })) {
      reader.error(entry.key_mark, entry.value.path,
                   quote(entry.key) + " is both a group_by name and an aggregate name");
    }
    const auto text = reader.scalar(entry.value, "an aggregate such as sum(field)");
    if (!text) continue;
    if (!isOneCall(*text)) {
      computed.push_back({&entry, position++});
      continue;
    }
    ++position;
    std::string message;
    auto spec = parseAggregate(*text, &message);
    if (!spec) {
      reader.error(entry.value, std::move(message));
      continue;
    }
    checkArgumentFields(reader, entry, *spec, known);
    if (spec->kind != AggregateKind::kCount) checkArgumentType(reader, entry, *text, *spec, types);
    spec->name = entry.key;
    scope.add(spec->name, valueType(spec->kind));
    pipeline.aggregates.push_back(std::move(*spec));
  }
  for (const auto& [entry, at] : computed) {
    auto expression = scope.read(*entry, ExprType::kAny,
                                 "an aggregate such as sum(field), or an expression over them");
    if (!expression) continue;
    scope.add(entry->key, expression->type());
    pipeline.computed.push_back(ComputedSpec{entry->key, std::move(*expression), at});
  }
}

// One side of `join:`: {from, key, fields, where}. `info` is set to what it reads, if known.
JoinSide readJoinSide(YamlReader& reader, const Value& value, const SourceTable& sources,
                      const SourceInfo** info) {
  JoinSide side;
  auto map = reader.map(value);
  if (!map) return side;
  KnownSources known;
  if (const Entry* e = map->require("from")) {
    if (const auto name = reader.scalar(e->value, "a source or pipeline name")) {
      side.from = *name;
      const auto named = [&](const SourceInfo& s) { return s.name == *name; };
      const auto source = std::find_if(sources.sources.begin(), sources.sources.end(), named);
      const auto pipeline = std::find_if(sources.pipelines.begin(), sources.pipelines.end(), named);
      std::vector<std::string_view> names;
      for (const SourceInfo& s : sources.sources) names.push_back(s.name);
      for (const std::string& p : sources.pipeline_names) names.push_back(p);
      if (source != sources.sources.end()) {
        *info = &*source;
      } else if (pipeline != sources.pipelines.end()) {
        if (pipeline->unreadable.empty()) {
          *info = &*pipeline;
        } else {  // reported once: its fields and tier are beside the point
          reader.error(e->value,
                       "pipeline " + quote(*name) + " cannot be read: " + pipeline->unreadable);
        }
      } else if (sources.readable) {
        reader.error(e->value, quote(*name) + " is not a source or a pipeline" +
                                   suggestion(*name, names, "sources and pipelines"));
      }
    }
  }
  if (*info != nullptr && hasKnownFields(**info)) known.push_back(*info);
  const KnownSources all = *info != nullptr ? KnownSources{*info} : KnownSources{};
  const FieldTypes types = [&all](const FieldPath& path) { return fieldType(all, path); };
  if (const Entry* e = map->require("key")) side.key = readGroupBy(reader, e->value, known, types);
  if (const Entry* e = map->find("fields")) {
    side.fields = readGroupBy(reader, e->value, known, types);
  }
  if (const Entry* e = map->find("where")) {
    side.where = readExpression(reader, e->value, ExprType::kBool,
                                "an expression such as \"event_type == 0\"", known, types);
  }
  map->reportUnknown(kJoinSideKeys);
  return side;
}

// `join: {type, left, right}`: sets the pipeline's from (the sides' inputs) and group_by (the left
// key, which names the results' key); `all` gets what the sides read.
std::optional<JoinSpec> readJoin(YamlReader& reader, const Entry& entry, const SourceTable& sources,
                                 PipelineConfig& pipeline, KnownSources* all) {
  auto map = reader.map(entry.value);
  if (!map) return std::nullopt;
  JoinSpec join;
  if (const Entry* e = map->find("type")) {
    if (const auto type = reader.scalar(e->value, "a join type")) {
      if (*type == "left") {
        join.left_outer = true;
      } else if (*type != "inner") {
        reader.error(e->value, quote(*type) + " is not a join type" +
                                   suggestion(*type, kJoinTypes, "expected one of"));
      }
    }
  }
  const SourceInfo* left = nullptr;
  const SourceInfo* right = nullptr;
  const Entry* left_entry = map->require("left");
  const Entry* right_entry = map->require("right");
  if (left_entry) join.left = readJoinSide(reader, left_entry->value, sources, &left);
  if (right_entry) join.right = readJoinSide(reader, right_entry->value, sources, &right);
  map->reportUnknown(kJoinKeys);
  if (!left_entry || !right_entry) return std::nullopt;
  if (join.left.key.size() != join.right.key.size()) {
    reader.error(right_entry->value, "the right key has " + std::to_string(join.right.key.size()) +
                                         " parts and the left key " +
                                         std::to_string(join.left.key.size()) +
                                         ": a join compares them part by part");
  }
  // Both sides' events reach the same stages: two sources, or two pipelines of one tier.
  if (left != nullptr && right != nullptr &&
      (left->results != right->results || left->tier != right->tier)) {
    reader.error(right_entry->value,
                 "a join reads two sources, or two pipelines that read the same tier of inputs");
  }
  // The results' values: the left fields, then the right's; the key carries the left key.
  std::vector<std::string> names;
  for (const GroupBySpec& k : join.left.key) names.push_back(k.name);
  for (const JoinSide* side : {&join.left, &join.right}) {
    for (const GroupBySpec& f : side->fields) {
      if (std::find(names.begin(), names.end(), f.name) != names.end()) {
        reader.error(entry.value, quote(f.name) +
                                      " names two values of the results (rename one: "
                                      "\"alias: field\")");
      }
      names.push_back(f.name);
    }
  }
  pipeline.from.push_back(join.left.from);
  if (join.right.from != join.left.from) pipeline.from.push_back(join.right.from);
  pipeline.group_by = join.left.key;
  if (left != nullptr) all->push_back(left);
  if (right != nullptr && right != left) all->push_back(right);
  return join;
}

}  // namespace

YAML::Mark markAt(const Value& value, const std::string& text, std::uint32_t offset) {
  YAML::Mark mark = value.mark;
  if (text.find('\n') == std::string::npos) {
    mark.column += static_cast<int>(offset) + (value.node.Tag() == "!" ? 1 : 0);
  }
  return mark;
}

std::optional<Expression> readExpression(YamlReader& reader, const Value& value, ExprType want,
                                         std::string_view expected, const KnownSources& known,
                                         const FieldTypes& types) {
  const auto text = reader.scalar(value, expected);
  if (!text) return std::nullopt;
  const auto at = [&](std::uint32_t offset) { return markAt(value, *text, offset); };
  ExpressionResult parsed = parseExpression(*text, types);
  for (const ExprError& e : parsed.errors) reader.error(at(e.offset), value.path, e.message);
  if (!parsed.expression) return std::nullopt;
  if (const auto e = checkResultType(*parsed.expression, want)) {
    reader.error(at(e->offset), value.path, e->message);
    return std::nullopt;
  }
  bool usable = true;
  for (const FieldPath& field : parsed.expression->fields()) {
    const std::size_t before = reader.errorCount();
    checkFieldOfSources(reader, value, field, known);
    usable = usable && reader.errorCount() == before;
  }
  if (!usable) return std::nullopt;
  return std::move(parsed.expression);
}

PipelineConfig readPipeline(YamlReader& reader, const Entry& entry, const SourceTable& sources,
                            std::vector<TableSpec>& tables) {
  PipelineConfig pipeline;
  pipeline.name = entry.key;
  reader.checkName(entry, "pipeline");
  auto map = reader.map(entry.value);
  if (!map) return pipeline;

  KnownSources known, all;
  // A join names its inputs and keys per side, and its rows are its results.
  const Entry* join = map->find("join");
  if (join != nullptr) {
    pipeline.join = readJoin(reader, *join, sources, pipeline, &all);
    for (const std::string_view key :
         {"from", "group_by", "aggregates", "where", "having", "top", "lookup"}) {
      if (const Entry* e = map->find(key)) {
        reader.error(e->key_mark, e->value.path,
                     quote(key) + " does not go with join: " +
                         (key == "from" || key == "group_by" || key == "where"
                              ? "each side has its own from, key and where"
                          : key == "lookup" ? "enrich the sides' inputs in pipelines of their own"
                                            : "each joined row is one result"));
      }
    }
  } else if (const Entry* e = map->require("from")) {
    pipeline.from = readFrom(reader, e->value, sources, &known, &all);
  }
  std::vector<SourceInfo> enriched;  // what known and all point to after lookup:
  if (const Entry* e = map->find("lookup"); e != nullptr && join == nullptr) {
    pipeline.lookups = readLookups(reader, e->value, tables, known, all, enriched);
  }
  const FieldTypes types = [&all](const FieldPath& path) { return fieldType(all, path); };
  if (const Entry* e = map->find("group_by"); e != nullptr && join == nullptr) {
    pipeline.group_by = readGroupBy(reader, e->value, known, types);
  }
  if (const Entry* e = map->require("window")) {
    // `window: upstream`: one window per window of the pipeline it reads.
    if (e->value.node.IsScalar() && e->value.node.Scalar() == "upstream") {
      if (!all.empty() && all[0]->results) {
        pipeline.window =
            WindowSpec{WindowKind::kTumbling, all[0]->result_slide, all[0]->result_slide};
      } else if (all.size() == pipeline.from.size()) {  // else from: or join: has been reported
        reader.error(e->value, "window: upstream needs from: to name a pipeline");
      }
    } else {
      readWindow(reader, e->value, &pipeline.window);
    }
  }
  if (const Entry* e = map->find("allowed_lateness")) {
    pipeline.allowed_lateness = reader.duration(e->value).value_or(0);
  }
  ResultScope scope(reader, pipeline, known, types);
  if (join != nullptr) {
    if (pipeline.window.kind == WindowKind::kSession) {
      reader.error(map->find("window")->value, "a join needs tumbling or hopping windows");
    }
    if (const Entry* e = map->find("emit"); e != nullptr && readEmitUpdates(reader, e->value)) {
      reader.error(e->value, "a join emits final results only");
    }
    if (const Entry* e = map->find("publish")) {
      pipeline.publish = reader.boolean(e->value).value_or(true);
    }
    map->find("allowed_lateness");
    map->find("late");
    map->find("max_keys");
    map->reportUnknown(kPipelineKeys);
    return pipeline;
  }
  if (const Entry* e = map->require("aggregates")) {
    readAggregates(reader, e->value, scope, pipeline, known, types);
  }
  if (const Entry* e = map->find("having")) {
    pipeline.having = scope.read(*e, ExprType::kBool, "a condition on results such as \"n > 10\"");
  }
  if (const Entry* e = map->find("emit")) pipeline.emit_updates = readEmitUpdates(reader, e->value);
  if (const Entry* e = map->find("top")) pipeline.top = readTop(reader, *e, scope, pipeline);
  if (const Entry* e = map->find("max_keys")) {
    pipeline.max_keys = reader.integer(e->value, 1, kMaxKeysLimit).value_or(0);
  }
  if (const Entry* e = map->find("late")) {
    if (auto late = reader.map(e->value)) {
      if (const Entry* topic = late->find("topic")) {
        pipeline.late_topic = reader.boolean(topic->value).value_or(false);
      }
      late->reportUnknown(kLateKeys);
    }
  }
  if (const Entry* e = map->find("where")) {
    pipeline.where = readExpression(reader, e->value, ExprType::kBool,
                                    "an expression such as \"qty > 0\"", known, types);
  }
  if (const Entry* e = map->find("publish")) {
    pipeline.publish = reader.boolean(e->value).value_or(true);
  }
  map->reportUnknown(kPipelineKeys);
  return pipeline;
}

}  // namespace rivulet::config
