// `autothink demo`: the whole pipeline of DESIGN.md §1 on configs/tiny.yaml. Stages run in order;
// a stage that is not implemented yet is reported as such instead of silently skipped.
#include <cstdio>
#include <string>

#include "apps/command.hpp"

namespace autothink::apps {
namespace {

struct DemoArgs {
  std::string out = "demo-out";
  std::string config = "configs/tiny.yaml";
  bool quick = false;
};

void setup_demo(CLI::App& root) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = root.add_subcommand("demo", "Run the whole pipeline on the tiny config: synth -> tokenizer -> teacher -> "
                                          "KD+MTP student -> tagging -> SFT -> Step-SRPO -> eval");
  cmd->add_option("--out", args->out, "Output folder (stages whose output exists are skipped)")->capture_default_str();
  cmd->add_option("--config", args->config, "Pipeline config")->capture_default_str();
  cmd->add_flag("--quick", args->quick, "Every stage, small budgets (< 10 minutes), no behaviour targets");
  cmd->callback([args]() {
    std::printf("autothink demo: out=%s config=%s%s\n", args->out.c_str(), args->config.c_str(),
                args->quick ? " (quick)" : "");
    std::printf("Stages not implemented yet: data synth, tokenizer, train (pretrain/distill/sft), tag, rl, eval.\n");
    std::printf("Available now: autothink parse, autothink template render, autothink tokenizer train|encode|decode.\n");
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_demo, 100);
}  // namespace autothink::apps
