// ZeroMQ CURVE keys: 32-byte keys held as Z85 text (40 characters), read from files. A key file
// holds one key; blank lines and lines starting with '#' are skipped. `rivuletd --curve-keypair`
// writes such files.
#pragma once

#include <optional>
#include <string>

namespace rivulet::config {

inline constexpr std::size_t kCurveKeyText = 40;

// Whether `text` is a Z85-encoded 32-byte key.
bool isCurveKey(const std::string& text);

// The public key of a secret key (both Z85); nullopt when `secret` is not a key.
std::optional<std::string> curvePublicKey(const std::string& secret);

// Reads the one key in `path`. On failure returns nullopt and says why in `error` (never
// quoting the file's content: it may be a secret key).
std::optional<std::string> readCurveKeyFile(const std::string& path, std::string& error);

// Makes a new key pair and writes `prefix`.secret (mode 0600) and `prefix`.public (0644); neither
// may exist yet. On failure returns false and says why in `error`.
bool writeCurveKeyPair(const std::string& prefix, std::string& error);

}  // namespace rivulet::config
