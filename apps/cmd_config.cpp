// `autothink config check --config FILE [--set ...]`: validates every section that has a schema
// (including each demo stage) and prints the resolved YAML; `autothink config schema [SECTION]`
// lists the keys each registered section accepts, with types, defaults and help.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/error.hpp"

namespace autothink::apps {
namespace {

std::string config_cmd_join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void run_config_check(const ConfigArgs& args, bool quiet) {
  core::Config config = load_config(args);
  core::ConfigCheckReport report = core::check_config(config);
  if (!quiet) std::fputs(config.dump().c_str(), stdout);
  std::fprintf(stderr, "config %s: ok", config.source().c_str());
  if (!report.validated.empty()) std::fprintf(stderr, "; validated: %s", config_cmd_join(report.validated).c_str());
  if (!report.unchecked.empty())
    std::fprintf(stderr, "; not validated (no schema registered yet): %s", config_cmd_join(report.unchecked).c_str());
  std::fprintf(stderr, "\n");
}

void run_config_schema(const std::string& section) {
  std::vector<std::string> names = section.empty() ? core::registered_section_names() : std::vector<std::string>{section};
  if (names.empty()) {
    std::printf("# no section schemas are registered\n");
    return;
  }
  for (const auto& name : names) {
    const core::Schema* schema = core::find_section_schema(name);
    if (!schema)
      throw Error("no schema registered for section " + name, "",
                  "registered: " + config_cmd_join(core::registered_section_names()));
    std::printf("%s:\n%s", name.c_str(), schema->describe("  ").c_str());
  }
}

void setup_config(CLI::App& root) {
  auto* cmd = root.add_subcommand("config", "Check a YAML config against the sections' schemas, or list the schemas");
  cmd->require_subcommand(1);

  auto args = std::make_shared<ConfigArgs>();
  auto quiet = std::make_shared<bool>(false);
  auto* check = cmd->add_subcommand(
      "check", "Validate every known section of a config (and of each demo stage) and print the resolved YAML");
  add_config_options(check, *args);
  check->add_flag("--quiet,-q", *quiet, "Only report problems; do not print the resolved YAML");
  check->callback([args, quiet]() { run_config_check(*args, *quiet); });

  auto section = std::make_shared<std::string>();
  auto* schema = cmd->add_subcommand("schema", "Print the keys each section accepts (type, default, help)");
  schema->add_option("section", *section, "Only this section (e.g. train)");
  schema->callback([section]() { run_config_schema(*section); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_config, 95);
}  // namespace autothink::apps
