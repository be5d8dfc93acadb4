// `autothink train`: pretrain a teacher, distill a student (KD + MTP) or fine-tune (SFT) from one
// config (sections train, data, model; DESIGN.md §5), on one process or under torchrun / srun /
// mpirun. `autothink train dump-teacher` precomputes a teacher's top-k logits for offline KD.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/error.hpp"
#include "train/teacher_topk.hpp"
#include "train/train_config.hpp"
#include "train/trainer.hpp"

namespace autothink::apps {
namespace {

struct TrainArgs {
  ConfigArgs config;
  std::string out;
  bool resume = false;
  bool no_progress = false;
  int64_t stop_after = 0;
};

struct DumpTeacherArgs {
  ConfigArgs config;
  train::DumpTeacherOptions options;
};

void setup_train(CLI::App& root) {
  auto args = std::make_shared<TrainArgs>();
  auto dump = std::make_shared<DumpTeacherArgs>();
  auto* cmd = root.add_subcommand(
      "train",
      "Train a model: train.stage pretrain (dual-mode data), distill (KD from train.teacher + MTP) or sft "
      "(tagged records). Writes RUN/config.yaml, metrics.jsonl, checkpoints/step-N/ and model/. Under torchrun "
      "(--no_python) each process is one rank.");
  add_config_options(cmd, args->config, /*required=*/false);
  cmd->add_option("--out", args->out, "Run folder (default: train.out)")->type_name("RUN_DIR");
  cmd->add_flag("--resume", args->resume, "Continue from the newest checkpoint in the run folder");
  cmd->add_flag("--no-progress", args->no_progress, "No console progress line");
  cmd->add_option("--stop-after", args->stop_after, "Stop after this step with a checkpoint, as a preempted job would (continue with --resume; 0 = run to the end)")->type_name("STEP");
  cmd->require_subcommand(0, 1);

  auto* sub = cmd->add_subcommand("dump-teacher", "Write a teacher's top-k logits for every loss token of the data "
                                                  "(for train.teacher_topk: KD without running the teacher)");
  sub->add_option("--teacher", dump->options.teacher, "Teacher model folder")->required();
  sub->add_option("--data", dump->options.data, "Training JSONL files (as data.train)")->required();
  sub->add_option("--out", dump->options.out, "Output folder")->required();
  sub->add_option("--top-k", dump->options.top_k, "Logits kept per token")->capture_default_str();
  add_config_options(sub, dump->config, /*required=*/false);
  sub->footer("With --config, data.max_len, data.skip_bad, data.auto_judge_on/off and train.stage are taken from it; they must match the "
              "training run's, so its rows line up with the training data.");
  sub->callback([dump]() {
    if (!dump->config.config_path.empty() || !dump->config.sets.empty()) {
      core::Config config = load_config(dump->config);
      auto data = core::read_section<train::DataSection>(config, "data");
      auto tr = core::read_section<train::TrainSection>(config, "train");
      dump->options.max_len = data.max_len;
      dump->options.skip_bad = data.skip_bad;
      dump->options.auto_judges = {data.auto_judge_on, data.auto_judge_off};
      dump->options.stage = tr.stage;
      dump->options.batch_size = tr.batch_size;
    }
    int64_t rows = train::dump_teacher_topk(dump->options);
    std::printf("wrote %s/teacher_topk.safetensors (%lld loss tokens, top-%lld)\n", dump->options.out.c_str(),
                static_cast<long long>(rows), static_cast<long long>(dump->options.top_k));
  });

  cmd->callback([args, sub]() {
    if (sub->parsed()) return;
    if (args->config.config_path.empty())
      throw Error("autothink train needs --config FILE", "train", "e.g. autothink train --config configs/tiny.yaml");
    core::Config config = load_config(args->config);
    train::TrainConfig tc = train::read_train_config(config);
    train::RunOptions run;
    run.out = args->out;
    run.resume = args->resume;
    run.progress = !args->no_progress;
    run.stop_after = args->stop_after;
    train::TrainResult r = train::run_training(tc, run);
    if (r.rank != 0) return;
    if (r.stopped)
      std::printf("stopped at step %lld (--stop-after); resume with --resume\n", static_cast<long long>(r.steps_done));
    else
      std::printf("trained %lld steps: loss %.6f%s, model in %s\n", static_cast<long long>(r.steps_done), r.last_loss,
                  r.dev_loss >= 0 ? (", dev loss " + std::to_string(r.dev_loss)).c_str() : "",
                  r.model_dir.string().c_str());
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_train, 30);
AUTOTHINK_CONFIG_SECTION("train", train::TrainSection);
AUTOTHINK_CONFIG_SECTION("data", train::DataSection);
AUTOTHINK_CONFIG_SECTION("model", train::ModelSection);
}  // namespace autothink::apps
