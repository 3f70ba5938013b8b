// Which kafka properties count as secrets, and scrubbing their values from log text.
#include "connectors/kafka/kafka_secrets.h"

#include <gtest/gtest.h>

namespace rivulet::connectors {
namespace {

TEST(KafkaSecrets, LibrdkafkasSensitivePropertiesAndTheOnesItMisses) {
  for (const char* key :
       {"sasl.password", "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret",
        "ssl.key.password", "ssl.key.pem", "ssl_key", "ssl.keystore.password", "SASL.PASSWORD",
        "plugin.api.token"}) {
    EXPECT_TRUE(isSecretKafkaProperty(key)) << key;
  }
  for (const char* key : {"security.protocol", "sasl.mechanisms", "ssl.ca.location",
                          "sasl.username", "ssl.key.location", "fetch.min.bytes", "debug"}) {
    EXPECT_FALSE(isSecretKafkaProperty(key)) << key;
  }
}

TEST(KafkaSecrets, ScrubsEveryOccurrenceOfEverySecretValue) {
  const KafkaSecrets secrets({{"sasl.password", "pw-1"},
                              {"security.protocol", "SASL_SSL"},
                              {"ssl.key.password", "pw-1-longer"},
                              {"sasl.oauthbearer.client.secret", ""}});
  EXPECT_EQ(secrets.scrub("sasl.password=pw-1, again pw-1; ssl.key.password=pw-1-longer"),
            "sasl.password=[redacted], again [redacted]; ssl.key.password=[redacted]");
  EXPECT_EQ(secrets.scrub("security.protocol=SASL_SSL"), "security.protocol=SASL_SSL");
  EXPECT_FALSE(secrets.empty());
  const std::vector<std::pair<std::string, std::string>> none = {{"debug", "all"}};
  EXPECT_TRUE(KafkaSecrets(none).empty());
}

}  // namespace
}  // namespace rivulet::connectors
