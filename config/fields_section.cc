// A source's `fields:` (the types its events' fields are declared to have) and the types of what
// the pipelines read from it, which the expressions and aggregates are checked against.
#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kKindNames[] = {"number", "integer", "string", "bool"};

// The nexmark profile's text fields; its others are integers.
constexpr std::string_view kNexmarkTexts[] = {"name",  "email_address", "credit_card", "city",
                                              "state", "item_name",     "channel"};

// The fields of a generator's events and their types, by profile.
std::vector<DeclaredField> generatorFields(GeneratorProfile profile) {
  const auto field = [](std::string_view name, FieldKind kind) {
    return DeclaredField{FieldPath{{std::string(name)}}, kind};
  };
  if (profile == GeneratorProfile::kNexmark) {
    std::vector<DeclaredField> fields;
    for (std::string_view name : kNexmarkFields) {
      const bool text = std::find(std::begin(kNexmarkTexts), std::end(kNexmarkTexts), name) !=
                        std::end(kNexmarkTexts);
      fields.push_back(field(name, text ? FieldKind::kString : FieldKind::kInteger));
    }
    return fields;
  }
  return {field("ts", FieldKind::kInteger), field("key", FieldKind::kString),
          field("value", FieldKind::kNumber)};
}

const DeclaredField* findField(const std::vector<DeclaredField>& fields, const FieldPath& path) {
  const auto it = std::find_if(fields.begin(), fields.end(),
                               [&](const DeclaredField& f) { return f.path == path; });
  return it == fields.end() ? nullptr : &*it;
}

}  // namespace

std::string_view fieldKindName(FieldKind kind) {
  return kKindNames[static_cast<std::size_t>(kind)];
}

ExprType exprType(FieldKind kind) {
  switch (kind) {
    case FieldKind::kNumber:
    case FieldKind::kInteger:
      return ExprType::kNumber;
    case FieldKind::kString:
      return ExprType::kString;
    case FieldKind::kBool:
      return ExprType::kBool;
  }
  return ExprType::kAny;
}

std::vector<DeclaredField> readFields(YamlReader& reader, const Value& value, SourceInfo* info) {
  std::vector<DeclaredField> declared;
  auto map = reader.map(value);
  if (!map) return declared;
  const bool generator = info->kind == SourceKind::kGenerator;
  for (const Entry& entry : map->entries()) {
    map->markUsed(entry);
    // A key is a field as expressions write it: `price`, `order.qty`, `odd name`.
    ExpressionResult parsed = parseExpression(entry.key);
    if (!parsed.expression || !parsed.expression->isFieldReference()) {
      reader.error(entry.key_mark, entry.value.path,
                   quote(entry.key) +
                       " is not a field (a name, a nested field such as order.qty, "
                       "or a backquoted name)");
      continue;
    }
    const FieldPath path = parsed.expression->fields().front();
    const auto kind = reader.choice(entry.value, kKindNames, "a field type");
    if (!kind) continue;
    const auto at = std::find(std::begin(kKindNames), std::end(kKindNames), *kind);
    const DeclaredField field{path, static_cast<FieldKind>(at - std::begin(kKindNames))};
    if (findField(declared, path) != nullptr) {
      reader.error(entry.key_mark, entry.value.path, quote(path.toString()) + " is listed twice");
      continue;
    }
    if (generator) {
      // Its fields and their types are fixed: a declaration can only repeat them.
      const std::vector<DeclaredField> fixed = generatorFields(info->profile);
      const DeclaredField* known = findField(fixed, path);
      if (known == nullptr) {
        checkSourceField(reader, entry.value, path, *info);
        continue;
      }
      if (exprType(known->kind) != exprType(field.kind) ||
          (field.kind == FieldKind::kInteger && known->kind != FieldKind::kInteger)) {
        reader.error(entry.value, quote(path.toString()) + " of generator source " +
                                      quote(info->name) + " is " +
                                      std::string(fieldKindName(known->kind)) + ", not " + *kind);
        continue;
      }
    }
    declared.push_back(field);
  }
  return declared;
}

void settleFieldTypes(SourceInfo* info, const std::vector<DeclaredField>& declared) {
  info->fields = declared;
  if (info->kind != SourceKind::kGenerator) return;
  for (const DeclaredField& field : generatorFields(info->profile)) {
    if (findField(info->fields, field.path) == nullptr) info->fields.push_back(field);
  }
}

ExprType fieldType(std::span<const SourceInfo* const> sources, const FieldPath& path) {
  ExprType type = ExprType::kAny;
  for (const SourceInfo* source : sources) {
    const DeclaredField* field = findField(source->fields, path);
    if (field == nullptr) continue;
    const ExprType declared = exprType(field->kind);
    if (type != ExprType::kAny && type != declared) return ExprType::kAny;  // they disagree
    type = declared;
  }
  return type;
}

}  // namespace rivulet::config
