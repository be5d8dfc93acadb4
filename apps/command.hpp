// Subcommand registry of the `autothink` binary: each apps/cmd_*.cpp adds its subcommand with
// AUTOTHINK_COMMAND(setup_fn), where setup_fn(CLI::App& root) creates the subcommand, its
// flags and its callback. Callbacks throw autothink::Error for user-facing failures and may set
// a non-zero exit code with set_exit_code().
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace autothink::apps {

using CommandSetup = void (*)(CLI::App& root);

// Returns a dummy value so registration can run during static initialisation.
int register_command(CommandSetup setup, int order);
const std::vector<std::pair<int, CommandSetup>>& registered_commands();

void set_exit_code(int code);
int exit_code();

}  // namespace autothink::apps

#define AUTOTHINK_CAT2(a, b) a##b
#define AUTOTHINK_CAT(a, b) AUTOTHINK_CAT2(a, b)
// order sorts the subcommands in --help (pipeline order).
#define AUTOTHINK_COMMAND(setup, order) \
  static const int AUTOTHINK_CAT(autothink_command_, __COUNTER__) = ::autothink::apps::register_command(setup, order)
