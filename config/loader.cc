#include "config/loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "config/duration.h"
#include "config/sections.h"
#include "config/text/message_text.h"
#include "config/yaml_reader.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kTopLevelKeys[] = {"daemon", "sources", "tables", "pipelines",
                                              "outputs"};
constexpr std::size_t kMaxFileBytes = std::size_t{16} << 20;
// Pipelines reading pipelines run in tiers of stage threads: a longer chain is a mistake rather
// than a plan.
constexpr int kMaxTiers = 8;

// Where each of the text's first documents starts, up to `most`. yaml-cpp 0.7 (Debian 12's) never
// ends some invalid texts, a stray "," among them: its parser starts an empty document at the same
// place again and again, and YAML::LoadAll collects them until memory runs out. Counting them with
// the parser itself stops there; a document that starts where the one before it did is that loop.
class DocumentStarts final : public YAML::EventHandler {
 public:
  static std::vector<YAML::Mark> of(const std::string& text, std::size_t most) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (starts.marks_.size() < most && parser.HandleNextDocument(starts)) {
    }
    return std::move(starts.marks_);
  }

  void OnDocumentStart(const YAML::Mark& mark) override { marks_.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  std::vector<YAML::Mark> marks_;
};

// The names a pipeline's `from:` gives, read without reporting: the plan's edges, known before
// any pipeline is read.
std::vector<std::string> fromNames(const Entry& entry) {
  std::vector<std::string> names;
  const YAML::Node& pipeline = entry.value.node;
  if (!pipeline.IsMap()) return names;
  // A missing key is an invalid node, which throws on any question but whether it is valid.
  const auto add = [&](const YAML::Node& from) {
    if (!from) return;
    if (from.IsScalar()) names.push_back(from.Scalar());
    if (!from.IsSequence()) return;
    for (const YAML::Node& item : from) {
      if (item.IsScalar()) names.push_back(item.Scalar());
    }
  };
  add(pipeline["from"]);
  // A join's inputs, under each side.
  if (const YAML::Node join = pipeline["join"]; join && join.IsMap()) {
    for (const char* side : {"left", "right"}) {
      if (const YAML::Node input = join[side]; input && input.IsMap()) add(input["from"]);
    }
  }
  return names;
}

// Where to report what a pipeline reads: its from:, or its join:.
Value inputsOf(const Entry& entry) {
  for (const char* key : {"from", "join"}) {
    if (const YAML::Node node = entry.value.node[key]; node) {
      return Value{node, childPath(entry.value.path, key), node.Mark()};
    }
  }
  return entry.value;
}

// The pipelines in config order, each read after the pipeline it reads (so that its fields are
// known); pipelines reading each other in a cycle are reported, with the cycle, at their from:.
std::vector<PipelineConfig> readPipelines(YamlReader& reader, const std::vector<Entry>& entries,
                                          SourceTable& table, std::vector<TableSpec>& tables) {
  const std::size_t n = entries.size();
  std::vector<std::vector<std::size_t>> reads(n);  // the pipelines each names in from:
  for (std::size_t i = 0; i < n; ++i) {
    for (const std::string& name : fromNames(entries[i])) {
      const bool source = std::any_of(table.sources.begin(), table.sources.end(),
                                      [&](const SourceInfo& s) { return s.name == name; });
      for (std::size_t j = 0; j < n && !source; ++j) {
        if (entries[j].key == name) reads[i].push_back(j);
      }
    }
  }
  for (const Entry& entry : entries) table.pipeline_names.push_back(entry.key);
  std::vector<PipelineConfig> pipelines(n);
  std::vector<bool> done(n, false);
  std::vector<int> tier(n, 0);  // config::pipelineTiers(), as they are read
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i] || !std::all_of(reads[i].begin(), reads[i].end(),
                                  [&](std::size_t j) { return static_cast<bool>(done[j]); })) {
        continue;
      }
      for (const std::size_t j : reads[i]) tier[i] = std::max(tier[i], tier[j] + 1);
      pipelines[i] = readPipeline(reader, entries[i], table, tables);
      table.pipelines.push_back(resultsOf(pipelines[i]));
      table.pipelines.back().tier = tier[i];
      if (tier[i] == kMaxTiers) {
        reader.error(inputsOf(entries[i]),
                     "a chain of more than " + std::to_string(kMaxTiers) +
                         " pipelines reading pipelines (each runs on stages of its own)");
      }
      done[i] = true;
      progress = true;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (done[i]) continue;
    // Follow what it reads until a pipeline comes round again: that is the cycle.
    std::vector<std::size_t> path{i};
    while (true) {
      const auto next = std::find_if(reads[path.back()].begin(), reads[path.back()].end(),
                                     [&](std::size_t j) { return !done[j]; });
      const auto seen = std::find(path.begin(), path.end(), *next);
      if (seen != path.end()) {
        std::string cycle;
        for (auto it = seen; it != path.end(); ++it) cycle += quote(entries[*it].key) + " reads ";
        cycle += quote(entries[*seen].key);
        reader.error(inputsOf(entries[i]), seen == path.begin()
                                               ? "pipelines read each other in a cycle: " + cycle
                                               : "reads a cycle of pipelines: " + cycle);
        break;
      }
      path.push_back(*next);
    }
    pipelines[i].name = entries[i].key;
  }
  for (std::size_t j = 0; j < n; ++j) {
    const YAML::Node publish =
        entries[j].value.node.IsMap() ? entries[j].value.node["publish"] : YAML::Node();
    const bool read = std::any_of(reads.begin(), reads.end(), [&](const auto& r) {
      return std::find(r.begin(), r.end(), j) != r.end();
    });
    if (publish && !pipelines[j].publish && !read) {
      reader.error(Value{publish, childPath(entries[j].value.path, "publish"), publish.Mark()},
                   "publish: false, and no pipeline reads " + quote(entries[j].key) +
                       ": its results would go nowhere");
    }
  }
  return pipelines;
}

Config readConfig(YamlReader& reader, const Value& root) {
  Config config;
  auto map = reader.map(root);
  if (!map) return config;
  if (const Entry* e = map->find("daemon")) config.daemon = readDaemon(reader, e->value);

  SourceTable table;
  if (const Entry* e = map->require("sources")) {
    if (auto sources = reader.map(e->value)) {
      table.readable = true;
      if (sources->empty()) reader.error(e->value, "at least one source is required");
      for (const Entry& entry : sources->entries()) {
        SourceInfo info;
        config.sources.push_back(readSource(reader, entry, &info));
        table.sources.push_back(std::move(info));
      }
    }
  }
  if (const Entry* e = map->find("tables")) config.tables = readTables(reader, e->value);
  if (const Entry* e = map->require("pipelines")) {
    if (auto pipelines = reader.map(e->value)) {
      if (pipelines->empty()) reader.error(e->value, "at least one pipeline is required");
      config.pipelines = readPipelines(reader, pipelines->entries(), table, config.tables);
    }
  }
  if (const Entry* e = map->find("outputs")) {
    config.outputs = readOutputs(reader, e->value, config.pipelines);
  }
  map->reportUnknown(kTopLevelKeys);
  return config;
}

LoadResult failed(YamlReader& reader) {
  LoadResult result;
  result.errors = reader.takeErrors();
  return result;
}

const char* kindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kGenerator:
      return "generator";
    case SourceKind::kFile:
      return "file";
    case SourceKind::kTcp:
      return "tcp";
    case SourceKind::kKafka:
      return "kafka";
    case SourceKind::kUdp:
      return "udp";
    case SourceKind::kZmq:
      return "zmq";
  }
  return "?";
}

std::string counted(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

std::string ConfigError::toString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

LoadResult loadString(std::string_view yaml, const std::string& file_name) {
  YamlReader reader(file_name);
  const std::string text(yaml);
  YAML::Node document;
  try {
    const std::vector<YAML::Mark> starts = DocumentStarts::of(text, 3);
    for (std::size_t i = 1; i < starts.size(); ++i) {
      if (starts[i].pos == starts[i - 1].pos) {
        const std::size_t at = static_cast<std::size_t>(starts[i].pos);
        reader.error(starts[i], "",
                     "invalid YAML: unexpected " +
                         (at < text.size() ? quote(std::string(1, text[at])) : "end"));
        return failed(reader);
      }
    }
    if (starts.size() > 1) {
      reader.error(starts[1], "", "only one YAML document is allowed in a config file");
      return failed(reader);
    }
    if (!starts.empty()) document = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    reader.error(e.mark, "", "invalid YAML: " + e.msg);
    return failed(reader);
  }
  if (!document || document.IsNull()) {
    reader.error(YAML::Mark(), "",
                 "the config is empty (expected a map with \"sources\" and \"pipelines\")");
    return failed(reader);
  }
  Config config = readConfig(reader, Value{document, "", document.Mark()});
  if (reader.errorCount() > 0) return failed(reader);
  config.file = file_name;
  LoadResult result;
  result.config = std::move(config);
  return result;
}

LoadResult loadFile(const std::string& path) {
  const auto fail = [&](const std::string& message) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, 0, "", message});
    return result;
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return fail(std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buffer[64 * 1024];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    text.append(buffer, n);
    // A wrong path (a log, /dev/zero) should fail fast, not fill memory.
    if (text.size() > kMaxFileBytes) {
      return fail("larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB, not a config file");
    }
  }
  if (std::ferror(file.get())) return fail(std::string("cannot read: ") + std::strerror(errno));
  return loadString(text, path);
}

std::string summary(const Config& config) {
  std::string out = config.file + ": ok: " + counted(config.sources.size(), "source") + " (";
  for (std::size_t i = 0; i < config.sources.size(); ++i) {
    if (i > 0) out += ", ";
    out += config.sources[i].name + ": " + kindName(config.sources[i].kind);
  }
  out += "), " + counted(config.pipelines.size(), "pipeline") + " (";
  for (std::size_t i = 0; i < config.pipelines.size(); ++i) {
    const PipelineConfig& p = config.pipelines[i];
    if (i > 0) out += ", ";
    out += p.name + ": ";
    switch (p.window.kind) {
      case WindowKind::kTumbling:
        out += "tumbling " + formatDuration(p.window.size);
        break;
      case WindowKind::kHopping:
        out += "hopping " + formatDuration(p.window.size) + "/" + formatDuration(p.window.slide);
        break;
      case WindowKind::kSession:
        out += "session gap " + formatDuration(p.window.size);
        break;
    }
  }
  out += ")";
  if (!config.tables.empty()) {
    out += ", " + counted(config.tables.size(), "table") + " (";
    for (std::size_t i = 0; i < config.tables.size(); ++i)
      out += (i > 0 ? ", " : "") + config.tables[i].name;
    out += ")";
  }
  if (const auto& curve = config.daemon.publish_curve) {
    out += ", results over CURVE to " + counted(curve->clients.size(), "client key");
  }
  return out;
}

}  // namespace rivulet::config
