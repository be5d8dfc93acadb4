// `autothink rl`: Step-SRPO (or plain GRPO) reinforcement learning of a cold-started AutoThink
// model (DESIGN.md §5) from one config's `rl` section, on one process or under torchrun / srun /
// mpirun.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/error.hpp"
#include "rl/rl_config.hpp"
#include "rl/rl_trainer.hpp"

namespace autothink::apps {
namespace {

struct RlArgs {
  ConfigArgs config;
  std::string model;
  std::string out;
  bool resume = false;
  bool no_progress = false;
  int64_t stop_after = 0;
};

void setup_rl(CLI::App& root) {
  auto args = std::make_shared<RlArgs>();
  auto* cmd = root.add_subcommand(
      "rl",
      "Reinforcement learning of the mode choice and the answer: G auto-mode rollouts per prompt through the "
      "engine, rewards (verifier, format, mode choice judged against the group, token cost), group-normalised "
      "advantages per segment (rl.algorithm: srpo) or per sequence (grpo), clipped surrogate + k3 KL. Writes "
      "RUN/config.yaml, metrics.jsonl, checkpoints/step-N/ and model/.");
  add_config_options(cmd, args->config, /*required=*/false);
  cmd->add_option("--model", args->model, "Policy model folder to start from (default: rl.init)")->type_name("MODEL_DIR");
  cmd->add_option("--out", args->out, "Run folder (default: rl.out)")->type_name("RUN_DIR");
  cmd->add_flag("--resume", args->resume, "Continue from the newest checkpoint in the run folder");
  cmd->add_flag("--no-progress", args->no_progress, "No console progress line");
  cmd->add_option("--stop-after", args->stop_after, "Stop after this step with a checkpoint, as a preempted job would (continue with --resume; 0 = run to the end)")->type_name("STEP");
  cmd->footer("Example: autothink rl --config configs/tiny.yaml --model runs/sft/model --out runs/rl "
              "--set rl.algorithm=grpo");
  cmd->callback([args]() {
    if (args->config.config_path.empty() && args->config.sets.empty())
      throw Error("autothink rl needs --config FILE (an rl section)", "rl",
                  "e.g. autothink rl --config configs/tiny.yaml --model MODEL_DIR --out RUN_DIR");
    core::Config config = load_config(args->config);
    rl::RlConfig rc = rl::read_rl_config(config);
    rl::RlRunOptions run;
    run.model = args->model;
    run.out = args->out;
    run.resume = args->resume;
    run.progress = !args->no_progress;
    run.stop_after = args->stop_after;
    rl::RlResult r = rl::run_rl(rc, run);
    if (r.rank != 0) return;
    if (r.stopped)
      std::printf("stopped at step %lld (--stop-after); resume with --resume\n", static_cast<long long>(r.steps_done));
    else
      std::printf("rl (%s): %lld steps, last reward %.4f, loss %.6f, model in %s\n", std::string(core::enum_name(rc.rl.algorithm)).c_str(),
                  static_cast<long long>(r.steps_done), r.last_reward, r.last_loss, r.model_dir.string().c_str());
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_rl, 50);
AUTOTHINK_CONFIG_SECTION("rl", rl::RlSection);
}  // namespace autothink::apps
