#include "rl/rl_config.hpp"

#include "core/config_schema.hpp"
#include "core/error.hpp"

namespace autothink::rl {

RlConfig read_rl_config(const core::Config& root) {
  RlConfig c;
  c.rl = core::read_section<RlSection>(root, "rl");
  c.resolved_yaml = root.dump();
  core::Config sec = root.section("rl");
  auto bad = [&](const std::string& key, const std::string& what) {
    throw Error(sec.full_key(key) + " " + what, sec.where(key));
  };
  const RlSection& s = c.rl;
  if (s.steps < 1) bad("steps", "must be >= 1");
  if (s.prompts_per_step < 1) bad("prompts_per_step", "must be >= 1");
  if (s.group_size < 1) bad("group_size", "must be >= 1");
  if (s.forced_per_mode < 0) bad("forced_per_mode", "must be >= 0");
  if (s.temperature < 0) bad("temperature", "must be >= 0");
  if (s.top_p <= 0 || s.top_p > 1) bad("top_p", "must be within (0, 1]");
  if (s.top_k < 0) bad("top_k", "must be >= 0");
  if (s.max_tokens < 1) bad("max_tokens", "must be >= 1");
  if (s.epochs < 1) bad("epochs", "must be >= 1");
  if (s.minibatches < 1) bad("minibatches", "must be >= 1");
  if (s.minibatches > s.prompts_per_step) bad("minibatches", "must be <= rl.prompts_per_step (a minibatch holds whole groups)");
  if (s.micro_batch < 1) bad("micro_batch", "must be >= 1");
  if (s.rollout_batch < 1) bad("rollout_batch", "must be >= 1");
  s.optimizer.check(sec);
  if (s.eps_low < 0 || s.eps_low >= 1) bad("eps_low", "must be within [0, 1)");
  if (s.eps_high < 0) bad("eps_high", "must be >= 0");
  if (s.kl_beta < 0) bad("kl_beta", "must be >= 0");
  if (s.std_floor < 0) bad("std_floor", "must be >= 0");
  if (s.token_cost < 0) bad("token_cost", "must be >= 0 (it is subtracted)");
  s.run.check(sec);
  if (s.prompts.empty())
    throw Error("rl.prompts is required", root.source(), "add rl.prompts: [DATA/train.jsonl] (synth or tagged chat records)");
  return c;
}

}  // namespace autothink::rl
