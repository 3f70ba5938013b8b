#include "config/curve_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rivulet::config {

bool isCurveKey(const std::string& text) {
  std::uint8_t bytes[32];
  return text.size() == kCurveKeyText && zmq_z85_decode(bytes, text.c_str()) != nullptr;
}

std::optional<std::string> curvePublicKey(const std::string& secret) {
  if (!isCurveKey(secret)) return std::nullopt;
  char public_key[kCurveKeyText + 1];
  if (zmq_curve_public(public_key, secret.c_str()) != 0) return std::nullopt;
  return std::string(public_key);
}

std::optional<std::string> readCurveKeyFile(const std::string& path, std::string& error) {
  // A key file is a few lines: a larger one, or a device or fifo, is not read further.
  constexpr std::size_t kMaxBytes = 4096;
  struct stat st {};
  std::ifstream in;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    error = "\"" + path + "\" is not a file";
    return std::nullopt;
  }
  in.open(path);
  if (!in) {
    error = "cannot read \"" + path + "\": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxBytes) {
    error = "\"" + path + "\" is too large for a key file";
    return std::nullopt;
  }
  std::optional<std::string> key;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const std::size_t end = line.find_last_not_of(" \t\r");
    const std::string candidate = line.substr(begin, end + 1 - begin);
    if (key || !isCurveKey(candidate)) {
      error = "\"" + path + "\" does not hold one CURVE key (40 characters of Z85 text, as " +
              "rivuletd --curve-keypair writes)";
      return std::nullopt;
    }
    key = candidate;
  }
  if (!key) error = "\"" + path + "\" holds no CURVE key";
  return key;
}

namespace {

// Creates `path` (it must not exist) with `mode` and writes `text`.
bool writeNew(const std::string& path, const std::string& text, mode_t mode, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot create \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  if (!ok) error = "cannot write \"" + path + "\": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

}  // namespace

bool writeCurveKeyPair(const std::string& prefix, std::string& error) {
  char public_key[kCurveKeyText + 1];
  char secret_key[kCurveKeyText + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    error = std::string("cannot make a key pair: ") + zmq_strerror(zmq_errno());
    return false;
  }
  const std::string secret_path = prefix + ".secret";
  if (!writeNew(secret_path,
                "# CURVE secret key: keep it private\n" + std::string(secret_key) + "\n", 0600,
                error)) {
    return false;
  }
  if (!writeNew(prefix + ".public", std::string(public_key) + "\n", 0644, error)) {
    ::unlink(secret_path.c_str());
    return false;
  }
  return true;
}

}  // namespace rivulet::config
