// The TCP line framer on arbitrary bytes arriving in arbitrary pieces, against a brute-force
// reference: the same lines, in order, and the same over-long lines, however the stream is cut
// (and its end).
// The first byte sets max_line (1..64), the next few the sizes of the pieces.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/formats/line_framer.h"

namespace {

// What the framer reports: a line's text, or "\x01" for a line over max_line.
constexpr std::string_view kTooLong = "\x01";

// Lines ended by "\n", and the last one without it (the input ends: finish()), each without its
// "\n" or "\r\n". A line whose text is over max_line is reported too long, once; of the others,
// blank ones (spaces, tabs and "\r" only) are skipped.
std::vector<std::string> reference(std::string_view stream, std::size_t max_line) {
  std::vector<std::string> out;
  while (!stream.empty()) {
    const std::size_t nl = stream.find('\n');
    std::string_view line = stream.substr(0, nl);
    stream.remove_prefix(nl == std::string_view::npos ? stream.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > max_line) {
      out.emplace_back(kTooLong);
    } else if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      out.emplace_back(line);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t max_line = 1 + data[0] % 64;
  const std::uint8_t* pieces = data + 1;  // three piece sizes, used in turn
  const std::string_view stream(reinterpret_cast<const char*>(data) + 4, size - 4);

  rivulet::connectors::LineFramer framer(max_line);
  std::vector<std::string> got;
  std::size_t at = 0;
  for (std::size_t turn = 0; at < stream.size(); ++turn) {
    const std::span<char> room = framer.writable();
    if (room.empty()) std::abort();
    const std::size_t n =
        std::min({room.size(), stream.size() - at, std::size_t{1} + pieces[turn % 3]});
    std::memcpy(room.data(), stream.data() + at, n);
    at += n;
    framer.commit(
        n,
        [&](std::string_view line, std::size_t capacity) {
          if (capacity < line.size() + rivulet::connectors::LineFramer::kPadding) std::abort();
          got.emplace_back(line);
        },
        [&] { got.emplace_back(kTooLong); });
  }
  framer.finish([&](std::string_view line, std::size_t) { got.emplace_back(line); },
                [&] { got.emplace_back(kTooLong); });
  if (got != reference(stream, max_line)) std::abort();
  return 0;
}
