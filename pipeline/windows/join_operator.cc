#include "pipeline/windows/join_operator.h"

#include <cstring>

#include "pipeline/model/key.h"
#include "pipeline/model/record.h"

namespace rivulet::pipeline {
namespace {

// The bytes of the first `parts` parts of an encoded key (pipeline/model/key.h).
std::size_t prefixBytes(std::string_view key, std::size_t parts) noexcept {
  std::size_t at = 0;
  for (std::size_t p = 0; p < parts && at + kKeyPartHeader <= key.size(); ++p) {
    const std::size_t size =
        static_cast<unsigned char>(key[at + 1]) |
        (static_cast<std::size_t>(static_cast<unsigned char>(key[at + 2])) << 8);
    at += kKeyPartHeader + size;
  }
  return std::min(at, key.size());
}

// The first byte of a snapshot: which operator wrote it, in which encoding.
constexpr std::uint8_t kSnapshotFormat = 'J';

}  // namespace

AddResult JoinOperator::add(std::int64_t time, std::uint64_t, std::string_view key,
                            const double* values) noexcept {
  const PipelinePlan& plan = *plan_;
  const bool right = values[0] == 1;
  const std::size_t split = prefixBytes(key, plan.join->key_parts);
  const std::string_view join_key = key.substr(0, split);
  const std::string_view row = key.substr(split);
  // Windows containing `time` start at the multiples of slide in (time - size, time]; those whose
  // end + lateness the watermark has reached are closed. Events so close to the int64 limits that
  // a window would not be representable are late (centuries from any clock).
  std::int64_t last = time / plan.slide * plan.slide;
  if (time % plan.slide < 0) last -= plan.slide;
  bool added = false, closed = false;
  for (std::int64_t start = last;; start -= plan.slide) {
    std::int64_t end, expires;
    if (__builtin_add_overflow(start, plan.size, &end) ||
        __builtin_add_overflow(end, plan.allowed_lateness, &expires)) {
      closed = true;
      break;
    }
    if (end <= time) break;  // not in this window (nor in earlier ones)
    if (expires <= watermark_) {
      closed = true;
      break;  // earlier windows close earlier still
    }
    Window& window = windows_[start];
    auto found = window.keys.find(join_key);
    if (found == window.keys.end()) found = window.keys.emplace(join_key, Rows{}).first;
    std::uint32_t& newest = right ? found->second.right : found->second.left;
    const std::uint32_t header[2] = {newest, static_cast<std::uint32_t>(row.size())};
    newest = static_cast<std::uint32_t>(window.bytes.size()) + 1;
    window.bytes.append(reinterpret_cast<const char*>(header), sizeof header);
    window.bytes.append(row);
    ++window.rows;
    ++rows_;
    added = true;
    if (start < kMinTime + plan.slide) break;
  }
  return added || !closed ? AddResult::kAdded : AddResult::kLate;
}

std::string_view JoinOperator::row(const Window& window, std::uint32_t link,
                                   std::uint32_t& previous) noexcept {
  std::uint32_t header[2];
  std::memcpy(header, window.bytes.data() + link - 1, sizeof header);
  previous = header[0];
  return std::string_view(window.bytes).substr(link - 1 + sizeof header, header[1]);
}

void JoinOperator::fire(std::int64_t start, const Window& window, ResultKind kind,
                        ResultSink& sink) {
  const std::int64_t end = start + plan_->size;
  const bool left_outer = plan_->join->left_outer;
  std::size_t results = 0;
  for (const auto& [key, rows] : window.keys) {
    for (std::uint32_t l = rows.left, next_l; l != 0; l = next_l) {
      WindowResult result{start, end,  kind, key, nullptr, nullptr, row(window, l, next_l),
                          {},    false};
      if (rows.right == 0 && left_outer) {
        result.unmatched = true;
        sink.onResult(result);
        ++results;
      }
      for (std::uint32_t r = rows.right, next_r; r != 0; r = next_r) {
        result.right_row = row(window, r, next_r);
        sink.onResult(result);
        ++results;
      }
    }
  }
  sink.onWindowEnd(start, end, results);
}

void JoinOperator::advanceWatermark(std::int64_t watermark, ResultSink& sink) {
  if (watermark <= watermark_) return;
  watermark_ = watermark;
  // Windows close in start order (their ends are start + size).
  while (!windows_.empty()) {
    const auto it = windows_.begin();
    std::int64_t end, fires;
    if (!__builtin_add_overflow(it->first, plan_->size, &end) &&
        !__builtin_add_overflow(end, plan_->fire_delay, &fires) && fires > watermark) {
      break;
    }
    fire(it->first, it->second, ResultKind::kFinal, sink);
    rows_ -= it->second.rows;
    windows_.erase(it);
  }
}

void JoinOperator::flush(ResultKind kind, ResultSink& sink) {
  for (const auto& [start, window] : windows_) fire(start, window, kind, sink);
  windows_.clear();
  rows_ = 0;
}

void JoinOperator::discard() {
  windows_.clear();
  rows_ = 0;
}

// Snapshot: u8 'J', i64 size, slide, lateness (the plan it was taken with), i64 watermark,
// u32 windows, then per window in start order: i64 start, u64 rows, bytes rows, u32 keys, then per
// key: bytes key, u32 newest left row, u32 newest right row (links, as held).
void JoinOperator::snapshot(SnapshotWriter& out) const {
  out.put<std::uint8_t>(kSnapshotFormat);
  out.put<std::int64_t>(plan_->size);
  out.put<std::int64_t>(plan_->slide);
  out.put<std::int64_t>(plan_->allowed_lateness);
  out.put<std::int64_t>(watermark_);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(windows_.size()));
  for (const auto& [start, window] : windows_) {
    out.put<std::int64_t>(start);
    out.put<std::uint64_t>(window.rows);
    out.putBytes(window.bytes);
    out.put<std::uint32_t>(static_cast<std::uint32_t>(window.keys.size()));
    for (const auto& [key, rows] : window.keys) {
      out.putBytes(key);
      out.put<std::uint32_t>(rows.left);
      out.put<std::uint32_t>(rows.right);
    }
  }
}

// Whether the list of rows from `link` lies within `bytes`: each row's header and parts inside,
// each link to an earlier row (so the list ends). Adds its rows to `count`.
bool JoinOperator::validList(const std::string& bytes, std::uint32_t link, std::size_t& count) {
  while (link != 0) {
    std::uint32_t header[2];
    if (static_cast<std::size_t>(link) - 1 + sizeof header > bytes.size()) return false;
    std::memcpy(header, bytes.data() + link - 1, sizeof header);
    if (static_cast<std::size_t>(link) - 1 + sizeof header + header[1] > bytes.size() ||
        header[0] >= link) {
      return false;
    }
    link = header[0];
    ++count;
  }
  return true;
}

bool JoinOperator::restore(SnapshotReader& in) {
  if (in.get<std::uint8_t>() != kSnapshotFormat || in.get<std::int64_t>() != plan_->size ||
      in.get<std::int64_t>() != plan_->slide || in.get<std::int64_t>() != plan_->allowed_lateness) {
    return false;
  }
  const auto watermark = in.get<std::int64_t>();
  std::map<std::int64_t, Window> windows;
  std::size_t held = 0;
  const auto n = in.get<std::uint32_t>();
  for (std::uint32_t w = 0; w < n && in.ok(); ++w) {
    const auto start = in.get<std::int64_t>();
    Window& window = windows[start];
    window.rows = in.get<std::uint64_t>();
    window.bytes = std::string(in.getBytes());
    std::size_t listed = 0;
    const auto keys = in.get<std::uint32_t>();
    for (std::uint32_t k = 0; k < keys && in.ok(); ++k) {
      Rows& rows = window.keys[std::string(in.getBytes())];
      rows.left = in.get<std::uint32_t>();
      rows.right = in.get<std::uint32_t>();
      if (!validList(window.bytes, rows.left, listed) ||
          !validList(window.bytes, rows.right, listed)) {
        in.fail();
      }
    }
    if (listed != window.rows) in.fail();
    held += window.rows;
  }
  if (!in.ok()) return false;
  watermark_ = watermark;
  windows_ = std::move(windows);
  rows_ = held;
  return true;
}

}  // namespace rivulet::pipeline
