// `autothink data synth`: writes the task suite (train/dev/test synth records) and the dual-mode
// chat records that pretraining and distillation read (DESIGN.md §1). The `data` parent command
// is shared: `data tag` registers under it from its own file.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/config_schema.hpp"
#include "data/synth.hpp"
#include "data/task_suite.hpp"

namespace autothink::apps {
namespace {

struct DataSynthArgs {
  std::string out;
  ConfigArgs config;
};

std::string synth_family_help() {
  std::string help = "Task families (data.synth.families):";
  for (const auto& f : data::builtin_families())
    help += "\n  " + f.name + " (" + f.difficulty + "): \"" + f.example + "\"";
  return help;
}

void setup_data_synth(CLI::App& root) {
  auto args = std::make_shared<DataSynthArgs>();
  CLI::App* data = data_parent_command(root);
  auto* cmd = data->add_subcommand("synth", "Write the task suite: DIR/train.jsonl, dev.jsonl, test.jsonl (synth records, "
                                            "disjoint splits) and DIR/dual_mode.jsonl (every train query as a forced-on "
                                            "and a forced-off chat record)");
  cmd->footer(synth_family_help());
  cmd->add_option("--out", args->out, "Output folder (created if needed; the four files are replaced)")->required();
  add_config_options(cmd, args->config, /*required=*/false);  // reads data.synth; defaults without --config
  cmd->callback([args]() {
    core::Config config = load_config(args->config);
    auto options = core::read_section<data::SynthOptions>(config, "data.synth");
    data::SynthSplits splits = data::synthesize(options);
    std::string summary = data::write_synth_outputs(args->out, splits);
    std::printf("wrote %s/{train,dev,test,dual_mode}.jsonl (seed %lld)\n%s", args->out.c_str(),
                static_cast<long long>(options.seed), summary.c_str());
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_data_synth, 10);
AUTOTHINK_CONFIG_SECTION("data", data::DataSynthSection);
}  // namespace autothink::apps
