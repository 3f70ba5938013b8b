// JoinOperator: a window join (`join:`, config::JoinSpec) in one stage. Both sides' events reach
// the stage of their join key (the router hashes the key's parts only), each carrying its side
// and its row (the side's fields as key parts after the join key). The operator keeps each
// window's rows by join key and, when the watermark closes the window, emits one result per pair
// of a left and a right row with that key (and, for a left join, each left row without one).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pipeline/model/record.h"
#include "pipeline/windows/operator.h"

namespace rivulet::pipeline {

// Thread contract: as Operator.
class JoinOperator final : public Operator {
 public:
  explicit JoinOperator(const PipelinePlan& plan) : plan_(&plan) {}

  // values[0] is the side (0 left, 1 right); `key` the join key's parts, then the row's.
  AddResult add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                const double* values) noexcept override;
  void advanceWatermark(std::int64_t watermark, ResultSink& sink) override;
  void flush(ResultKind kind, ResultSink& sink) override;
  void discard() override;
  void snapshot(SnapshotWriter& out) const override;
  bool restore(SnapshotReader& in) override;
  void rebind(const PipelinePlan& plan, const Aggregates&) noexcept override { plan_ = &plan; }

  std::int64_t watermark() const noexcept override { return watermark_; }
  std::size_t stateEntries() const noexcept override { return rows_; }
  bool holdsUnfiredBy(std::int64_t) const noexcept override { return false; }
  bool perKeyWindows() const noexcept override { return false; }
  std::size_t liveKeys() const noexcept override { return 0; }

 private:
  // A key's rows in one window: the newest left and right row, each a list through the rows'
  // links (0: none, else offset + 1 in the window's bytes).
  struct Rows {
    std::uint32_t left = 0, right = 0;
  };
  // A window's rows: `bytes` holds each row as [u32 link to the key's previous row of its side]
  // [u32 size][parts], appended as they come: a row allocates nothing beyond the amortised growth
  // of `bytes`, a key of a window one map node.
  // Looked up by a view of the event's key: only a new key allocates.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>()(key);
    }
  };
  struct Window {
    std::size_t rows = 0;
    std::string bytes;
    std::unordered_map<std::string, Rows, KeyHash, std::equal_to<>> keys;
  };

  // The row at `link` (offset + 1) and the link to the one before it.
  static std::string_view row(const Window& window, std::uint32_t link,
                              std::uint32_t& previous) noexcept;
  static bool validList(const std::string& bytes, std::uint32_t link, std::size_t& count);
  // Emits the window's joined rows as `kind` and its end marker.
  void fire(std::int64_t start, const Window& window, ResultKind kind, ResultSink& sink);

  const PipelinePlan* plan_;
  std::map<std::int64_t, Window> windows_;  // by start
  std::int64_t watermark_ = kMinTime;
  std::size_t rows_ = 0;  // held, over every window (a hopping window's row once per window)
};

}  // namespace rivulet::pipeline
