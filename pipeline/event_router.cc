#include "pipeline/event_router.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "pipeline/model/hash.h"
#include "pipeline/model/key.h"
#include "pipeline/model/number_text.h"
#include "pipeline/reconfiguration.h"
#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::pipeline {
namespace {

__extension__ using Wide = __int128;

// The reason a pipeline refuses an event whose expression failed.
ErrorReason reasonOf(config::EvalError error) noexcept {
  return error == config::EvalError::kTooLarge ? ErrorReason::kTooLarge : ErrorReason::kWrongType;
}

// Records are published to the stage once this many bytes are staged on a ring, or at flush().
// Measured (bench/ring_bench.cc): publishing every 2 KiB keeps the consumer right behind the
// producer, so each publish costs two cache-line transfers; 16 KiB amortises them ~5x better.
constexpr std::size_t kPublishBatch = 16384 / sizeof(Cell);

// Ring space that every record but the end of the stream leaves free, so that the end always fits:
// a source stopped while a stage does not consume still ends its stream without waiting, and the
// stage, should it consume again, drains up to the end and finishes instead of waiting forever.
constexpr std::size_t kEndCells = sizeof(RecordHeader) / sizeof(Cell);

// How long a source being stopped waits for room on a stage ring that does not drain: a stage
// that consumes nothing for this long is taken to be stuck, and the event in hand is dropped.
constexpr std::int64_t kStuckStageNs = 1'000'000'000;

// The key part type of `field`; false (with the reason) if it cannot be part of a key.
bool keyPartType(const config::FieldValue& field, KeyPartType& type, ErrorReason& reason) noexcept {
  switch (field.type) {
    case config::FieldType::kString:
      type = KeyPartType::kString;
      return true;
    case config::FieldType::kNumber:
      type = KeyPartType::kNumber;
      return true;
    case config::FieldType::kBool:
      type = KeyPartType::kBool;
      return true;
    case config::FieldType::kMissing:
    case config::FieldType::kNull:
      reason = ErrorReason::kMissingField;
      return false;
    default:
      reason = ErrorReason::kWrongType;
      return false;
  }
}

// A part of a key (an entry of a route's key_fields): the event's field, or for ~i the computed
// part computed[i].
const config::FieldValue& keyPart(int field, const config::FieldValue* fields,
                                  const config::FieldValue* computed) noexcept {
  return field >= 0 ? fields[field] : computed[~field];
}

// The hash of the key an event has for `route` (== hashEncodedKey of its encoding). An event
// whose key parts are unusable hashes to something arbitrary; it is refused while it is built.
std::uint64_t keyHash(const SourcePlan::Route& route, const config::FieldValue* fields,
                      const config::FieldValue* computed) noexcept {
  KeyHasher hasher;
  const int* const end = route.key_fields.data() + route.hashed_parts;
  for (const int* field = route.key_fields.data(); field != end; ++field) {
    const config::FieldValue& part = keyPart(*field, fields, computed);
    KeyPartType type = KeyPartType::kString;
    std::string_view text = part.text;
    ErrorReason unused;
    if (!keyPartType(part, type, unused)) {  // a null part where one may be (appendKey)
      type = KeyPartType::kNull;
      text = kNullPartText;
    }
    hasher.add(static_cast<char>(type), text);
  }
  return hasher.finish();
}

// Whether part `k` of `route`, refused for `reason`, is a null part instead (clearing the
// reason). Out of line: appendKey stays small enough to inline what it calls.
[[gnu::noinline, gnu::cold]] bool nullPart(const SourcePlan::Route& route, std::size_t k,
                                           ErrorReason& reason) noexcept {
  const bool nullable = k >= route.hashed_parts || (k < 64 && (route.nullable_parts >> k & 1));
  if (!nullable || reason != ErrorReason::kMissingField) return false;
  reason = ErrorReason::kNone;
  return true;
}

// Appends the record's key part for `field`; false (with the reason) if it cannot be a key.
// Forced inline: a writer passed to a call by reference is kept in memory, not registers, for the
// whole event.
// Part `k` of `route`: past its hashed parts (a join row's field), or a lookup's field, it may
// be null, a kNull part; that is looked at only when the part is refused, so other routes pay
// nothing for it.
[[gnu::always_inline]] inline bool appendKey(RecordWriter& record, const config::FieldValue& field,
                                             const SourcePlan::Route& route, std::size_t k,
                                             ErrorReason& reason) noexcept {
  KeyPartType type;
  std::string_view text = field.text;
  if (!keyPartType(field, type, reason)) [[unlikely]] {
    if (!nullPart(route, k, reason)) return false;
    type = KeyPartType::kNull;
    text = kNullPartText;
  }
  if (record.header().key_size + kKeyPartHeader + text.size() > kMaxKeyBytes) {
    reason = ErrorReason::kKeyTooLong;
    return false;
  }
  struct Appender {
    RecordWriter& r;
    void append(const char* p, std::size_t n) { r.append(p, n); }
  } out{record};
  appendKeyPart(out, type, text);
  record.header().key_size += static_cast<std::uint16_t>(kKeyPartHeader + text.size());
  return true;
}

// A field as an aggregate argument of any type sees it (what an expression reading it gives, plus
// a number's JSON text).
config::ExprValue fieldArgument(const config::FieldValue& field) noexcept {
  config::ExprValue value;
  switch (field.type) {
    case config::FieldType::kMissing:
    case config::FieldType::kNull:
      break;
    case config::FieldType::kNumber:
      value.kind = config::ValueKind::kNumber;
      value.number = field.number;
      value.text = field.text;
      break;
    case config::FieldType::kString:
      value.kind = config::ValueKind::kString;
      value.text = field.text;
      break;
    case config::FieldType::kBool:
      value.kind = config::ValueKind::kBool;
      value.boolean = field.text == "true";
      break;
    default:
      value.kind = config::ValueKind::kError;
      value.error = config::EvalError::kWrongType;
      break;
  }
  return value;
}

// count_distinct's hash of a non-null argument.
std::uint64_t argumentHash(const config::ExprValue& value) noexcept {
  switch (value.kind) {
    case config::ValueKind::kNumber:
      return distinctHash(value.number);
    case config::ValueKind::kBool:
      return distinctHash(KeyPartType::kBool, value.boolean ? "true" : "false");
    default:
      return distinctHash(KeyPartType::kString, value.text);
  }
}

}  // namespace

EventRouter::EventRouter(SourcePlan plan, std::vector<Ring*> stage_rings, SourceStats& stats,
                         std::vector<Doorbell*> stage_bells, std::stop_token stop)
    : plan_(std::move(plan)),
      rings_(std::move(stage_rings)),
      bells_(std::move(stage_bells)),
      stop_(std::move(stop)),
      stats_(stats) {
  compile();
}

void EventRouter::compile() {
  const auto index = [this](const config::FieldPath& path) {
    const auto it = std::find(plan_.fields.begin(), plan_.fields.end(), fieldName(path));
    return it == plan_.fields.end() ? -1 : static_cast<int>(it - plan_.fields.begin());
  };
  where_.clear();
  values_.clear();
  key_exprs_.clear();
  local_.clear();
  std::size_t most_values = 0;
  for (const SourcePlan::Route& route : plan_.routes) {
    most_values = std::max(most_values, route.value_fields.size());
  }
  argument_slots_.reserve(most_values);
  items_.reserve(most_values);
  any_arguments_ =
      std::any_of(plan_.routes.begin(), plan_.routes.end(),
                  [](const SourcePlan::Route& r) { return r.numbers < r.value_fields.size(); });
  number_texts_.resize(most_values);
  lookups_.compile(plan_, index);
  build_kind_ = static_cast<std::uint8_t>((any_arguments_ ? kArgumentsBit : 0) |
                                          (lookups_.refusing() ? kRefusingLookupsBit : 0) |
                                          (lookups_.empty() ? 0 : kLookupsBit));
  for (std::size_t i = 0; i < plan_.routes.size(); ++i) {
    local_.push_back(std::make_unique<Cell[]>(kMaxRecordCells));
    where_.emplace_back();
    if (const auto& where = plan_.routes[i].where) {
      where_.back().emplace(*where, index, config::ExprType::kBool);
    }
    values_.emplace_back();
    for (const auto& expr : plan_.routes[i].value_exprs) {
      values_.back().emplace_back();
      if (expr) values_.back().back().emplace(*expr, index, expr->type());
    }
  }
  for (const config::Expression& expr : plan_.key_exprs)
    key_exprs_.push_back(KeyExpression{config::CompiledExpression(expr, index), {}});
  key_values_.resize(key_exprs_.size());
  targets_.resize(plan_.routes.size());
  cells_.resize(plan_.routes.size());
  refusals_.assign(plan_.routes.size(), ErrorReason::kNone);
  route_stats_.clear();
  own_stats_.clear();
  for (const SourcePlan::Route& route : plan_.routes) {
    if (route.stats == nullptr) own_stats_.push_back(std::make_unique<PipelineSourceStats>());
    route_stats_.push_back(route.stats != nullptr ? route.stats : own_stats_.back().get());
  }
  claimed_.resize(rings_.size());
  next_decision_ = nextDecision(sent_watermark_);
  next_decision_time_ = own_watermark_ || plan_.time_field < 0
                            ? kMaxTime
                            : saturatingAdd(next_decision_, plan_.watermark.delay);
}

std::int64_t EventRouter::nextDecision(std::int64_t watermark) const noexcept {
  if (watermark == kMaxTime) return kMaxTime;
  std::int64_t next = kMaxTime;
  for (const SourcePlan::Route& route : plan_.routes) {
    if (route.session) return watermark + 1;  // sessions end anywhere: every rise matters
    // Windows end at k * slide + size; one fires at end + fire delay and stops taking late
    // events at end + lateness. Wide arithmetic: the watermark may be near the int64 limits.
    for (const std::int64_t after : {route.fire_delay, route.allowed_lateness}) {
      const Wide base = static_cast<Wide>(route.size) + after;
      Wide k = (static_cast<Wide>(watermark) - base) / route.slide;
      if ((static_cast<Wide>(watermark) - base) % route.slide < 0) --k;  // floor
      const Wide at = base + (k + 1) * route.slide;
      if (at < next) next = static_cast<std::int64_t>(at);
    }
  }
  return next;
}

void EventRouter::sendDecision(std::int64_t watermark) noexcept {
  // Deferred only by a dropping source with a full ring: it goes at the next flush instead.
  if (broadcast(RecordType::kWatermark, watermark, 0, true)) sent_watermark_ = watermark;
  next_decision_ = nextDecision(std::max(watermark, sent_watermark_));
  next_decision_time_ =
      own_watermark_ ? kMaxTime : saturatingAdd(next_decision_, plan_.watermark.delay);
}

ErrorReason EventRouter::route(const config::FieldValue* fields, std::int64_t now,
                               std::string_view raw) noexcept {
  if (build_kind_ & kLookupsBit) [[unlikely]]
    fields = lookups_.enrich(fields);
  std::int64_t time = now;
  if (plan_.time_field >= 0) {
    const config::FieldValue& t = fields[plan_.time_field];
    if (t.type == config::FieldType::kMissing || t.type == config::FieldType::kNull) {
      stats_.error(ErrorReason::kMissingTime);
      return ErrorReason::kMissingTime;
    }
    if (!toNanos(t, plan_.time_unit, time)) {
      stats_.error(ErrorReason::kBadTime);
      return ErrorReason::kBadTime;
    }
    const std::int64_t max_future = plan_.watermark.max_future;
    if (max_future > 0 && now <= kMaxTime - max_future && time > now + max_future) {
      stats_.error(ErrorReason::kFutureTime);
      return ErrorReason::kFutureTime;
    }
  }

  // Build every pipeline's record before staging any: an event is taken whole or refused whole,
  // so each event is counted exactly once, as an event or as an error, and by each pipeline as
  // taken or refused. The records are written straight into the rings when there is room (the
  // common case): no copy, and above all no reload of bytes just stored in small pieces, which
  // stalls on store-to-load forwarding.
  ErrorReason reason = ErrorReason::kNone;
  if (build(fields, time, raw, true, reason)) {
    for (std::size_t r = 0; r < plan_.routes.size(); ++r) {
      if (cells_[r] == 0) continue;  // filtered out by the pipeline's where, or refused
      Ring& ring = *rings_[targets_[r]];
      ring.commit(cells_[r]);
      if (ring.staged() >= kPublishBatch) publish(targets_[r]);
    }
  } else if (reason == ErrorReason::kNone) {
    // No room in place: build again off-ring. The first build stopped at the route that found no
    // room, so a later route may still refuse the event.
    if (!build(fields, time, raw, false, reason)) {
      stats_.error(reason, raw);
      return reason;
    }
    // A dropping source drops the event when a ring lacks room; a blocking one waits for room,
    // unless it is being stopped and the stage has stopped consuming: then it drops the event too
    // rather than stay stuck behind it. Either way whole: no record of it is staged.
    if (!roomForEvent(plan_.overflow == config::Overflow::kBlock)) {
      if (refused_routes_ != 0) {
        // Not in the source's events, so not in any pipeline's refusals either.
        std::fill(refusals_.begin(), refusals_.end(), ErrorReason::kNone);
        refused_routes_ = 0;
      }
      bump(stats_.dropped);
      return ErrorReason::kNone;
    }
    for (std::size_t r = 0; r < plan_.routes.size(); ++r) {
      if (cells_[r] != 0) push(targets_[r], {local_[r].get(), cells_[r]}, kEndCells);
    }
  } else {
    stats_.error(reason, raw);
    return reason;
  }
  if (refused_routes_ != 0) [[unlikely]]
    countRefusals(raw);
  last_time_ = time;
  ++events_since_flush_;
  if (time > max_time_) {
    max_time_ = time;
    if (time >= next_decision_time_) [[unlikely]]
      sendDecision(time - plan_.watermark.delay);
  }
  return ErrorReason::kNone;
}

void EventRouter::countRefusals(std::string_view raw) noexcept {
  for (std::size_t r = 0; r < plan_.routes.size(); ++r) {
    if (refusals_[r] != ErrorReason::kNone) route_stats_[r]->refuse(refusals_[r], raw);
    refusals_[r] = ErrorReason::kNone;
  }
  refused_routes_ = 0;
}

bool EventRouter::computeKeys(const SourcePlan::Route& route, const config::FieldValue* fields,
                              ErrorReason& reason) noexcept {
  for (const int field : route.key_fields) {
    if (field >= 0) continue;
    KeyExpression& key = key_exprs_[static_cast<std::size_t>(~field)];
    const config::ExprValue computed = key.expression.evaluate(fields);
    config::FieldValue& value = key_values_[static_cast<std::size_t>(~field)];
    switch (computed.kind) {
      case config::ValueKind::kNumber:
        if (!std::isfinite(computed.number)) {
          reason = ErrorReason::kWrongType;
          return false;
        }
        value.type = config::FieldType::kNumber;
        value.text = canonicalNumber(computed.number, key.number);
        break;
      case config::ValueKind::kString:
        value.type = config::FieldType::kString;
        value.text = computed.text;  // valid until this expression is evaluated again
        break;
      case config::ValueKind::kBool:
        value.type = config::FieldType::kBool;
        value.text = computed.boolean ? "true" : "false";
        break;
      case config::ValueKind::kNull:
        // Refused as a key part by appendKey(), kept as a join row's field.
        value.type = config::FieldType::kNull;
        value.text = {};
        break;
      case config::ValueKind::kError:
        reason = reasonOf(computed.error);
        return false;
    }
  }
  return true;
}

bool EventRouter::mayBeLate(const SourcePlan::Route& route, std::int64_t time) const noexcept {
  if (sent_watermark_ == kMinTime) return false;
  std::int64_t last_start = time / route.slide * route.slide;
  if (time % route.slide < 0) last_start -= route.slide;
  std::int64_t close;
  if (__builtin_add_overflow(last_start, route.size, &close) ||
      __builtin_add_overflow(close, route.allowed_lateness, &close)) {
    return false;
  }
  return close <= sent_watermark_;
}

bool EventRouter::closedWith(const SourcePlan::Route& route, std::int64_t time,
                             std::int64_t floor) noexcept {
  const auto window = [&](std::int64_t t) { return t / route.slide - (t % route.slide < 0); };
  return window(time) <= window(floor);
}

// With kArguments false, every value is a number and the loop has no trace of the arguments of
// count_distinct and top_k: any such trace cost the common path 10-30 instructions per event
// (measured with callgrind), as branches or as register pressure from calls. For the same reason
// a route's refusal is noted out of line, and the loop keeps its shape.
template <bool kArguments, bool kRefusingLookups>
bool EventRouter::build(const config::FieldValue* fields, std::int64_t time, std::string_view raw,
                        bool in_place, ErrorReason& reason) noexcept {
  const std::uint32_t stages = static_cast<std::uint32_t>(rings_.size());
  const config::FieldValue* computed = key_values_.data();
  bool room = true;
  for (std::size_t r = 0; r < plan_.routes.size(); ++r) {
    const SourcePlan::Route& route = plan_.routes[r];
    ErrorReason why = ErrorReason::kNone;
    if constexpr (kRefusingLookups) {
      if (lookups_.refused(r)) {
        refuseRoute(r, ErrorReason::kLookupMiss);
        continue;
      }
    }
    if (where_[r]) {
      bool keep;
      if (!where_[r]->filterInline(fields, keep)) {
        const config::ExprValue value = where_[r]->evaluate(fields);
        if (value.kind == config::ValueKind::kError) {
          refuseRoute(r, reasonOf(value.error));
          continue;
        }
        keep = config::isTrue(value);
      }
      if (!keep) {  // false or null: not for this pipeline
        targets_[r] = 0;
        cells_[r] = 0;
        continue;
      }
    }
    // Checked here, not in the call: a route of plain fields must not pay for a call.
    if (route.computed_key && !computeKeys(route, fields, why)) {
      refuseRoute(r, why);
      continue;
    }
    // Read before the record is started: a writer live across a call is kept in memory.
    if constexpr (kArguments) {
      if (!readArguments(r, fields, why)) {
        refuseRoute(r, why);
        continue;
      }
    }
    // The key's hash picks the stage; with one stage there is nothing to pick.
    const std::uint32_t target =
        stages == 1 ? 0 : stageOf(keyHash(route, fields, computed), stages);
    targets_[r] = target;
    Cell* at = local_[r].get();
    if (in_place) {
      // After this event's earlier records on the same ring, leaving the end's reserve.
      at = rings_[target]->claim(claimed_[target], kMaxRecordCells + kEndCells);
      if (at == nullptr) {
        room = false;  // no room in place: the caller builds the event again, locally
        break;
      }
    }
    RecordWriter record;
    record.start(at, RecordType::kEvent, route.pipeline, time);
    // The bound re-read per value, as before: hoisted into a local, it cost 20 instructions per
    // event (measured; the compiler spilled around it).
    for (std::size_t v = 0; v < (kArguments ? route.numbers : route.value_fields.size()); ++v) {
      double value = std::numeric_limits<double>::quiet_NaN();  // null
      if (auto& expr = values_[r][v]) {
        // Computed: a number, or a condition (1 when true, 0 when false, for count_if).
        const config::ExprValue computed_value = expr->evaluate(fields);
        if (computed_value.kind == config::ValueKind::kError) {
          why = reasonOf(computed_value.error);
          break;
        }
        if (computed_value.kind == config::ValueKind::kNumber) value = computed_value.number;
        if (computed_value.kind == config::ValueKind::kBool) value = computed_value.boolean ? 1 : 0;
      } else {
        const config::FieldValue& f = fields[route.value_fields[v]];
        if (f.type == config::FieldType::kNumber) {
          value = f.number;
        } else if (f.type != config::FieldType::kMissing && f.type != config::FieldType::kNull) {
          why = ErrorReason::kWrongType;
          break;
        }
      }
      record.append(&value, sizeof value);
    }
    if (kArguments && why == ErrorReason::kNone) {
      for (const double slot : argument_slots_) record.append(&slot, sizeof slot);
    }
    for (std::size_t k = 0; k < route.key_fields.size() && why == ErrorReason::kNone; ++k)
      appendKey(record, keyPart(route.key_fields[k], fields, computed), route, k, why);
    if (kArguments && why == ErrorReason::kNone) {
      // The items' bytes follow the key; each slot is pointed at its item's place.
      for (const PendingItem& item : items_) {
        const ItemRef ref{static_cast<std::uint32_t>(record.size() - sizeof(RecordHeader)),
                          static_cast<std::uint32_t>(1 + item.text.size())};
        const char type = static_cast<char>(item.type);
        record.append(&type, 1);
        record.append(item.text);
        const std::uint64_t bits = ref.bits();
        const std::size_t slot =
            sizeof(RecordHeader) + (route.numbers + item.argument) * sizeof(double);
        record.overwrite(slot, &bits, sizeof bits);
      }
    }
    if (why == ErrorReason::kNone && record.overflowed()) why = ErrorReason::kTooLarge;
    if (why != ErrorReason::kNone) {
      refuseRoute(r, why);
      continue;
    }
    if (published_through_ != kMinTime && closedWith(route, time, published_through_)) [[unlikely]]
      record.header().type = RecordType::kPublishedEvent;
    // The raw text rides along only when it might be needed, and only when it fits with room for
    // the stage's late record: an event is never refused for its raw text.
    if (route.late_topic && !raw.empty() && raw.size() <= kMaxLateRawBytes &&
        record.size() + sizeof(std::uint32_t) + raw.size() <= kMaxRecordBytes &&
        (record.header().type == RecordType::kPublishedEvent || mayBeLate(route, time))) {
      const auto size = static_cast<std::uint32_t>(raw.size());
      record.append(&size, sizeof size);
      record.append(raw);
      record.header().flags |= kEventRaw;
    }
    cells_[r] = static_cast<std::uint16_t>(record.finish().size());
    claimed_[target] += cells_[r];
  }
  for (std::size_t r = 0; r < plan_.routes.size(); ++r) claimed_[targets_[r]] = 0;
  if (refused_routes_ == 0) [[likely]]
    return room;
  return settleRefusals(room, reason);
}

bool EventRouter::buildWithExtras(const config::FieldValue* fields, std::int64_t time,
                                  std::string_view raw, bool in_place,
                                  ErrorReason& reason) noexcept {
  switch (build_kind_ & (kArgumentsBit | kRefusingLookupsBit)) {
    case kArgumentsBit:
      return build<true, false>(fields, time, raw, in_place, reason);
    case kRefusingLookupsBit:
      return build<false, true>(fields, time, raw, in_place, reason);
    default:
      return build<true, true>(fields, time, raw, in_place, reason);
  }
}

void EventRouter::refuseRoute(std::size_t r, ErrorReason why) noexcept {
  targets_[r] = 0;  // nothing claimed on any ring
  cells_[r] = 0;
  refusals_[r] = why;  // kNone everywhere else between events
  ++refused_routes_;
}

bool EventRouter::settleRefusals(bool room, ErrorReason& reason) noexcept {
  if (room && refused_routes_ < plan_.routes.size()) return true;  // some pipeline takes it
  // Built again (no room), or no pipeline can take it: the source's error, under the first
  // refusing pipeline's reason.
  if (room) {
    reason = *std::find_if(refusals_.begin(), refusals_.end(),
                           [](ErrorReason e) { return e != ErrorReason::kNone; });
  }
  std::fill(refusals_.begin(), refusals_.end(), ErrorReason::kNone);
  refused_routes_ = 0;
  return false;
}

bool EventRouter::readArguments(std::size_t r, const config::FieldValue* fields,
                                ErrorReason& reason) noexcept {
  const SourcePlan::Route& route = plan_.routes[r];
  argument_slots_.clear();
  items_.clear();
  for (std::size_t v = route.numbers; v < route.value_fields.size(); ++v) {
    double slot = std::numeric_limits<double>::quiet_NaN();  // null, in every form
    const config::ExprValue arg = argument(r, v, fields);
    if (arg.kind == config::ValueKind::kError) {
      reason = reasonOf(arg.error);
      return false;
    }
    // JSON has no infinity (an overflowed expression): such a value is null here, as quantile's
    // sketch ignores it.
    const bool null = arg.kind == config::ValueKind::kNull ||
                      (arg.kind == config::ValueKind::kNumber && !std::isfinite(arg.number));
    if (!null && route.value_forms[v] == ValueForm::kDistinctHash) {
      slot = std::bit_cast<double>(argumentHash(arg));
    } else if (!null) {
      PendingItem item{argument_slots_.size(), KeyPartType::kString, arg.text};
      if (arg.kind == config::ValueKind::kBool) {
        item.type = KeyPartType::kBool;
        item.text = arg.boolean ? "true" : "false";
      } else if (arg.kind == config::ValueKind::kNumber) {
        item.type = KeyPartType::kNumber;
        if (item.text.empty()) {  // computed: no JSON text to keep, the number's one text
          item.text = numberText(arg.number, number_texts_[item.argument].text);
        }
      }
      if (item.text.size() > kMaxItemBytes) {
        reason = ErrorReason::kValueTooLong;
        return false;
      }
      items_.push_back(item);  // within the capacity reserved for the most values
    }
    argument_slots_.push_back(slot);
  }
  return true;
}

config::ExprValue EventRouter::argument(std::size_t r, std::size_t v,
                                        const config::FieldValue* fields) noexcept {
  auto& expr = values_[r][v];
  if (!expr) return fieldArgument(fields[plan_.routes[r].value_fields[v]]);
  if (!expr->isFieldReference()) return expr->evaluate(fields);
  // A field the source never has is always missing: null.
  return expr->fieldIndex() < 0 ? config::ExprValue{} : fieldArgument(fields[expr->fieldIndex()]);
}

bool EventRouter::roomForEvent(bool wait) noexcept {
  // claimed_ is all zero between events: it sums this event's cells per ring. (A route its where
  // filtered out has 0 cells.)
  for (std::size_t r = 0; r < plan_.routes.size(); ++r) claimed_[targets_[r]] += cells_[r];
  bool room = true;
  for (std::size_t r = 0; r < plan_.routes.size(); ++r) {
    const std::uint32_t ring = targets_[r];
    const std::size_t cells = claimed_[ring];
    if (cells == 0) continue;  // checked already, or nothing for it
    claimed_[ring] = 0;
    if (rings_[ring]->hasRoom(cells + kEndCells)) continue;
    // Room only grows while this thread waits (it is the only producer), so room found on one
    // ring is still there once the next has some.
    if (wait && room && waitForRoom(ring, cells + kEndCells)) continue;
    room = false;
    publish(ring);  // its stage must not be left waiting for what is staged
  }
  return room;
}

bool EventRouter::waitForRoom(std::size_t ring, std::size_t cells) noexcept {
  Ring& r = *rings_[ring];
  if (r.hasRoom(cells)) return true;
  publish(ring);  // let the stage see what is staged: it may be what it waits for
  // More than the ring holds never fits (a source with very many pipelines on one tiny ring).
  if (cells > r.capacity()) return false;
  bump(stats_.ring_full_waits);
  Backoff backoff;
  // Once the source is asked to stop, the wait goes on while the stage consumes (a normal stop:
  // every stage drains to the end of every stream, and the event is routed, as a Kafka source's
  // commits assume) and gives up on a stage that has consumed nothing for kStuckStageNs.
  std::size_t left = 0;
  std::int64_t progress_at = 0;  // steady ns; 0 until the stop is seen
  do {
    backoff.pause();
    // Waiting for a stage is not a stall of this thread: keep beating, so that the watchdog
    // blames the stage that stopped consuming, not the source it holds back.
    if (backoff.parked()) beat(steadyNanos());
    if (stop_.stop_requested()) [[unlikely]] {
      const std::int64_t now = steadyNanos();
      const std::size_t size = r.sizeGuess();
      if (progress_at == 0 || size < left) {
        progress_at = now;
        left = size;
      } else if (now - progress_at > kStuckStageNs) {
        return false;
      }
    }
  } while (!r.hasRoom(cells));
  return true;
}

bool EventRouter::push(std::size_t ring, std::span<const Cell> cells,
                       std::size_t reserve) noexcept {
  if (!waitForRoom(ring, cells.size() + reserve)) return false;
  Ring& r = *rings_[ring];
  r.tryPush(cells.data(), cells.size());  // cannot fail: the room is there
  if (r.staged() >= kPublishBatch) publish(ring);
  return true;
}

void EventRouter::publish(std::size_t ring) noexcept {
  if (rings_[ring]->staged() == 0) return;
  rings_[ring]->publish();
  if (!bells_.empty()) bells_[ring]->ring();
}

bool EventRouter::broadcast(RecordType type, std::int64_t time, std::uint8_t flags, bool may_defer,
                            std::string_view data, std::uint16_t pipeline) noexcept {
  RecordBuilder control;
  control.start(type, pipeline, time);
  control.header().flags = flags;
  control.append(data);
  const std::span<const Cell> cells = control.finish();
  // Only the end may use the reserve it is kept for.
  const std::size_t reserve = type == RecordType::kEnd ? 0 : kEndCells;
  if (may_defer && plan_.overflow == config::Overflow::kDrop) {
    for (std::size_t i = 0; i < rings_.size(); ++i) {
      if (!rings_[i]->hasRoom(cells.size() + reserve)) {
        for (std::size_t j = 0; j < rings_.size(); ++j) publish(j);
        return false;
      }
    }
  }
  // A source being stopped lets a record go on a ring that has no room (push() is false): the
  // end of the stream, which always finds room, follows.
  bool sent = true;
  for (std::size_t i = 0; i < rings_.size(); ++i) sent &= push(i, cells, reserve);
  return sent;
}

void EventRouter::flush(std::int64_t now, std::int64_t steady) noexcept {
  beat(steady);
  if (events_since_flush_ > 0) {
    bump(stats_.events, events_since_flush_);
    events_since_flush_ = 0;
    last_event_steady_ = steady;
    idle_ = false;
  } else if (last_event_steady_ == 0) {
    last_event_steady_ = steady;  // the idle clock starts with the source
  }

  const std::int64_t silence = steady - last_event_steady_;
  const bool idle = plan_.watermark.idle > 0 && silence >= plan_.watermark.idle;
  const std::int64_t delay = plan_.watermark.delay;
  std::int64_t watermark = kMinTime;
  if (own_watermark_) {
    watermark = watermark_;  // the source's own (Kafka: its partitions' idleness included)
  } else if (plan_.time_field < 0) {
    watermark = now - delay;  // processing time advances without events
  } else if (max_time_ != kMinTime) {
    // Silent for `idle`: as if event time had gone on with the wall clock since the last event.
    const std::int64_t reached = idle ? saturatingAdd(max_time_, silence) : max_time_;
    watermark = reached < kMinTime + delay ? kMinTime : reached - delay;
  }
  if (idle) {
    // kIdle (not kWatermark) keeps the source out of the minimum of a pipeline that has an active
    // source, as long as it stays silent; it still closes the windows of its own pipelines.
    if (!idle_ || watermark > sent_watermark_) {
      const std::int64_t sent = std::max(watermark, sent_watermark_);
      if (broadcast(RecordType::kIdle, sent, 0, true)) {
        idle_ = true;
        sent_watermark_ = sent;
      }
    }
  } else if (watermark > sent_watermark_) {
    if (broadcast(RecordType::kWatermark, watermark, 0, true)) sent_watermark_ = watermark;
  }
  if (sent_watermark_ >= next_decision_) {
    next_decision_ = nextDecision(sent_watermark_);
    next_decision_time_ =
        own_watermark_ || plan_.time_field < 0 ? kMaxTime : saturatingAdd(next_decision_, delay);
  }
  for (std::size_t i = 0; i < rings_.size(); ++i) publish(i);
  if (checkpoints_ != nullptr) [[unlikely]] {
    if (const std::uint64_t id = checkpoints_->requested(); id > checkpoint_) barrier(id);
  }
}

// Cold: once per checkpoint. The position is noted before the barrier leaves: the ring's release
// store publishes it to the stage, and through the stage to the publisher and the coordinator.
// A reconfiguration's barrier notes nothing: the events after it are routed by the new plan.
void EventRouter::barrier(std::uint64_t id) noexcept {
  checkpoint_ = id;
  const Reconfiguration* change = checkpoints_->change();
  if (change == nullptr) {
    checkpoints_->setSource(checkpoint_index_, id, position_ ? position_() : std::string());
  }
  broadcast(RecordType::kBarrier, static_cast<std::int64_t>(id), 0, false);
  for (std::size_t i = 0; i < rings_.size(); ++i) publish(i);
  if (change != nullptr) replan(change->sources[checkpoint_index_]);
}

void EventRouter::replan(const SourcePlan& plan) {
  plan_ = plan;
  compile();  // allocates: once per reload
  ++generation_;
}

void EventRouter::passBarrier(std::uint64_t id) noexcept {
  broadcast(RecordType::kBarrier, static_cast<std::int64_t>(id), 0, false);
  for (std::size_t i = 0; i < rings_.size(); ++i) publish(i);
}

void EventRouter::mark(std::uint64_t seq, std::uint16_t source) noexcept {
  broadcast(RecordType::kMark, max_time_, 0, false,
            {reinterpret_cast<const char*>(&seq), sizeof seq}, source);
  for (std::size_t i = 0; i < rings_.size(); ++i) publish(i);
}

void EventRouter::reset(std::int64_t floor) noexcept {
  broadcast(RecordType::kReset, floor, 0, false);
  for (std::size_t i = 0; i < rings_.size(); ++i) publish(i);
}

void EventRouter::end(bool stopped) noexcept {
  bump(stats_.events, events_since_flush_);
  events_since_flush_ = 0;
  // Before the end record, which orders it before any checkpoint that counts on it.
  if (checkpoints_ != nullptr) {
    checkpoints_->setFinal(checkpoint_index_, position_ ? position_() : std::string());
  }
  broadcast(RecordType::kEnd, max_time_, stopped ? kEndStopped : 0, false);
  for (std::size_t i = 0; i < rings_.size(); ++i) publish(i);
}

}  // namespace rivulet::pipeline
