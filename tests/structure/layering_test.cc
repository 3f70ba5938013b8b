// The layering, checked on the source tree: every #include "..." of a file names a file of its own
// room or of a room below it, so that no include runs back up. docs/architecture.md ("Where things
// live") says what each room holds. A file outside every room listed here fails too: a new folder
// must take its place in the order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace rivulet {
namespace {

// Lowest first. Rooms of one rank stand side by side: neither includes the other.
const std::vector<std::vector<std::string>> kLayers = {
    {"config/text"},        // quoting and "did you mean" for messages
    {"config/expression"},  // the expression language: parser, checker, evaluator
    {"config"},             // the config schema and its validation
    {"pipeline/runtime"},   // rings, doorbells, back-off, clocks
    {"pipeline/model"},     // values, keys, records, snapshots, counters, plans
    {"pipeline/sketches"},
    {"pipeline/aggregates"},
    {"pipeline/windows", "pipeline/tables"},  // operators; lookup table versions
    {"pipeline"},  // router, stage, publisher and the boards between them
    {"connectors/formats"},
    {"connectors/sources"},
    {"connectors/kafka", "connectors/zmq", "connectors/outputs", "connectors/tables"},
    {"connectors"},  // the source factory
    {"daemon/sub"},  // rivulet-sub: config and the version only
    {"daemon", "daemon/checkpoints", "daemon/http", "daemon/service", "daemon/tables"},
};

// The room of a repository path ("pipeline/windows/operator.h"): its deepest listed folder.
std::string roomOf(const std::string& path) {
  std::string best;
  for (const auto& layer : kLayers) {
    for (const std::string& room : layer) {
      if (path.rfind(room + "/", 0) == 0 && room.size() > best.size()) best = room;
    }
  }
  return best;
}

int rankOf(const std::string& room) {
  for (std::size_t i = 0; i < kLayers.size(); ++i) {
    for (const std::string& r : kLayers[i]) {
      if (r == room) return static_cast<int>(i);
    }
  }
  return -1;
}

// Whether a file of `from` may include one of `to`.
bool allowed(const std::string& from, const std::string& to) {
  if (from == to) return true;
  // The daemon's rooms depend on each other both ways (the engine is used by the service and the
  // HTTP routes, and uses the checkpoints and tables); only rivulet-sub is kept apart.
  const auto daemon = [](const std::string& room) {
    return room == "daemon" || room.rfind("daemon/", 0) == 0;
  };
  if (daemon(from) && daemon(to) && from != "daemon/sub" && to != "daemon/sub") return true;
  const int a = rankOf(from);
  const int b = rankOf(to);
  return b < a;
}

TEST(Layering, NoIncludeRunsBackUp) {
  const std::filesystem::path root = RIVULET_SOURCE_DIR;
  const std::regex include(R"re(^\s*#\s*include\s+"([^"]+)")re");
  std::size_t files = 0;
  std::size_t includes = 0;
  for (const char* top : {"config", "pipeline", "connectors", "daemon"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / top)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
      const std::string path = entry.path().lexically_relative(root).string();
      const std::string room = roomOf(path);
      ASSERT_FALSE(room.empty()) << path << " is in no room of the layering";
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string target = m[1];
        if (target == "daemon/version.h") continue;  // generated, read by both executables
        const std::string to = roomOf(target);
        if (to.empty()) continue;  // not ours: a library header
        ++includes;
        EXPECT_TRUE(allowed(room, to)) << path << ":" << number << " (" << room << ") includes "
                                       << target << " (" << to << "), which is not below it";
      }
    }
  }
  EXPECT_GT(files, 100u);
  EXPECT_GT(includes, 300u);
}

// The order itself: each room listed once.
TEST(Layering, EachRoomIsListedOnce) {
  std::map<std::string, int> seen;
  for (const auto& layer : kLayers) {
    for (const std::string& room : layer) EXPECT_EQ(++seen[room], 1) << room;
  }
}

}  // namespace
}  // namespace rivulet
