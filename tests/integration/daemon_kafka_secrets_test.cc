// A kafka source's secret properties (SASL and TLS passwords, the OAUTHBEARER secrets) never
// appear in what rivuletd prints: not in `--check`, not in the log of a running daemon at debug
// level with librdkafka's configuration dump on (`debug: conf`), not in the errors of a config or
// a start that fails. The mock broker is PLAINTEXT, so librdkafka ignores the SASL and TLS
// settings and the source really consumes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/support/mock_kafka.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

const std::string kTopic = "orders";
// Distinctive values: none of them can turn up in a log by accident.
const std::vector<std::string> kSecrets = {"sasl-pw-Xk3qLm9vR2", "sslkey-pw-Tn4vBw2pQ8",
                                           "keystore-pw-Lw5zHn1cV6", "oidc-secret-Hc7jYs0eK4",
                                           "oauth-cfg-principal-Mb2rUd8fA3"};

std::string properties() {
  return "    properties:\n"
         "      sasl.mechanisms: SCRAM-SHA-512\n"
         "      sasl.username: rivulet\n"
         "      sasl.password: \"" +
         kSecrets[0] +
         "\"\n"
         "      ssl.key.password: \"" +
         kSecrets[1] +
         "\"\n"
         "      ssl.keystore.password: \"" +
         kSecrets[2] +
         "\"\n"
         "      sasl.oauthbearer.config: \"principal=" +
         kSecrets[3] + "\"\n";
}

std::string configYaml(const TempDir& dir, const MockKafka& kafka, const std::string& extra) {
  return daemonYaml(dir, {.stages = 1, .more = "  log_level: debug\n"}) +
         "sources:\n  orders:\n    kind: kafka\n    brokers: " + kafka.bootstraps() +
         "\n    topics: [" + kTopic +
         "]\n    group: rivulet-secrets\n"
         "    time: {field: ts, unit: ms}\n" +
         properties() + extra +
         "pipelines:\n"
         "  per_sym:\n"
         "    from: orders\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: count()\n";
}

::testing::AssertionResult holdsNoSecret(const std::string& what, const std::string& text) {
  for (const std::string& secret : kSecrets) {
    if (text.find(secret) != std::string::npos) {
      return ::testing::AssertionFailure() << what << " holds the secret " << secret << ":\n"
                                           << text;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(KafkaSecrets, CheckPrintsNoSecret) {
  MockKafka kafka(1);
  TempDir dir;
  writeFile(dir.file("c.yaml"), configYaml(dir, kafka, "      debug: conf\n"));
  const CommandResult r =
      runCommand(dir, {kDaemonPath, "--check", "--config", dir.file("c.yaml")}, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok: 1 source (orders: kafka)"));
  EXPECT_TRUE(holdsNoSecret("--check's stdout", r.out));
  EXPECT_TRUE(holdsNoSecret("--check's stderr", r.err));
}

// librdkafka's configuration dump lists every property set, the secret ones too: its own
// redaction covers most, the source's log callback the rest.
TEST(KafkaSecrets, TheLogAtDebugLevelHoldsNoSecret) {
  MockKafka kafka(1);
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 1));
  for (int i = 0; i < 10; ++i) {
    ASSERT_NO_FATAL_FAILURE(kafka.produce(
        kTopic, 0, "k", R"({"ts":)" + std::to_string(1'700'000'000'000 + i) + R"(,"sym":"A"})"));
  }
  ASSERT_TRUE(kafka.flush());
  TempDir dir;
  Daemon daemon(dir, configYaml(dir, kafka, "      debug: conf,security\n"));
  ASSERT_TRUE(daemon.waitReady());
  // The source consumed: it connected with these settings.
  Metrics m;
  ASSERT_TRUE(
      daemon.waitMetric("rivulet_source_events_total", {{"source", "orders"}}, 10, 30s, &m));
  EXPECT_EQ(m.valueOr0("rivulet_source_events_total", {{"source", "orders"}}), 10);
  // The dump was printed, with the secrets in it redacted.
  EXPECT_THAT(daemon.log(), HasSubstr("sasl.password = [redacted]"));
  EXPECT_THAT(daemon.log(), HasSubstr("client.id = rivulet-orders"));  // nothing else scrubbed
  EXPECT_THAT(daemon.log(), HasSubstr("sasl.oauthbearer.config = [redacted]"));
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
  EXPECT_TRUE(holdsNoSecret("the daemon's log", daemon.log()));
}

// A start that librdkafka refuses: the error names the property at fault, and no secret of the
// others.
TEST(KafkaSecrets, AFailedStartPrintsNoSecret) {
  MockKafka kafka(1);
  TempDir dir;
  writeFile(dir.file("bad.yaml"), configYaml(dir, kafka, "      fetch.wait.max.ms: soon\n"));
  const CommandResult r = runCommand(dir, {kDaemonPath, "--config", dir.file("bad.yaml")}, 30s);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("source orders: kafka property fetch.wait.max.ms: "));
  EXPECT_TRUE(holdsNoSecret("the failed start's stderr", r.err));
}

// A config error: properties written as one string (the Java client's form), and a property
// value of the wrong type. Neither error echoes a value.
TEST(KafkaSecrets, ConfigErrorsPrintNoSecret) {
  MockKafka kafka(1);
  TempDir dir;
  std::string yaml =
      configYaml(dir, kafka, "      sasl.kerberos.keytab: [\"" + kSecrets[1] + "\"]\n");
  writeFile(dir.file("list.yaml"), yaml);
  const std::string as_string =
      "    properties: \"sasl.username=rivulet sasl.password=" + kSecrets[0] + "\"\n";
  const std::size_t at = yaml.find("    properties:\n");
  const std::size_t end = yaml.find("pipelines:");
  yaml.replace(at, end - at, as_string);
  writeFile(dir.file("string.yaml"), yaml);
  for (const char* file : {"list.yaml", "string.yaml"}) {
    const CommandResult r =
        runCommand(dir, {kDaemonPath, "--check", "--config", dir.file(file)}, 30s);
    ASSERT_EQ(r.exit_code, 1) << file << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("sources.orders.properties")) << file;
    EXPECT_TRUE(holdsNoSecret(std::string(file) + ": --check's stderr", r.err));
    EXPECT_TRUE(holdsNoSecret(std::string(file) + ": --check's stdout", r.out));
  }
}

}  // namespace
}  // namespace rivulet::testutil
