// The RL loop of `autothink rl` (DESIGN.md §5, Step-SRPO / GRPO). Per step:
//   1. draw rl.prompts_per_step prompts (a seeded order; global slot j goes to rank j % world);
//   2. rollouts through the engine on the current policy (rl/rollouts.hpp), scored alone;
//   3. group rewards (rl/rewards.hpp) and advantages per token role (rl/advantages.hpp);
//   4. old log-probs of the rollout policy (forward_hidden on the full sequences, no grad; with one
//      epoch and one minibatch the update's own forward is the rollout policy, so its detached
//      log-probs serve) and, with kl_beta > 0, the frozen reference's;
//   5. rl.epochs × rl.minibatches AdamW updates of the clipped loss (rl/policy_loss.hpp); a
//      minibatch holds the groups of a contiguous range of global slots, and its loss is
//      normalised by the GLOBAL minibatch's counts, so N ranks compute what one process would;
//      gradients are averaged by train::GradientSync;
//   6. one metrics.jsonl line (rank 0): loss, reward terms, accuracy, think-on rate and judge
//      accuracy (the auto rollouts' mode against their group's verdict; all and per difficulty),
//      the share of groups whose auto rollouts tried both modes, mean |decision advantage|, mean
//      tokens by mode, KL, clip fraction, entropy, grad norm, lr, timings.
// The run folder is train/run_folder.hpp's (config.yaml, metrics.jsonl, checkpoints/step-N,
// model/); --resume continues from the newest checkpoint. RUN/model is the final policy.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rl/rl_config.hpp"

namespace autothink::rl {

struct RlRunOptions {
  std::filesystem::path out;  // run folder ("" = rl.out)
  std::string model;          // policy model folder ("" = rl.init)
  bool resume = false;
  bool progress = true;
  int64_t stop_after = 0;     // stop after this step, checkpointed as if preempted (0 = run to the end)
};

struct RlResult {
  int64_t steps_done = 0;
  double last_loss = 0;
  double last_reward = 0;
  bool stopped = false;  // stopped by RlRunOptions::stop_after
  int rank = 0;
  std::filesystem::path run_dir;
  std::filesystem::path model_dir;  // RUN/model (empty when stopped)
};

struct RolloutGroup;
class StepSums;

class RlTrainer {
 public:
  // Setup: the distributed group, the run folder, tokenizer, prompts and verifiers, the policy
  // and (kl_beta > 0) the frozen reference, the engine sized for the longest prompt, optimizer,
  // --resume, the parameter broadcast. Throws autothink::Error for what the config gets wrong.
  RlTrainer(const RlConfig& config, const RlRunOptions& options);
  ~RlTrainer();
  RlTrainer(const RlTrainer&) = delete;
  RlTrainer& operator=(const RlTrainer&) = delete;

  // The steps from the resumed position to rl.steps (or RlRunOptions::stop_after): metrics, checkpoints, and
  // the final policy folder.
  RlResult run();

 private:
  struct Parts;     // the typed parts setup builds (rl_trainer.cpp)
  struct StepData;  // one step's training sequences, minibatches and their global counts

  // One step (1-6 above); returns its metrics line.
  nlohmann::json train_step(int64_t step);
  // 1-2: this rank's prompts of the step and their rollouts.
  std::vector<RolloutGroup> collect_rollouts(int64_t step);
  // 3: rewards, advantages and the training sequences of every group; rollout metrics into `sums`.
  StepData score(const std::vector<RolloutGroup>& groups, StepSums& sums);
  // 4-5: old / reference log-probs, then epochs × minibatches updates; returns the last grad norm.
  double update(int64_t step, StepData& data, StepSums& sums, double& lr);

  std::unique_ptr<Parts> parts_;
};

// RlTrainer(config, options).run().
RlResult run_rl(const RlConfig& config, const RlRunOptions& options);

}  // namespace autothink::rl
