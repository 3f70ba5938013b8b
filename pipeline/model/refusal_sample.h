// RefusalSample: the text of one refused event, handed from the source thread that refused it to
// the control thread that logs it (daemon/refusal_log.h). A mailbox of one: the source fills it
// when it is empty, the logger empties it when it has written it out, so a refusal costs the
// source one load while a sample waits, and no lock or system call ever.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace rivulet::pipeline {

// How much of a refused event a warning shows.
inline constexpr std::size_t kSampleBytes = 200;

class RefusalSample {
 public:
  // Source thread only. Keeps the first kSampleBytes of `text` unless a sample is waiting.
  void offer(std::string_view text) noexcept {
    // Acquire: pairs with take()'s release, so the logger's reads of text_ are done before the
    // bytes are written again.
    if (full_.load(std::memory_order_acquire)) return;
    size_ = std::min(text.size(), kSampleBytes);
    cut_ = text.size() > kSampleBytes;
    if (size_ > 0) std::memcpy(text_.data(), text.data(), size_);
    full_.store(true, std::memory_order_release);  // publishes text_ to the logger
  }

  // Control thread only: whether a sample waits to be taken.
  bool waiting() const noexcept { return full_.load(std::memory_order_acquire); }

  // Control thread only, after waiting() returned true: the sample (an event without text, such
  // as a generator's, gives ""), with "..." when it was cut. Empties the mailbox.
  std::string take() {
    std::string text(text_.data(), size_);
    if (cut_) text += "...";
    full_.store(false, std::memory_order_release);  // hands text_ back to the source
    return text;
  }

 private:
  std::atomic<bool> full_{false};
  bool cut_ = false;
  std::size_t size_ = 0;
  std::array<char, kSampleBytes> text_{};
};

}  // namespace rivulet::pipeline
