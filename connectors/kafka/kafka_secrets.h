// Which librdkafka properties hold secrets, and scrubbing their values from text that is about to
// be logged. librdkafka prints its sensitive properties as "[redacted]" in its own configuration
// dump, but its list has gaps (sasl.oauthbearer.client.secret, in builds with OIDC), so every
// line librdkafka logs through a kafka source, and every error it returns, passes through here.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct rd_kafka_s;

namespace rivulet::connectors {

// True for the properties whose values are secrets: librdkafka's sensitive ones that are
// (sasl.password, sasl.oauthbearer.config, ssl.key.password, ssl.key.pem, ssl.keystore.password)
// and any key naming a password, secret, token or credential, however librdkafka marks it.
// Not sasl.username nor ssl.key.location: librdkafka redacts them in its own dump, but they are a
// name and a path, and scrubbing them from every line would mangle it.
bool isSecretKafkaProperty(std::string_view key);

// The values of a source's secret properties, and text with each of them replaced by
// "[redacted]". Immutable once built: librdkafka's threads may scrub concurrently.
class KafkaSecrets {
 public:
  explicit KafkaSecrets(const std::vector<std::pair<std::string, std::string>>& properties);
  std::string scrub(std::string text) const;
  bool empty() const { return values_.empty(); }

 private:
  std::vector<std::string> values_;  // longest first, so that one secret inside another goes too
};

// librdkafka's log line in rd_kafka_log_print's format, to stderr like the daemon's log, with
// `secrets` scrubbed: what a kafka source's or output's log callback does (on librdkafka's
// threads: it only reads).
void printKafkaLog(const KafkaSecrets& secrets, const rd_kafka_s* rk, int level,
                   const char* facility, const char* message);

}  // namespace rivulet::connectors
