#include "connectors/outputs/file_output.h"

#include <stdio.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rivulet::connectors {

FileOutput::FileOutput(const std::string& path)
    : file_(path == "-" ? stdout : std::fopen(path.c_str(), "ae")), owned_(path != "-") {
  if (file_ == nullptr) {
    throw std::runtime_error("output: cannot open \"" + path + "\": " + std::strerror(errno));
  }
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

FileOutput::~FileOutput() {
  std::fflush(file_);
  if (owned_) std::fclose(file_);
}

// Only the publisher thread writes: the unlocked calls skip the stream lock of every call.
void FileOutput::send(std::string_view, std::string_view payload) {
  fwrite_unlocked(payload.data(), 1, payload.size(), file_);
  putc_unlocked('\n', file_);
}

void FileOutput::idle() { std::fflush(file_); }

}  // namespace rivulet::connectors
