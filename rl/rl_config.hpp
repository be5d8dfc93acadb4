// The `rl` config section of `autothink rl` (validated: unknown key or wrong type → error naming
// the key and file:line; values checked by read_rl_config).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "rl/advantages.hpp"
#include "rl/policy_loss.hpp"
#include "train/run_settings.hpp"

namespace autothink::rl {

struct RlSection {
  Algorithm algorithm = Algorithm::srpo;
  std::string init;                // policy model folder (--model overrides)
  std::string tokenizer;           // "" = the model folder's tokenizer.model
  std::vector<std::string> prompts;  // synth records (train.jsonl) or chat records (tagged SFT data)
  std::string default_verifier;    // verifier for families the registry does not map ("" = error)
  std::string out;                 // run folder (--out overrides)
  int64_t steps = 50;
  int64_t prompts_per_step = 8;    // global, split across ranks
  int64_t group_size = 8;          // G auto-mode rollouts per prompt
  int64_t forced_per_mode = 0;     // extra forced-on and forced-off rollouts per prompt (evidence)
  bool train_forced = false;       // forced rollouts also get the answer update
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;
  int64_t max_tokens = 256;
  int64_t epochs = 1;              // μ: passes over each step's rollouts
  int64_t minibatches = 1;         // optimizer updates per epoch
  int64_t micro_batch = 16;        // sequences per forward/backward
  int64_t rollout_batch = 64;      // sequences decoded together by the engine (KV slots)
  train::OptimizerSettings optimizer{.lr = 1e-5, .min_lr = 0, .warmup = 0, .weight_decay = 0, .beta2 = 0.99};
  double eps_low = 0.2, eps_high = 0.28;
  double kl_beta = 0.0;
  Aggregation aggregation = Aggregation::token_mean;
  double std_floor = 0.1;
  DecisionBaseline decision_baseline = DecisionBaseline::group;
  double reward_correct = 1.0, reward_format = 0.2, reward_mode = 0.5;
  double token_cost = 0.0;
  double mode_margin = 0.0;
  int64_t seed = 0;
  train::RunSettings run;  // save_every, keep, log_every, dist_timeout_s, bucket_mb

  template <class V> void fields(V& v) {
    v("algorithm", algorithm, "srpo (Step-SRPO: mode advantage on judge+mode tokens, answer advantage on the rest) or grpo (one outcome advantage)");
    v("init", init, "policy model folder to start from (--model overrides); also the frozen KL reference");
    v("tokenizer", tokenizer, "tokenizer.model or tokenizer.json, or a folder holding one (default: the model folder's)");
    v("prompts", prompts, "prompt files: synth records (data synth's train.jsonl) or chat records (tagged)");
    v("default_verifier", default_verifier, "verifier for task families the registry does not map (e.g. numeric; empty: error)");
    v("out", out, "run folder (config.yaml, metrics.jsonl, checkpoints/, model/)");
    v("steps", steps, "RL steps (one batch of rollouts each)");
    v("prompts_per_step", prompts_per_step, "prompts per step over all ranks");
    v("group_size", group_size, "G: auto-mode rollouts per prompt");
    v("forced_per_mode", forced_per_mode, "extra forced-on and forced-off rollouts per prompt, as mode evidence");
    v("train_forced", train_forced, "also update on the forced rollouts (answer advantage only)");
    v("temperature", temperature, "rollout sampling temperature");
    v("top_p", top_p, "rollout nucleus sampling");
    v("top_k", top_k, "rollout top-k (0 = off)");
    v("max_tokens", max_tokens, "generated tokens per rollout");
    v("epochs", epochs, "mu: update passes over each step's rollouts");
    v("minibatches", minibatches, "optimizer updates per pass");
    v("micro_batch", micro_batch, "sequences per forward/backward (memory)");
    v("rollout_batch", rollout_batch, "sequences the engine decodes together");
    optimizer.fields(v);
    v("eps_low", eps_low, "PPO clip below: ratio >= 1 - eps_low");
    v("eps_high", eps_high, "PPO clip above: ratio <= 1 + eps_high");
    v("kl_beta", kl_beta, "beta of the k3 KL to the frozen initial policy (0: no reference model kept)");
    v("aggregation", aggregation, "token_mean | seq_mean_token_mean | seq_mean_token_sum_norm (Dr.GRPO)");
    v("std_floor", std_floor, "group std below this is replaced by it when normalising advantages");
    v("decision_baseline", decision_baseline,
      "srpo's judge advantage: group (the mode reward normalised over the group's auto rollouts; none when they "
      "all chose one mode) or verdict (+1 / -1 for a choice the group's verdict calls right / wrong)");
    v("reward_correct", reward_correct, "reward for a correct answer (verifier)");
    v("reward_format", reward_format, "reward for a well-formed turn (parser: complete, no problems)");
    v("reward_mode", reward_mode, "reward for the right mode choice judged against the group");
    v("token_cost", token_cost, "subtracted x generated tokens / max_tokens");
    v("mode_margin", mode_margin, "think-on is needed only when its group accuracy beats think-off's by more");
    v("seed", seed, "seed of prompt order and rollout sampling");
    run.fields(v);
  }
};

struct RlConfig {
  RlSection rl;
  std::string resolved_yaml;
};

// Reads and checks the `rl` section; errors name the key and file:line.
RlConfig read_rl_config(const core::Config& root);

}  // namespace autothink::rl

template <> struct autothink::core::ConfigEnum<autothink::rl::Algorithm> {
  static constexpr std::pair<autothink::rl::Algorithm, const char*> names[] = {{autothink::rl::Algorithm::srpo, "srpo"},
                                                                              {autothink::rl::Algorithm::grpo, "grpo"}};
};

template <> struct autothink::core::ConfigEnum<autothink::rl::DecisionBaseline> {
  using B = autothink::rl::DecisionBaseline;
  static constexpr std::pair<B, const char*> names[] = {{B::group, "group"}, {B::verdict, "verdict"}};
};

// Hyphenated spellings are accepted too (as TRL and verl write them).
template <> struct autothink::core::ConfigEnum<autothink::rl::Aggregation> {
  using A = autothink::rl::Aggregation;
  static constexpr std::pair<A, const char*> names[] = {{A::token_mean, "token_mean"},
                                                        {A::seq_mean_token_mean, "seq_mean_token_mean"},
                                                        {A::seq_mean_token_sum_norm, "seq_mean_token_sum_norm"},
                                                        {A::token_mean, "token-mean"},
                                                        {A::seq_mean_token_mean, "seq-mean-token-mean"},
                                                        {A::seq_mean_token_sum_norm, "seq-mean-token-sum-norm"}};
};
