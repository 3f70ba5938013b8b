// The checkpoint reader on arbitrary bytes: the file's framing (magic, version, fingerprint,
// checksum, parts) and, under it, the window and session operators' state, which a corrupt file
// that passes the checksum (or a bug) would hand them. Both must refuse what they cannot take.
// The first byte picks the reader: the file as it is, the file with its checksum made to match
// (so the framing under it is reached), a window or session operator's state, or a Kafka source's
// position.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "config/loader.h"
#include "connectors/kafka/kafka_position.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/windows/session_operator.h"
#include "pipeline/windows/window_operator.h"

namespace {

constexpr std::string_view kConfig = R"(
sources:
  s: {kind: generator}
pipelines:
  hop:
    from: s
    group_by: [key]
    window: {hopping: {size: 3s, slide: 1s}}
    allowed_lateness: 1s
    aggregates: {n: count(), total: sum(value), p: p90(value), d: count_distinct(key), t: 'top_k(key, 3)'}
  sessions:
    from: s
    group_by: [key]
    window: {session: {gap: 2s}}
    aggregates: {n: count(), low: min(value), t: 'top_k(key, 2)'}
)";

struct Plans {
  Plans() {
    rivulet::config::LoadResult loaded = rivulet::config::loadString(kConfig, "fuzz.yaml");
    if (!loaded.config) std::abort();  // the target's own config must load
    config = std::move(*loaded.config);
    hop = rivulet::pipeline::compilePipeline(config, 0);
    sessions = rivulet::pipeline::compilePipeline(config, 1);
  }
  rivulet::config::Config config;
  rivulet::pipeline::PipelinePlan hop;
  rivulet::pipeline::PipelinePlan sessions;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Plans plans;
  static const rivulet::pipeline::Aggregates hop(plans.hop.aggregates, plans.hop.value_index);
  static const rivulet::pipeline::Aggregates sessions(plans.sessions.aggregates,
                                                      plans.sessions.value_index);
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)rivulet::daemon::decodeCheckpoint(bytes, 42);
      break;
    case 1: {
      std::string file(bytes);
      rivulet::pipeline::SnapshotWriter checksum;
      checksum.put(rivulet::daemon::checkpointChecksum(file));
      file += checksum.bytes();
      (void)rivulet::daemon::decodeCheckpoint(file, 42);
      break;
    }
    case 2: {
      rivulet::pipeline::WindowOperator windows(plans.hop, hop);
      rivulet::pipeline::SnapshotReader in(bytes);
      if (windows.restore(in)) {
        rivulet::pipeline::SnapshotWriter out;
        windows.snapshot(out);
      }
      break;
    }
    case 3: {
      rivulet::pipeline::SessionOperator windows(plans.sessions, sessions);
      rivulet::pipeline::SnapshotReader in(bytes);
      if (windows.restore(in)) {
        rivulet::pipeline::SnapshotWriter out;
        windows.snapshot(out);
      }
      break;
    }
    default:
      (void)rivulet::connectors::decodeKafkaPosition(bytes);
  }
  return 0;
}
