// FileSource: JSON or CSV lines from a file or stdin. Bounded by default (ends at end of file);
// with follow it keeps reading what is appended, like tail -f.
#pragma once

#include <cstdint>
#include <string>

#include "connectors/sources/source.h"

namespace rivulet::connectors {

class FileSource final : public Source {
 public:
  // Opens the file now, so a bad path fails at start-up.
  FileSource(const config::SourceConfig& spec, pipeline::EventRouter router);
  ~FileSource() override;
  void run(std::stop_token stop) override;
  bool bounded() const override { return !spec_.file.follow; }
  // Resumes after the last whole line the position counted, if the file is still the one it
  // was taken from (same device and inode, not shorter); a different or truncated file is read
  // from its start (rotated away: the new file's lines are all new).
  bool restore(std::string_view position) override;

 private:
  const config::SourceConfig spec_;
  pipeline::EventRouter router_;
  int fd_ = -1;
  bool regular_ = false;  // a regular file (stdin and pipes have no position)
  // The position: the file's identity and the offset after the last line handed to the
  // decoder; a CSV header line too, for the decoder of a resumed run.
  std::uint64_t device_ = 0, inode_ = 0;
  std::uint64_t offset_ = 0;
  std::string header_;
};

}  // namespace rivulet::connectors
