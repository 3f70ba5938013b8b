// Engine runs on generator sources and their results (engine_runs.h).
#include "tests/support/engine_runs.h"

#include <gtest/gtest.h>

#include <fstream>

namespace rivulet::testutil {

std::string twoGeneratorSources() {
  std::string yaml = "sources:\n";
  for (const char* seed : {"1", "2"}) {
    yaml += std::string("  ") + (seed[0] == '1' ? "a" : "b") +
            ":\n    kind: generator\n    keys: 20\n    events_per_second: 1000\n    seed: " + seed +
            "\n    start: 1700000000000\n    count: 60000\n    throttle: 30000\n";
  }
  return yaml;
}

std::multiset<std::string> resultsWithoutSeq(const std::string& path,
                                             const std::set<std::string_view>& skip) {
  std::multiset<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const std::string prefix = "{\"pipeline\":\"";
    if (line.starts_with(prefix)) {
      const std::size_t end = line.find('"', prefix.size());
      if (skip.count(std::string_view(line).substr(prefix.size(), end - prefix.size()))) continue;
    }
    const std::size_t seq = line.find(",\"seq\":");
    const std::size_t next = line.find(',', seq + 1);
    out.insert(line.substr(0, seq) + line.substr(next));
  }
  return out;
}

void expectSameResults(const std::multiset<std::string>& got,
                       const std::multiset<std::string>& want) {
  EXPECT_EQ(got.size(), want.size());
  int reported = 0;
  for (const std::string& r : want) {
    if (got.count(r) != want.count(r) && reported++ < 10) ADD_FAILURE() << "want " << r;
  }
  for (const std::string& r : got) {
    if (got.count(r) != want.count(r) && reported++ < 20) ADD_FAILURE() << "got " << r;
  }
}

bool completeCheckpoint(pipeline::CheckpointBoard& board, std::uint64_t id,
                        const std::function<bool()>& finished, Clock::time_point deadline) {
  board.request(id);
  if (!waitUntil([&] { return board.completed() >= id || finished(); }, deadline - Clock::now(),
                 200us)) {
    ADD_FAILURE() << "checkpoint " << id << " neither completed nor met the end of the inputs";
    return false;
  }
  return board.completed() >= id;
}

}  // namespace rivulet::testutil
