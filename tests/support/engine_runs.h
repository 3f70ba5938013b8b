// For the tests that run a daemon Engine in-process on bounded generator sources: the sources,
// and the results of a run as a multiset of their JSON lines without the seq (the order of two
// stages' results, and so their seq, varies between runs), compared with a reference run's.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "pipeline/checkpoint_board.h"
#include "tests/support/wait.h"

namespace rivulet::testutil {

// YAML "sources:" with generators a and b (seeds 1 and 2): 20 keys, 60,000 events each from
// 1700000000000 at 1000 events per second of event time, throttled to 30,000 per second.
std::string twoGeneratorSources();

// The result lines of the `output:` file at `path` without their seq, but those of the
// pipelines named in `skip`.
std::multiset<std::string> resultsWithoutSeq(const std::string& path,
                                             const std::set<std::string_view>& skip = {});

// Each line as often in `got` as in `want`; the lines that differ are reported, up to 10 missing
// from `got` and 20 in all.
void expectSameResults(const std::multiset<std::string>& got,
                       const std::multiset<std::string>& want);

// Requests checkpoint `id` (board.nextId()) and waits until the board completes it or
// `finished()` (a checkpoint requested as the inputs end may find no source left to send its
// barrier); whether it completed. Neither by `deadline`: a test failure, and false.
bool completeCheckpoint(pipeline::CheckpointBoard& board, std::uint64_t id,
                        const std::function<bool()>& finished, Clock::time_point deadline);

}  // namespace rivulet::testutil
