// The `rl` config section of `autothink rl` (validated: unknown key or wrong type → error naming
// the key and file:line; values checked by read_rl_config).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace autothink::rl {

struct RlSection {
  std::string algorithm = "srpo";  // srpo | grpo
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
  double lr = 1e-5;
  double min_lr = 0;
  int64_t warmup = 0;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
  double clip = 1.0;
  double eps_low = 0.2, eps_high = 0.28;
  double kl_beta = 0.0;
  std::string aggregation = "token_mean";
  double std_floor = 0.1;
  double reward_correct = 1.0, reward_format = 0.2, reward_mode = 0.5;
  double token_cost = 0.0;
  double mode_margin = 0.0;
  int64_t seed = 0;
  int64_t save_every = 0;
  int64_t keep = 2;
  int64_t stop_at = 0;
  int64_t log_every = 1;
  double dist_timeout_s = 300;
  double bucket_mb = 25;

  template <class V> void fields(V& v) {
    v("algorithm", algorithm, "srpo (Step-SRPO: mode advantage on judge+mode tokens, answer advantage on the rest) or grpo (one outcome advantage)");
    v("init", init, "policy model folder to start from (--model overrides); also the frozen KL reference");
    v("tokenizer", tokenizer, "tokenizer.model or a folder holding one (default: the model folder's)");
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
    v("lr", lr, "peak learning rate");
    v("min_lr", min_lr, "learning rate at the end of the cosine");
    v("warmup", warmup, "linear warmup (optimizer updates)");
    v("weight_decay", weight_decay, "AdamW decoupled weight decay");
    v("beta1", beta1, "AdamW beta1");
    v("beta2", beta2, "AdamW beta2");
    v("eps", eps, "AdamW epsilon");
    v("clip", clip, "max global gradient norm (0 = off)");
    v("eps_low", eps_low, "PPO clip below: ratio >= 1 - eps_low");
    v("eps_high", eps_high, "PPO clip above: ratio <= 1 + eps_high");
    v("kl_beta", kl_beta, "beta of the k3 KL to the frozen initial policy (0: no reference model kept)");
    v("aggregation", aggregation, "token_mean | seq_mean_token_mean | seq_mean_token_sum_norm (Dr.GRPO)");
    v("std_floor", std_floor, "group std below this is replaced by it when normalising advantages");
    v("reward_correct", reward_correct, "reward for a correct answer (verifier)");
    v("reward_format", reward_format, "reward for a well-formed turn (parser: complete, no problems)");
    v("reward_mode", reward_mode, "reward for the right mode choice judged against the group");
    v("token_cost", token_cost, "subtracted x generated tokens / max_tokens");
    v("mode_margin", mode_margin, "think-on is needed only when its group accuracy beats think-off's by more");
    v("seed", seed, "seed of prompt order and rollout sampling");
    v("save_every", save_every, "checkpoint every N steps (0 = only at the end)");
    v("keep", keep, "checkpoints kept");
    v("stop_at", stop_at, "stop after this step as if interrupted (0 = run to the end)");
    v("log_every", log_every, "metrics line every N steps");
    v("dist_timeout_s", dist_timeout_s, "seconds before a collective gives up");
    v("bucket_mb", bucket_mb, "gradient all-reduce bucket size (MB)");
  }
};

struct RlConfig {
  RlSection rl;
  std::string resolved_yaml;
};

// Reads and checks the `rl` section; errors name the key and file:line.
RlConfig read_rl_config(const core::Config& root);

}  // namespace autothink::rl
