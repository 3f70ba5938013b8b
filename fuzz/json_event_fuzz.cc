// The JSON event parser on arbitrary bytes, read in place with the padding a line source gives.
// It must refuse or parse, never read outside the buffer, and only hand out texts inside it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "connectors/formats/json_event_parser.h"
#include "connectors/formats/line_framer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static rivulet::connectors::JsonEventParser parser(
      {"ts", "sym", "px", "order.qty", "order.side", "a.b.c"});
  std::vector<rivulet::config::FieldValue> fields(6);
  std::string buffer(reinterpret_cast<const char*>(data), size);
  buffer.resize(size + rivulet::connectors::LineFramer::kPadding);
  const std::string_view line(buffer.data(), size);
  if (parser.parse(line, buffer.size(), fields) != rivulet::pipeline::ErrorReason::kNone) return 0;
  for (const rivulet::config::FieldValue& f : fields) {
    if (f.type != rivulet::config::FieldType::kString) continue;
    // A string is unescaped into the parser's own buffer or points into the line.
    volatile char sink = 0;
    for (const char c : f.text) sink = static_cast<char>(sink ^ c);
  }
  return 0;
}
