#include "apps/cli_common.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/log.hpp"
#include "core/shell_quote.hpp"

namespace autothink::apps {

void add_config_options(CLI::App* cmd, ConfigArgs& args, bool required) {
  auto* config = cmd->add_option("--config", args.config_path,
                                 "YAML config with sections model, tokenizer, data, tag, train, rl, eval, serve");
  config->type_name("FILE");
  if (required) config->required();
  // One value per --set, so a following positional argument is never taken for an override.
  cmd->add_option("--set", args.sets,
                  "Override a config value, e.g. --set train.lr=3e-4 --set data.files=[a.jsonl,b.jsonl] "
                  "(value parsed as YAML; repeatable)")
      ->type_name("KEY.PATH=VALUE")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

core::Config load_config(const ConfigArgs& args) {
  if (args.config_path.empty()) return core::Config::parse("", "(no --config)", args.sets);
  return core::Config::load(args.config_path, args.sets);
}

CLI::App* data_parent_command(CLI::App& root) {
  for (CLI::App* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == "data") return sub;
  CLI::App* data = root.add_subcommand("data", "Task data: `synth` writes the verifiable task suite and dual-mode "
                                               "records; `tag` decides per query whether thinking pays");
  data->require_subcommand(1);
  return data;
}

std::string find_script(const std::string& name, const std::string& given) {
  namespace fs = std::filesystem;
  if (!given.empty()) return given;
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("AUTOTHINK_SCRIPTS")) candidates.push_back(fs::path(env) / name);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "scripts" / name);  // build-x/autothink
    candidates.push_back(exe.parent_path() / "scripts" / name);
    candidates.push_back(exe.parent_path().parent_path() / "share" / "autothink" / name);
  }
  candidates.push_back(fs::path("scripts") / name);
  for (const auto& c : candidates)
    if (fs::exists(c)) return c.string();
  return "";
}

bool draw_with_script(const std::string& script, const std::string& png, const std::string& args) {
  const std::string command = "sh " + core::shell_quote(script) + " " + core::shell_quote(png) + " " + args;
  std::fflush(stdout);
  const int status = std::system(command.c_str());
  if (status != 0 || !std::filesystem::exists(png)) {
    log::warn("no chart: ", script, " failed (exit ", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
              "); is gnuplot installed? (Debian: gnuplot-nox, scripts/deps.sh)");
    return false;
  }
  std::printf("wrote %s\n", png.c_str());
  return true;
}

}  // namespace autothink::apps
