// The `autothink` binary: builds the CLI from the registered subcommands and turns
// autothink::Error into a message and a non-zero exit code.
#include <algorithm>
#include <cstdio>
#include <exception>

#include "apps/command.hpp"
#include "core/error.hpp"

namespace autothink::apps {
namespace {
std::vector<std::pair<int, CommandSetup>>& registry() {
  static std::vector<std::pair<int, CommandSetup>> commands;
  return commands;
}
int g_exit_code = 0;
}  // namespace

int register_command(CommandSetup setup, int order) {
  registry().emplace_back(order, setup);
  return 0;
}
const std::vector<std::pair<int, CommandSetup>>& registered_commands() { return registry(); }
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

}  // namespace autothink::apps

int main(int argc, char** argv) {
  using namespace autothink;
  CLI::App app{
      "autothink: train and serve dual-mode (AutoThink) language models in the KAT format.\n"
      "The model first writes a <judge> analysis, then picks <think_on> (reasons in <think>, then\n"
      "<answer>) or <think_off> (answers at once). Every command takes --config FILE.yaml and\n"
      "--set key.sub=value overrides where it reads a config.\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "autothink 0.1.0");
  auto commands = apps::registered_commands();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, setup] : commands) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const autothink::InternalError& e) {  // a broken invariant: a bug, not the user's input
    std::fprintf(stderr, "autothink: %s\n", e.what());
    return 2;
  } catch (const autothink::Error& e) {
    std::fprintf(stderr, "autothink: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autothink: internal error: %s\n", e.what());
    return 2;
  }
  return apps::exit_code();
}
