// FileOutput: the `daemon.output` sink — every result payload as one JSON line, to a file
// (appended) or to stdout ("-"). Buffered; flushed whenever the publisher runs out of work.
#pragma once

#include <cstdio>
#include <string>

#include "pipeline/publisher.h"

namespace rivulet::connectors {

class FileOutput final : public pipeline::ResultOutput {
 public:
  explicit FileOutput(const std::string& path);  // throws std::runtime_error if it cannot open
  ~FileOutput() override;
  void send(std::string_view topic, std::string_view payload) override;
  void idle() override;

 private:
  std::FILE* file_;
  bool owned_;
};

}  // namespace rivulet::connectors
