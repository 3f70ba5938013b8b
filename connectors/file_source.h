// FileSource: JSON or CSV lines from a file or stdin. Bounded by default (ends at end of file);
// with follow it keeps reading what is appended, like tail -f.
#pragma once

#include "connectors/source.h"

namespace rivulet::connectors {

class FileSource final : public Source {
 public:
  // Opens the file now, so a bad path fails at start-up.
  FileSource(const config::SourceConfig& spec, pipeline::EventRouter router);
  ~FileSource() override;
  void run(std::stop_token stop) override;
  bool bounded() const override { return !spec_.file.follow; }

 private:
  const config::SourceConfig spec_;
  pipeline::EventRouter router_;
  int fd_ = -1;
};

}  // namespace rivulet::connectors
