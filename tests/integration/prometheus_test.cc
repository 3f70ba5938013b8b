// rivulet watched by a real Prometheus server (Debian's /usr/bin/prometheus): it scrapes a running
// rivuletd every second over loopback, and the test asks its HTTP API for the daemon's series, for
// every query docs/operations.md offers for dashboards, and for the health of the example alert
// rules, which it evaluates against those series. Also: promtool accepts examples/alerts.yml, its
// unit tests (tests/integration/alerts_test.yml) pass, and every metric the docs and the rules
// name is one the daemon exports.
//
// Prometheus is ready in ~0.2 s but scrapes a new target only after ~6 s: every wait polls the
// API with a deadline.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

const std::string kPrometheus = "/usr/bin/prometheus";
const std::string kPromtool = "/usr/bin/promtool";

// A port on 127.0.0.1 that was free a moment ago (the kernel's pick). Prometheus takes a port
// only as a number, so the test cannot hand it port 0; the caller retries on the rare clash.
int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

std::string urlEncode(std::string_view text) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The answer to an instant query: the samples of a vector, or why there are none.
struct QueryResult {
  std::string error;  // empty when Prometheus answered "success"
  std::vector<Sample> samples;
};

// The queries of docs/operations.md: the contents of its ```promql blocks, one query each.
std::vector<std::string> documentedQueries() {
  const std::string doc = readFile(kSourceDir + "/docs/operations.md");
  std::vector<std::string> queries;
  const std::string open = "```promql\n";
  for (std::size_t at = doc.find(open); at != std::string::npos; at = doc.find(open, at)) {
    at += open.size();
    const std::size_t end = doc.find("```", at);
    queries.push_back(doc.substr(at, end - at));
    at = end;
  }
  return queries;
}

// Debian's Prometheus server with a config of the test's own and storage in its temp dir,
// listening on 127.0.0.1 only. Stopped (SIGTERM, then SIGKILL) with the object.
class PrometheusServer {
 public:
  PrometheusServer(const TempDir& dir, const std::string& config_yaml) : dir_(dir) {
    writeFile(dir.file("prometheus.yml"), config_yaml);
    // A port picked free may be taken by someone else before Prometheus binds it: try again.
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
      port_ = freeLoopbackPort();
      process_.reset();
      process_.emplace(
          std::vector<std::string>{
              kPrometheus,
              "--config.file=" + dir.file("prometheus.yml"),
              "--storage.tsdb.path=" + dir.file("tsdb"),
              "--web.listen-address=127.0.0.1:" + std::to_string(port_),
              "--log.level=warn",
          },
          dir.file("prometheus.out"), dir.file("prometheus.log"));
      std::string error;
      ready_ = waitUntil(
          [&] {
            if (!process_->running()) return true;
            const auto r = httpGet(port_, "/-/ready", &error, 1s);
            return r && r->status == 200;
          },
          30s, 20ms);
      ready_ = ready_ && process_->running();
    }
  }
  ~PrometheusServer() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "[prometheus log]\n%s\n", log().c_str());
    }
  }

  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string log() const { return readFile(dir_.file("prometheus.log")); }
  ChildProcess& process() { return *process_; }

  // GET /api/v1/<path>; the parsed JSON's "data", or an error.
  QueryResult query(const std::string& promql) const {
    QueryResult result;
    simdjson::dom::element data;
    if (!get("query?query=" + urlEncode(promql), data, result.error)) return result;
    simdjson::dom::array vector;
    if (data["result"].get(vector) != simdjson::SUCCESS) return result;  // a scalar
    for (simdjson::dom::element series : vector) {
      Sample sample;
      simdjson::dom::object labels;
      if (series["metric"].get(labels) == simdjson::SUCCESS) {
        for (auto [key, value] : labels) {
          sample.labels[std::string(key)] = std::string(value.get_string().value_unsafe());
        }
      }
      std::string_view text;
      if (series["value"].at(1).get(text) == simdjson::SUCCESS) {
        sample.value = std::strtod(std::string(text).c_str(), nullptr);
      }
      result.samples.push_back(std::move(sample));
    }
    return result;
  }

  // Polls `promql` until `condition(result)` holds; the last result either way.
  template <typename Condition>
  QueryResult queryUntil(const std::string& promql, Condition&& condition,
                         milliseconds timeout) const {
    QueryResult last;
    waitUntil(
        [&] {
          last = query(promql);
          return last.error.empty() && condition(last);
        },
        timeout, 200ms);
    return last;
  }

  // The rule groups' health: rule name -> "ok" / "err" / "unknown", and the error if any.
  std::map<std::string, std::string> ruleHealth(std::string& error) const {
    std::map<std::string, std::string> health;
    simdjson::dom::element data;
    if (!get("rules", data, error)) return health;
    simdjson::dom::array groups;
    if (data["groups"].get(groups) != simdjson::SUCCESS) return health;
    for (simdjson::dom::element group : groups) {
      simdjson::dom::array rules;
      if (group["rules"].get(rules) != simdjson::SUCCESS) continue;
      for (simdjson::dom::element rule : rules) {
        std::string_view name, state, last_error;
        if (rule["name"].get(name) != simdjson::SUCCESS) continue;
        if (rule["health"].get(state) != simdjson::SUCCESS) state = "?";
        std::string value(state);
        if (rule["lastError"].get(last_error) == simdjson::SUCCESS && !last_error.empty()) {
          value += ": " + std::string(last_error);
        }
        health[std::string(name)] = value;
      }
    }
    return health;
  }

 private:
  bool get(const std::string& path, simdjson::dom::element& data, std::string& error) const {
    const auto response = httpGet(port_, "/api/v1/" + path, &error);
    if (!response) return false;
    body_ = simdjson::padded_string(response->body);
    simdjson::dom::element doc;
    if (parser_.parse(body_).get(doc) != simdjson::SUCCESS) {
      error = "not JSON: " + response->body.substr(0, 300);
      return false;
    }
    std::string_view status;
    if (doc["status"].get(status) != simdjson::SUCCESS || status != "success") {
      std::string_view message;
      if (doc["error"].get(message) != simdjson::SUCCESS) message = "(no error message)";
      error = "HTTP " + std::to_string(response->status) + ": " + std::string(message);
      return false;
    }
    return doc["data"].get(data) == simdjson::SUCCESS;
  }

  const TempDir& dir_;
  std::optional<ChildProcess> process_;
  int port_ = 0;
  bool ready_ = false;
  mutable simdjson::dom::parser parser_;
  mutable simdjson::padded_string body_;
};

std::string daemonConfig() {
  return daemonYaml({.publish = "tcp://127.0.0.1:0", .stages = 1}) + "sources:\n" +
         generatorYaml("gen", 10, 10000, 10000, "    watermark: {delay: 100ms}\n") +
         "pipelines:\n" + perKeyPipelineYaml("per_key", "gen");
}

std::string prometheusConfig(int metrics_port) {
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  evaluation_interval: 1s\n"
         "rule_files:\n"
         "  - " +
         kSourceDir +
         "/examples/alerts.yml\n"
         "scrape_configs:\n"
         "  - job_name: rivulet\n"
         "    static_configs:\n"
         "      - targets: ['127.0.0.1:" +
         std::to_string(metrics_port) + "']\n";
}

std::optional<double> valueOf(const QueryResult& r) {
  if (r.samples.size() != 1) return std::nullopt;
  return r.samples.front().value;
}

TEST(Prometheus, ScrapesTheDaemonAndAnswersTheDocumentedQueries) {
  TempDir dir;
  Daemon daemon(dir, daemonConfig());
  ASSERT_TRUE(daemon.waitReady());
  std::string version;
  {
    const CommandResult v = runCommand(dir, {kDaemonPath, "--version"});
    version = v.out.substr(9, v.out.find('\n') - 9);  // "rivuletd X.Y.Z"
  }
  PrometheusServer prometheus(dir, prometheusConfig(daemon.metricsPort()));
  ASSERT_TRUE(prometheus.ready()) << "prometheus did not start:\n" << prometheus.log();

  // The target is up once Prometheus has scraped it.
  const QueryResult up = prometheus.queryUntil(
      "up{job=\"rivulet\"}", [](const QueryResult& r) { return valueOf(r) == 1.0; }, 60s);
  ASSERT_EQ(valueOf(up), 1.0) << "target not up: " << up.error;
  EXPECT_EQ(up.samples.front().labels.at("instance"),
            "127.0.0.1:" + std::to_string(daemon.metricsPort()));

  // The daemon's series, as Prometheus stored them.
  const QueryResult events = prometheus.queryUntil(
      "rivulet_source_events_total{job=\"rivulet\",source=\"gen\"}",
      [](const QueryResult& r) { return valueOf(r).value_or(0) > 0; }, 30s);
  EXPECT_GT(valueOf(events).value_or(0), 0) << events.error;
  const QueryResult build = prometheus.query("rivulet_build_info{job=\"rivulet\"}");
  ASSERT_EQ(build.samples.size(), 1u) << build.error;
  EXPECT_EQ(build.samples.front().labels.at("version"), version);
  EXPECT_EQ(build.samples.front().value, 1.0);
  const QueryResult rss = prometheus.query("rivulet_process_resident_memory_bytes");
  EXPECT_GT(valueOf(rss).value_or(0), 0) << rss.error;
  const QueryResult stage = prometheus.query("rivulet_stage_seconds_total{stage=\"0\"}");
  EXPECT_EQ(stage.samples.size(), 2u) << "busy and idle: " << stage.error;

  // A rate needs two scrapes of a counter: events/s as a dashboard shows it.
  const QueryResult rate = prometheus.queryUntil(
      "sum by (source) (rate(rivulet_source_events_total[1m]))",
      [](const QueryResult& r) { return valueOf(r).value_or(0) > 0; }, 30s);
  EXPECT_GT(valueOf(rate).value_or(0), 0) << rate.error;

  // Every documented query is valid PromQL over series this daemon has; the ones about data a
  // generator source produces also return something.
  const std::vector<std::string> queries = documentedQueries();
  EXPECT_GE(queries.size(), 20u) << "docs/operations.md lost its queries";
  const std::set<std::string> must_answer = {
      "sum by (instance, source) (rate(rivulet_source_events_total[1m]))\n",
      "max by (instance, pipeline) (rivulet_watermark_lag_seconds)\n",
      "rate(rivulet_process_cpu_seconds_total[1m])\n",
      "time() - rivulet_process_start_time_seconds\n",
  };
  std::size_t answered = 0;
  for (const std::string& q : queries) {
    const QueryResult r = prometheus.query(q);
    EXPECT_EQ(r.error, "") << q;
    if (must_answer.count(q) == 1) {
      ++answered;
      EXPECT_FALSE(r.samples.empty()) << "no series for: " << q;
    }
  }
  EXPECT_EQ(answered, must_answer.size()) << "a query the test expects is no longer documented";

  // The example alert rules, evaluated every second against these series, all evaluate cleanly.
  std::string error;
  std::map<std::string, std::string> health;
  const bool evaluated = waitUntil(
      [&] {
        health = prometheus.ruleHealth(error);
        if (health.empty()) return false;
        for (const auto& [name, state] : health) {
          if (state == "unknown") return false;
        }
        return true;
      },
      30s, 200ms);
  EXPECT_TRUE(evaluated) << error;
  EXPECT_GE(health.size(), 15u);
  for (const auto& [name, state] : health) EXPECT_EQ(state, "ok") << name;

  // Both stop cleanly.
  ASSERT_TRUE(prometheus.process().signal(SIGTERM));
  EXPECT_EQ(prometheus.process().wait(30s), 0) << prometheus.log();
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

TEST(Alerts, PromtoolAcceptsTheExampleRules) {
  TempDir dir;
  const CommandResult r =
      runCommand(dir, {kPromtool, "check", "rules", kSourceDir + "/examples/alerts.yml"});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("SUCCESS"));
}

TEST(Alerts, FireOnTheSeriesTheyAreFor) {
  TempDir dir;
  const CommandResult r = runCommand(
      dir, {kPromtool, "test", "rules", kSourceDir + "/tests/integration/alerts_test.yml"});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("SUCCESS"));
}

// What /metrics declares (# TYPE lines), whether or not a family has samples yet.
std::map<std::string, std::string> exportedFamilies(const std::string& exposition) {
  std::map<std::string, std::string> families;
  for (const std::string& line : splitLines(exposition)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::size_t space = line.find(' ', 7);
    families[line.substr(7, space - 7)] = line.substr(space + 1);
  }
  return families;
}

TEST(Alerts, DocsAndRulesNameOnlyExportedMetrics) {
  TempDir dir;
  Daemon daemon(dir, daemonConfig());
  ASSERT_TRUE(daemon.waitReady());
  std::string error;
  const auto response = httpGet(daemon.metricsPort(), "/metrics", &error);
  ASSERT_TRUE(response) << error;
  const std::map<std::string, std::string> families = exportedFamilies(response->body);
  ASSERT_TRUE(families.count("rivulet_source_events_total")) << response->body;

  std::string text = readFile(kSourceDir + "/examples/alerts.yml");
  for (const std::string& q : documentedQueries()) text += q;
  const std::regex metric("rivulet_[a-z_]+");
  std::set<std::string> named;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), metric);
       it != std::sregex_iterator(); ++it) {
    named.insert(it->str());
  }
  EXPECT_GE(named.size(), 15u);
  for (const std::string& name : named) {
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          families.count(family.substr(0, family.size() - s.size())) == 1) {
        family.resize(family.size() - s.size());
      }
    }
    EXPECT_EQ(families.count(family), 1u) << name << " is named but not exported";
  }
}

}  // namespace
}  // namespace rivulet::testutil
