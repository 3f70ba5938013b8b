#include "config/text/message_text.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace rivulet::config {
namespace {

constexpr std::size_t kMaxQuoted = 60;

}  // namespace

std::string quote(std::string_view text) {
  std::string_view shown = text;
  bool cut = false;
  if (shown.size() > kMaxQuoted) {
    std::size_t end = kMaxQuoted;
    // Do not split a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
    while (end > 0 && (static_cast<unsigned char>(shown[end]) & 0xC0) == 0x80) --end;
    shown = shown.substr(0, end);
    cut = true;
  }
  std::string out = "\"";
  for (const char c : shown) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02X", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

std::string joinAnd(std::span<const std::string_view> words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

std::string joinComma(std::span<const std::string_view> words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += ", ";
    out += words[i];
  }
  return out;
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: two back are needed for transpositions.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;
  for (const std::string_view candidate : candidates) {
    const std::size_t distance = editDistance(word, candidate);
    const std::size_t longer = std::max(word.size(), candidate.size());
    if (distance < best_distance && 2 * distance <= longer) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string suggestion(std::string_view word, std::span<const std::string_view> candidates,
                       std::string_view otherwise_label) {
  if (const auto match = closestMatch(word, candidates)) {
    return " (did you mean " + quote(*match) + "?)";
  }
  if (otherwise_label.empty() || candidates.empty()) return "";
  return " (" + std::string(otherwise_label) + ": " + joinComma(candidates) + ")";
}

}  // namespace rivulet::config
