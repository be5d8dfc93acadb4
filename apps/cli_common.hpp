// Helpers shared by subcommands: the --config FILE / --set key.path=value options every
// config-reading command takes, and loading the resolved Config from them.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace autothink::apps {

struct ConfigArgs {
  std::string config_path;
  std::vector<std::string> sets;
};

// Adds --config (required when `required`) and repeatable --set to `cmd`. `args` must outlive
// parsing (keep it in a shared_ptr captured by the callback, as the commands do).
void add_config_options(CLI::App* cmd, ConfigArgs& args, bool required = true);
// The `data` parent subcommand (synth, tag): created by whichever data subcommand registers first.
CLI::App* data_parent_command(CLI::App& root);

// A script of the source tree's scripts/ folder (`given` when set): $AUTOTHINK_SCRIPTS, then
// beside the binary (build*/autothink → scripts/, share/autothink/), then ./scripts; "" if none.
std::string find_script(const std::string& name, const std::string& given = "");

// Runs `sh SCRIPT PNG ARGS` (ARGS already shell-quoted) to draw a chart; warns and returns false
// (never throws: a missing gnuplot must not fail the run whose chart it is) when no PNG appears.
bool draw_with_script(const std::string& script, const std::string& png, const std::string& args);

// `autothink eval compare`, a subcommand of `eval` (apps/cmd_eval_compare.cpp).
CLI::App* setup_eval_compare(CLI::App* eval);

// The config file with the overrides applied; without --config, just the overrides.
core::Config load_config(const ConfigArgs& args);

}  // namespace autothink::apps
