#include "connectors/kafka/kafka_secrets.h"

#include <librdkafka/rdkafka.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace rivulet::connectors {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

// Values that are secrets: librdkafka's _RK_SENSITIVE properties (rdkafka_conf.c, 2.x) less
// those that are not (sasl.username, the paths ssl.key.location, the public ssl.ca.pem), plus
// the ones librdkafka does not mark. A value is scrubbed wherever it occurs, so a short
// non-secret one ("rivulet" as a user name) would mangle unrelated text.
constexpr std::string_view kSecretKeys[] = {"sasl.password",
                                            "sasl.oauthbearer.config",
                                            "sasl.oauthbearer.client.secret",
                                            "ssl.key.password",
                                            "ssl.key.pem",
                                            "ssl_key",
                                            "ssl.keystore.password"};
constexpr std::string_view kSecretWords[] = {"password", "secret", "token", "credential"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool isSecretKafkaProperty(std::string_view key) {
  const std::string k = lower(key);
  if (std::find(std::begin(kSecretKeys), std::end(kSecretKeys), k) != std::end(kSecretKeys)) {
    return true;
  }
  return std::any_of(std::begin(kSecretWords), std::end(kSecretWords),
                     [&](std::string_view word) { return k.find(word) != std::string::npos; });
}

KafkaSecrets::KafkaSecrets(const std::vector<std::pair<std::string, std::string>>& properties) {
  for (const auto& [key, value] : properties) {
    if (!value.empty() && isSecretKafkaProperty(key)) values_.push_back(value);
  }
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string KafkaSecrets::scrub(std::string text) const {
  for (const std::string& secret : values_) {
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
  return text;
}

void printKafkaLog(const KafkaSecrets& secrets, const rd_kafka_s* rk, int level,
                   const char* facility, const char* message) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "%%%d|%lld.%03ld|", level,
                static_cast<long long>(now.tv_sec), now.tv_nsec / 1'000'000);
  std::string line = prefix;
  line.append(facility).append("|").append(rd_kafka_name(rk)).append("| ");
  line.append(secrets.scrub(message)).append("\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace rivulet::connectors
