// A FIFO the daemon reads as a file source while the test writes it: a bounded input that ends
// when the test closes it, fed more than the 64 KiB a FIFO holds.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace rivulet::testutil {

// The test holds the FIFO open read-write, so that the daemon's open does not block and the
// input ends when the test closes it; non-blocking on the test's side, so that a writer stuck on
// a dead reader gives up at its deadline; close-on-exec, so that the daemon inherits no writer.
class Fifo {
 public:
  // Makes the FIFO at `path`; throws if it cannot.
  explicit Fifo(std::string path);
  // Joins the writer and closes the FIFO.
  ~Fifo();
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

  const std::string& path() const { return path_; }

  // Starts writing `text` on a thread of its own, which gives up after 30 s.
  void startWriting(std::string text);
  // Waits for the writer; whether it wrote all of the text.
  bool finishWriting();
  // The end of the input.
  void close();

 private:
  std::string path_;
  int fd_ = -1;
  std::string text_;
  std::thread writer_;
  std::atomic<bool> written_{false};
};

}  // namespace rivulet::testutil
