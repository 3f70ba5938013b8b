// Files for the tests: a fresh temp dir removed with everything in it, and whole-file reads and
// writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rivulet::testutil {

// A fresh directory under $TMPDIR (or /tmp), named <prefix>-XXXXXX, removed with everything in it
// unless RIVULET_KEEP_TEST_DIRS is set in the environment.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "rivulet-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

void writeFile(const std::string& path, std::string_view text);
// Appends with one write(2) per call, so a reader following the file never sees half a call.
void appendFile(const std::string& path, std::string_view text);
std::string readFile(const std::string& path);
std::vector<std::string> splitLines(std::string_view text);

}  // namespace rivulet::testutil
