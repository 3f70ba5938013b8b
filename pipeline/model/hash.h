// hashKey: a 64-bit hash of a short byte string; KeyHasher: the hash of an encoded group-by key,
// computed once per event at the source while the key is encoded.
// Keys are short (a symbol, an id: 5 to 40 bytes), so it folds 8-byte words with a 64x64->128
// multiply; every output bit depends on every input bit, which matters twice: the high bits pick
// the stage, the low bits the slot in a stage's KeyTable. Not for untrusted-collision resistance:
// KeyTable compares whole keys, so collisions cost time, never correctness.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "pipeline/model/key.h"

namespace rivulet::pipeline {

namespace hash_detail {

__extension__ using U128 = unsigned __int128;

inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) noexcept {
  const U128 product = static_cast<U128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// Odd constants with well-spread bits (from the fractional parts of sqrt(2), sqrt(3), sqrt(5)).
inline constexpr std::uint64_t kSeed = 0x6a09e667f3bcc909ULL;
inline constexpr std::uint64_t kWord = 0xbb67ae8584caa73bULL;
inline constexpr std::uint64_t kFinal = 0x3c6ef372fe94f82bULL;

inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The 1 to 7 bytes at p as one word, from at most two loads that may overlap (every byte counts;
// the length is hashed separately). Copying the tail byte by byte into a zeroed word and reading
// it back would stall on store-to-load forwarding on every key.
inline std::uint64_t tailWord(const char* p, std::size_t n) noexcept {
  if (n >= 4) return load32(p) | load32(p + n - 4) << 32;
  const auto byte = [p](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]));
  };
  return byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16;
}

// Folds `bytes` into `h`, 8 at a time, then the 1 to 7 bytes left.
inline std::uint64_t foldBytes(std::uint64_t h, std::string_view bytes) noexcept {
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = fold(h ^ word, kWord);
  }
  if (n > 0) h = fold(h ^ tailWord(p, n), kWord);
  return h;
}

}  // namespace hash_detail

// Hashes an encoded key part by part, from the parts' own bytes: the router hashes a key while it
// encodes it, instead of re-reading the bytes it has just stored into the record, which would
// stall on store-to-load forwarding (small stores, one wide load) on every event.
// KeyHasher over the parts of an encoded key == hashEncodedKey(that key).
class KeyHasher {
 public:
  void add(char type, std::string_view bytes) noexcept {
    using namespace hash_detail;
    h_ = fold(h_ ^ (static_cast<std::uint64_t>(static_cast<unsigned char>(type)) |
                    static_cast<std::uint64_t>(bytes.size()) << 8),
              kWord);
    h_ = foldBytes(h_, bytes);
  }
  std::uint64_t finish() const noexcept { return hash_detail::fold(h_, hash_detail::kFinal); }

 private:
  std::uint64_t h_ = hash_detail::kSeed;
};

inline std::uint64_t hashEncodedKey(std::string_view encoded) noexcept {
  KeyHasher hasher;
  KeyParts parts(encoded);
  KeyPartType type;
  std::string_view bytes;
  while (parts.next(type, bytes)) hasher.add(static_cast<char>(type), bytes);
  return hasher.finish();
}

// The length is folded in on its own: XORed into the first word it would share bits with the
// tail word of a short key, and "2" would hash like "12".
inline std::uint64_t hashKey(std::string_view key) noexcept {
  using namespace hash_detail;
  return fold(foldBytes(fold(kSeed ^ key.size(), kWord), key), kFinal);
}

}  // namespace rivulet::pipeline
