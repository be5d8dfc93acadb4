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
//   6. one metrics.jsonl line (rank 0): loss, reward terms, accuracy, think-on rate (all and per
//      difficulty), mean tokens by mode, KL, clip fraction, entropy, grad norm, lr, timings.
// Checkpoints are train/train_checkpoint.hpp's (RUN/checkpoints/step-N); --resume continues from
// the newest one. RUN/model is the final policy.
#pragma once
#include <filesystem>
#include <string>

#include "rl/rl_config.hpp"

namespace autothink::rl {

struct RlRunOptions {
  std::filesystem::path out;  // run folder ("" = rl.out)
  std::string model;          // policy model folder ("" = rl.init)
  bool resume = false;
  bool progress = true;
};

struct RlResult {
  int64_t steps_done = 0;
  double last_loss = 0;
  double last_reward = 0;
  bool stopped = false;  // stopped at rl.stop_at
  int rank = 0;
  std::filesystem::path run_dir;
  std::filesystem::path model_dir;  // RUN/model (empty when stopped)
};

RlResult run_rl(const RlConfig& config, const RlRunOptions& options);

}  // namespace autothink::rl
