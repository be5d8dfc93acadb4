// `autothink rl` end to end on a tiny random policy (the machinery, not the behaviour): metrics
// lines with every reward term and loss statistic, finite loss, a model folder at the end; a run
// stopped by --stop-after and resumed matches an uninterrupted one step for step; GRPO, k3 KL and
// several epochs/minibatches run; 2 ranks under torchrun give the same first-step loss (and the
// same rollouts) as one process.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/jsonl.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/qwen2.hpp"
#include "rl/rl_test_config.hpp"
#include "train/torchrun.hpp"
#include "train/train_test_data.hpp"

namespace autothink::rl {
namespace {
namespace fs = std::filesystem;
using autothink::testing::run_command;

// A tiny random Qwen2 policy with the shared arithmetic tokenizer, in DIR/policy.
fs::path rl_make_policy(const fs::path& dir) {
  const std::string tok_path = train::testdata::shared_tokenizer_path();
  data::Tokenizer tok(tok_path);
  model::ModelConfig c;
  c.vocab_size = tok.vocab_size();
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 256;
  c.tie_word_embeddings = true;
  model::finalize_config(c, "rl test");
  torch::manual_seed(3);
  auto m = std::make_shared<model::Qwen2Model>(c);
  model::SaveOptions so;
  so.tokenizer_model = tok_path;
  model::save_model(*m, dir / "policy", so);
  return dir / "policy";
}

autothink::testing::CommandResult rl_cli(const std::string& args) {
  return run_command(autothink::testing::autothink_binary() + " rl " + args + " --no-progress", true);
}

std::vector<nlohmann::json> rl_metrics(const fs::path& run) { return core::read_jsonl_all((run / "metrics.jsonl").string()); }

TEST(rl_run, writes_metrics_checkpoint_and_model) {
  auto dir = autothink::testing::temp_dir("rl-run");
  auto policy = rl_make_policy(dir);
  auto cfg = autothink::testing::rl_write_config(dir, "  save_every: 2\n");
  auto r = rl_cli("--config " + cfg.string() + " --model " + policy.string() + " --out " + (dir / "run").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lines = rl_metrics(dir / "run");
  ASSERT_EQ(lines.size(), 3u) << r.output;
  for (const auto& j : lines) {
    for (const char* key : {"loss", "reward", "reward_correct", "reward_format", "reward_mode", "reward_tokens", "accuracy",
                            "think_on_rate", "think_on_rate_easy", "think_on_rate_hard", "tokens_on", "tokens_off",
                            "tokens_mean", "kl", "clip_frac", "entropy", "grad_norm", "forced_accuracy_on",
                            "judge_accuracy", "judge_accuracy_easy", "judged_rate", "mixed_group_rate",
                            "mixed_group_rate_hard", "decision_adv_abs"})
      ASSERT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
    // Shares of the auto rollouts / groups: within [0, 1].
    for (const char* key : {"judge_accuracy", "judged_rate", "mixed_group_rate", "mixed_group_rate_hard"}) {
      EXPECT_GE(j[key].get<double>(), 0.0) << key;
      EXPECT_LE(j[key].get<double>(), 1.0) << key;
    }
    EXPECT_TRUE(std::isfinite(j["loss"].get<double>())) << j.dump();
    EXPECT_GT(j["entropy"].get<double>(), 0.0);
    EXPECT_EQ(j["rollout_tokens"].get<int64_t>() > 0, true);
    EXPECT_LE(j["reward_tokens"].get<double>(), 0.0);  // a cost
  }
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoints" / "step-00000002" / "trainer_state.json"));
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "tokenizer.model"));
  auto info = model::load_autothink_json(dir / "run" / "model");
  EXPECT_EQ(info["stage"], "rl");
  // Running into the same folder again without --resume is refused (no silent overwrite).
  auto again = rl_cli("--config " + cfg.string() + " --model " + policy.string() + " --out " + (dir / "run").string());
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("--resume"), std::string::npos) << again.output;
}

TEST(rl_run, resumed_run_matches_uninterrupted_run) {
  auto dir = autothink::testing::temp_dir("rl-resume");
  auto policy = rl_make_policy(dir);
  auto cfg = autothink::testing::rl_write_config(dir);
  const std::string base = "--config " + cfg.string() + " --model " + policy.string();
  auto full = rl_cli(base + " --out " + (dir / "full").string());
  ASSERT_EQ(full.exit_code, 0) << full.output;
  auto part = rl_cli(base + " --out " + (dir / "part").string() + " --stop-after 2");
  ASSERT_EQ(part.exit_code, 0) << part.output;
  EXPECT_NE(part.output.find("stopped at step 2"), std::string::npos) << part.output;
  EXPECT_FALSE(fs::exists(dir / "part" / "model"));
  auto resumed = rl_cli(base + " --out " + (dir / "part").string() + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  auto a = rl_metrics(dir / "full"), b = rl_metrics(dir / "part");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    EXPECT_EQ(a[i]["rollout_tokens"], b[i]["rollout_tokens"]) << "step " << i + 1;
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-5) << "step " << i + 1;
    EXPECT_NEAR(a[i]["reward"].get<double>(), b[i]["reward"].get<double>(), 1e-9) << "step " << i + 1;
  }
}

TEST(rl_run, grpo_kl_and_several_updates_per_step) {
  auto dir = autothink::testing::temp_dir("rl-grpo");
  auto policy = rl_make_policy(dir);
  auto cfg = autothink::testing::rl_write_config(dir, "  algorithm: grpo\n  kl_beta: 0.05\n  epochs: 2\n  minibatches: 2\n"
                                  "  aggregation: seq_mean_token_sum_norm\n");
  // lr is a base key: changed with --set (a second `lr:` in the file is an error).
  auto r = rl_cli("--config " + cfg.string() + " --model " + policy.string() + " --out " + (dir / "run").string() +
                  " --set rl.lr=5e-3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lines = rl_metrics(dir / "run");
  ASSERT_EQ(lines.size(), 3u);
  // After the first update the policy differs from the reference and from the rollout policy.
  EXPECT_GT(lines[1]["kl"].get<double>(), 0.0) << lines[1].dump();
  EXPECT_NE(lines[0]["ratio_mean"].get<double>(), 1.0) << lines[0].dump();
  for (const auto& j : lines) EXPECT_TRUE(std::isfinite(j["loss"].get<double>()));
  auto bad = rl_cli("--config " + cfg.string() + " --model " + policy.string() + " --out " + (dir / "bad").string() +
                    " --set rl.algorithm=ppo");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("rl.algorithm"), std::string::npos) << bad.output;
}

TEST(rl_torchrun, two_ranks_match_one_process_on_the_first_step) {
#if !defined(AUTOTHINK_HAVE_GLOO)
  GTEST_SKIP() << "this build has no Gloo (libgloo-dev), so ranks cannot talk on CPU";
#endif
  auto reason = autothink::testing::torchrun_unavailable();
  if (!reason.empty()) GTEST_SKIP() << reason;
  auto dir = autothink::testing::temp_dir("rl-2r");
  auto policy = rl_make_policy(dir);
  auto cfg = autothink::testing::rl_write_config(dir, "  minibatches: 2\n");
  const std::string args = "rl --config " + cfg.string() + " --model " + policy.string() +
                           " --set rl.steps=1 --set rl.dist_timeout_s=60 --no-progress";
  auto one = run_command(autothink::testing::autothink_binary() + " " + args + " --out " + (dir / "one").string(), true);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  auto cmd = autothink::testing::torchrun_command(autothink::testing::LaunchStyle::agent_store, 2, dir / "logs",
                                                  autothink::testing::autothink_binary() + " " + args + " --out " +
                                                      (dir / "two").string());
  auto two = run_command(cmd, true);
  ASSERT_EQ(two.exit_code, 0) << cmd << "\n" << two.output;
  auto a = rl_metrics(dir / "one"), b = rl_metrics(dir / "two");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0]["rollout_tokens"], b[0]["rollout_tokens"]);
  EXPECT_NEAR(a[0]["reward"].get<double>(), b[0]["reward"].get<double>(), 1e-9);
  EXPECT_NEAR(a[0]["loss_first"].get<double>(), b[0]["loss_first"].get<double>(), 1e-5);
  EXPECT_NE(a[0]["loss_first"].get<double>(), 0.0);
  EXPECT_NEAR(a[0]["loss"].get<double>(), b[0]["loss"].get<double>(), 1e-4);
}

}  // namespace
}  // namespace autothink::rl
