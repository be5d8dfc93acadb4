#include "core/config_registry.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace autothink::core {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, Schema> schemas;
};

Registry& registry() {
  static Registry r;  // function-local: safe during other files' static initialisation
  return r;
}

std::string registry_join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string unknown_hint(const std::string& key, const std::vector<std::string>& candidates, const std::string& what) {
  std::string suggestion = closest_name(key, candidates);
  return (suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ") + "known " + what + ": " + registry_join(candidates);
}

void append(std::vector<ConfigProblem>& to, const std::vector<ConfigProblem>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Checks one section by name against its schema, recording what was (not) checked.
void check_named_section(const Config& parent, const std::string& key, std::vector<ConfigProblem>& problems,
                         ConfigCheckReport& report) {
  const Schema* schema = find_section_schema(key);
  const YAML::Node value(parent.node()[key]);
  if (!value.IsNull() && !value.IsMap()) {
    problems.push_back({parent.full_key(key), parent.where(key),
                        parent.full_key(key) + " must be a section (a map of keys), got " + config_detail::describe_value(value), ""});
    return;
  }
  if (!schema) {
    report.unchecked.push_back(parent.full_key(key));
    return;
  }
  append(problems, schema->check(parent.section(key)));
  report.validated.push_back(parent.full_key(key));
}

void check_stage(const Config& stage, std::vector<ConfigProblem>& problems, ConfigCheckReport& report) {
  const Schema* extra = find_section_schema("demo.stage");
  std::vector<std::string> allowed = {"command", "name"};
  if (extra)
    for (const auto& n : extra->names()) allowed.push_back(n);
  for (const auto& n : known_section_names())
    if (n != "demo") allowed.push_back(n);
  if (!stage.has("command"))
    problems.push_back({stage.full_key("command"), stage.where(), stage.full_key() + " has no command", "add `command: train` (or synth, tag, rl, eval, ...)"});
  for (const auto& key : stage.keys()) {
    const YAML::Node value(stage.node()[key]);
    if (key == "command" || key == "name") {
      if (!value.IsScalar())
        problems.push_back({stage.full_key(key), stage.where(key),
                            stage.full_key(key) + " must be a string, got " + config_detail::describe_value(value), ""});
    } else if (extra && extra->find(key)) {
      // checked below, all extra keys at once
    } else if (std::count(allowed.begin(), allowed.end(), key)) {
      check_named_section(stage, key, problems, report);
    } else {
      problems.push_back({stage.full_key(key), stage.where(key), "unknown key " + stage.full_key(key), unknown_hint(key, allowed, "stage keys")});
    }
  }
  if (extra) {
    // Only the extra keys: the schema does not know command/name/sections, so drop "unknown" ones.
    for (auto& p : extra->check(stage))
      if (p.message.rfind("unknown key ", 0) != 0) problems.push_back(p);
  }
}

void check_demo(const Config& root, std::vector<ConfigProblem>& problems, ConfigCheckReport& report) {
  const YAML::Node demo(root.node()["demo"]);
  if (demo.IsNull()) return;
  if (!demo.IsMap()) {
    problems.push_back({"demo", root.where("demo"), "demo must be a section (a map of keys), got " + config_detail::describe_value(demo), ""});
    return;
  }
  Config section = root.section("demo");
  const Schema* schema = find_section_schema("demo");
  if (schema) {
    Schema with_stages = *schema;
    FieldSpec stages;
    stages.name = "stages";
    stages.type = "a list of stages";
    stages.free_form = true;  // checked stage by stage below
    with_stages.add(stages);
    append(problems, with_stages.check(section));
    report.validated.push_back("demo");
  } else {
    for (const auto& key : section.keys())
      if (key != "stages") report.unchecked.push_back("demo." + key);
  }
  if (!section.has("stages")) return;
  const YAML::Node stages(section.node()["stages"]);
  if (!stages.IsSequence()) {
    problems.push_back({"demo.stages", section.where("stages"),
                        "demo.stages must be a list of stages, got " + config_detail::describe_value(stages),
                        "write each stage as `- command: ...` followed by its sections"});
    return;
  }
  for (size_t i = 0; i < stages.size(); ++i) {
    std::string key = "stages." + std::to_string(i);
    const YAML::Node item(stages[i]);
    if (!item.IsMap()) {
      problems.push_back({section.full_key(key), section.where(key),
                          section.full_key(key) + " must be a stage (a map with command and sections), got " +
                              config_detail::describe_value(item), ""});
      continue;
    }
    check_stage(section.child(item, section.full_key(key)), problems, report);
  }
}

}  // namespace

void register_section_schema(const std::string& name, const Schema& schema) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.schemas.find(name);
  if (it == r.schemas.end())
    r.schemas.emplace(name, schema);
  else
    it->second.merge(schema);
}

const Schema* find_section_schema(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.schemas.find(name);
  return it == r.schemas.end() ? nullptr : &it->second;  // std::map nodes never move
}

std::vector<std::string> registered_section_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& kv : r.schemas) out.push_back(kv.first);
  return out;
}

const std::vector<std::string>& known_section_names() {
  static const std::vector<std::string> names = {"model", "tokenizer", "data", "tag", "train",
                                                 "rl",    "eval",      "serve", "demo"};
  return names;
}

ConfigCheckReport check_config(const Config& root) {
  ConfigCheckReport report;
  std::vector<ConfigProblem> problems;
  std::vector<std::string> top = known_section_names();
  for (const auto& n : registered_section_names())
    if (n.find('.') == std::string::npos && !std::count(top.begin(), top.end(), n)) top.push_back(n);
  for (const auto& key : root.keys()) {
    if (key == "demo") {
      check_demo(root, problems, report);
    } else if (std::count(top.begin(), top.end(), key)) {
      check_named_section(root, key, problems, report);
    } else {
      problems.push_back({key, root.where(key), "unknown section " + key, unknown_hint(key, top, "sections")});
    }
  }
  throw_config_problems(problems);
  return report;
}

}  // namespace autothink::core
