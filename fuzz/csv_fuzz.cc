// The CSV parser on arbitrary bytes: the first line is a header naming the columns, the others
// are rows read with the layout it gives, as a tcp stream with `header: true` is.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "connectors/formats/csv_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using rivulet::connectors::CsvLayout;
  static rivulet::connectors::CsvParser parser({"ts", "sym", "px", "qty"});
  std::vector<rivulet::config::FieldValue> fields(4);
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  CsvLayout layout;
  bool header = true;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view row = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (header) {
      if (parser.parseHeader(row, layout) == rivulet::pipeline::ErrorReason::kNone) header = false;
      continue;
    }
    parser.parse(row, layout, fields);
  }
  return 0;
}
