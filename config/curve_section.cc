// `daemon.publish_curve` and a zmq source's `curve`: key files read and checked at load time.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "config/curve_key.h"
#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kServerKeys[] = {"secret_key", "clients"};
constexpr std::string_view kClientKeys[] = {"secret_key", "server_key"};

std::optional<std::string> readKey(YamlReader& reader, const Value& value) {
  const auto path = reader.nonEmptyString(value);
  if (!path) return std::nullopt;
  std::string error;
  auto key = readCurveKeyFile(*path, error);
  if (!key) reader.error(value, error);
  return key;
}

std::optional<std::string> readSecretKey(YamlReader& reader, const Value& value) {
  const auto path = reader.nonEmptyString(value);
  if (!path) return std::nullopt;
  // Like ssh with a private key: one every user can read is not secret any more.
  struct stat st {};
  if (::stat(path->c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    reader.error(value, quote(*path) + " is readable by every user: make it private (chmod o-r)");
    return std::nullopt;
  }
  return readKey(reader, value);
}

// Every file in the directory (but hidden ones) holds one client's public key.
std::vector<std::string> readClients(YamlReader& reader, const Value& value) {
  std::vector<std::string> keys;
  const auto dir = reader.nonEmptyString(value);
  if (!dir) return keys;
  std::error_code ec;
  std::filesystem::directory_iterator it(*dir, ec);
  if (ec) {
    reader.error(value, "cannot read the directory " + quote(*dir) + ": " + ec.message());
    return keys;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : it) {
    if (entry.path().filename().string().starts_with(".")) continue;
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // errors in a stable order
  for (const auto& file : files) {
    std::string error;
    if (auto key = readCurveKeyFile(file.string(), error)) {
      keys.push_back(std::move(*key));
    } else {
      reader.error(value, error);
    }
  }
  if (files.empty()) {
    reader.error(value, quote(*dir) + " holds no client keys: no client could connect");
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

std::optional<CurveSpec> readCurve(YamlReader& reader, const Value& value, CurveRole role) {
  auto map = reader.map(value);
  if (!map) return std::nullopt;
  const std::size_t errors = reader.errorCount();
  CurveSpec spec;
  if (const Entry* e = map->require("secret_key")) {
    if (auto key = readSecretKey(reader, e->value)) {
      spec.public_key = curvePublicKey(*key).value_or("");
      spec.secret_key = std::move(*key);
    }
  }
  if (role == CurveRole::kServer) {
    if (const Entry* e = map->require("clients")) spec.clients = readClients(reader, e->value);
    if (const Entry* e = map->find("server_key")) {
      reader.error(e->key_mark, e->value.path,
                   "\"server_key\" is for a socket that connects (this one binds: it lists "
                   "its clients instead)");
    }
    map->reportUnknown(kServerKeys);
  } else {
    if (const Entry* e = map->require("server_key")) {
      if (auto key = readKey(reader, e->value)) spec.server_key = std::move(*key);
    }
    if (const Entry* e = map->find("clients")) {
      reader.error(e->key_mark, e->value.path,
                   "\"clients\" is for a socket that binds (this one connects: it names the "
                   "server's key instead)");
    }
    map->reportUnknown(kClientKeys);
  }
  if (reader.errorCount() != errors) return std::nullopt;
  return spec;
}

}  // namespace rivulet::config
