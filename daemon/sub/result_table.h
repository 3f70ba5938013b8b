// `rivulet-sub --format table`: results, end-of-window markers and late events as aligned,
// human-readable rows (window in UTC, pipeline, kind, key, values) under a header line.
#pragma once

#include <simdjson.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace rivulet::daemon {

class ResultTable {
 public:
  explicit ResultTable(std::FILE* out) : out_(out) {}

  // Prints the row of one message (the header first, before the first row) and flushes: a
  // person watching sees each row as it arrives. A payload that is not what its topic says is
  // printed as it came, in the values column.
  void print(std::string_view topic, std::string_view payload);

 private:
  static constexpr int kColumns = 5;  // window, pipeline, kind, key, values
  struct Row {
    std::string cells[kColumns];
  };

  bool readResult(std::string_view payload, Row& row);
  void printRow(const Row& row);

  std::FILE* out_;
  simdjson::ondemand::parser parser_;
  std::string padded_;  // the payload, with the padding simdjson reads past its end
  // The widest cell seen so far in each column but the last: rows stay aligned unless a wider
  // cell comes, and then the ones after it are.
  std::size_t widths_[kColumns - 1] = {};
  bool header_printed_ = false;
};

}  // namespace rivulet::daemon
