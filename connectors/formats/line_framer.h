// LineFramer: cuts a byte stream into lines for the JSON-lines sources (file, tcp). Lines are
// handed out in place, followed by at least kPadding readable bytes, so the parser needs no copy.
// A line longer than max_line is reported once and skipped up to its newline, without buffering it.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace rivulet::connectors {

class LineFramer {
 public:
  static constexpr std::size_t kPadding = 64;  // >= simdjson::SIMDJSON_PADDING

  explicit LineFramer(std::size_t max_line) : max_line_(max_line) { buffer_.resize(kInitial); }

  // Where to read the next bytes into (never empty).
  std::span<char> writable() {
    if (begin_ > 0 && (end_ == buffer_.size() - kPadding || begin_ >= buffer_.size() / 2)) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      scan_ -= begin_;
      begin_ = 0;
    }
    if (end_ + kPadding >= buffer_.size()) buffer_.resize(buffer_.size() * 2);
    return {buffer_.data() + end_, buffer_.size() - kPadding - end_};
  }

  // `n` bytes were written into writable(). Calls on_line(line, capacity) for each complete line
  // (without its "\n" or "\r\n"; blank lines are skipped) and on_too_long() for each line over
  // max_line. `capacity` is how many bytes from line.data() may be read.
  template <typename OnLine, typename OnTooLong>
  void commit(std::size_t n, OnLine&& on_line, OnTooLong&& on_too_long) {
    end_ += n;
    while (scan_ < end_) {
      const char* nl =
          static_cast<const char*>(std::memchr(buffer_.data() + scan_, '\n', end_ - scan_));
      if (nl == nullptr) {
        scan_ = end_;
        // One byte over may still be the '\r' of a "\r\n" ending, which does not count.
        const std::size_t pending = end_ - begin_;
        if (pending > max_line_ + 1 || (pending == max_line_ + 1 && buffer_[end_ - 1] != '\r')) {
          // Over-long and still growing: report it now and drop what we have.
          if (!discarding_) on_too_long();
          discarding_ = true;
          begin_ = scan_ = end_;
        }
        break;
      }
      const std::size_t nl_at = static_cast<std::size_t>(nl - buffer_.data());
      if (discarding_) {
        discarding_ = false;
      } else {
        emit(nl_at, on_line, on_too_long);
      }
      begin_ = scan_ = nl_at + 1;
    }
    if (begin_ == end_) begin_ = scan_ = end_ = 0;
  }

  // Bytes taken by commit() that are not yet part of a handed-out line: where the next line
  // starts is this far back from the end of what was read.
  std::size_t pending() const noexcept { return end_ - begin_; }

  // End of input: a last line without a newline still counts.
  template <typename OnLine, typename OnTooLong>
  void finish(OnLine&& on_line, OnTooLong&& on_too_long) {
    if (!discarding_ && begin_ < end_) emit(end_, on_line, on_too_long);
    begin_ = scan_ = end_ = 0;
    discarding_ = false;
  }

 private:
  static constexpr std::size_t kInitial = 64 * 1024;

  template <typename OnLine, typename OnTooLong>
  void emit(std::size_t until, OnLine& on_line, OnTooLong& on_too_long) {
    std::size_t size = until - begin_;
    if (size > 0 && buffer_[begin_ + size - 1] == '\r') --size;
    if (size > max_line_) {
      on_too_long();
      return;
    }
    std::string_view line(buffer_.data() + begin_, size);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    // Bytes past `until` are either more input or the padding: readable either way.
    on_line(line, buffer_.size() - begin_);
  }

  const std::size_t max_line_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // start of the current (incomplete) line
  std::size_t scan_ = 0;   // where to look for the next newline
  std::size_t end_ = 0;    // end of the data
  bool discarding_ = false;
};

}  // namespace rivulet::connectors
