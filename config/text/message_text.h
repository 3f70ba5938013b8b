// Small text helpers shared by config error messages: quoting a bad value, listing choices and
// the "did you mean" suggestion.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rivulet::config {

// `text` in double quotes with '"', '\' and control characters escaped; long values are cut to
// 60 bytes and end in "...".
std::string quote(std::string_view text);

// "a", "a and b", "a, b and c".
std::string joinAnd(std::span<const std::string_view> words);
// "a, b, c".
std::string joinComma(std::span<const std::string_view> words);

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// two adjacent characters each cost 1.
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is within edit distance 2 and not so far that the
// suggestion would be a guess (at most half the longer word's length); the first one on ties.
std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates);

// " (did you mean \"x\"?)" when a close candidate exists, else " (" + otherwise_label + ": " + all
// candidates + ")", or "" when otherwise_label is empty.
std::string suggestion(std::string_view word, std::span<const std::string_view> candidates,
                       std::string_view otherwise_label);

}  // namespace rivulet::config
