// The run settings train and rl share: one declaration read into both sections under each one's
// defaults, range checks that name the key and file:line, enums parsed once (with their names in
// errors), and no test-only keys in the user's config.
#include "train/run_settings.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/config.hpp"
#include "core/error.hpp"
#include "rl/rl_config.hpp"
#include "train/train_config.hpp"

namespace autothink {
namespace {

train::TrainConfig train_config(const std::string& train_keys) {
  return train::read_train_config(
      core::Config::parse("train:\n" + train_keys + "data:\n  train: [t.jsonl]\n", "train.yaml"));
}

rl::RlConfig rl_config(const std::string& rl_keys) {
  return rl::read_rl_config(core::Config::parse("rl:\n  prompts: [p.jsonl]\n" + rl_keys, "rl.yaml"));
}

// The error text of `read`, or "" when it did not throw.
template <class Read> std::string error_of(Read read) {
  try {
    read();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(run_settings, both_sections_read_the_same_keys_under_their_own_defaults) {
  const auto t = train_config("  stage: sft\n");
  const auto r = rl_config("");
  EXPECT_DOUBLE_EQ(t.train.optimizer.lr, 1e-3);
  EXPECT_DOUBLE_EQ(r.rl.optimizer.lr, 1e-5);
  EXPECT_DOUBLE_EQ(t.train.optimizer.beta2, 0.95);
  EXPECT_DOUBLE_EQ(r.rl.optimizer.beta2, 0.99);
  EXPECT_EQ(t.train.run.keep, r.rl.run.keep);

  const std::string keys = "  lr: 0.002\n  warmup: 3\n  clip: 0.5\n  keep: 4\n  bucket_mb: 8\n";
  const auto t2 = train_config(keys);
  const auto r2 = rl_config(keys);
  for (const auto* o : {&t2.train.optimizer, &r2.rl.optimizer}) {
    EXPECT_DOUBLE_EQ(o->lr, 0.002);
    EXPECT_EQ(o->warmup, 3);
    EXPECT_DOUBLE_EQ(o->clip, 0.5);
  }
  EXPECT_EQ(t2.train.run.keep, 4);
  EXPECT_EQ(r2.rl.run.keep, 4);
  EXPECT_DOUBLE_EQ(r2.rl.run.bucket_mb, 8);
}

TEST(run_settings, range_checks_name_the_section_key_and_line) {
  const std::string t = error_of([] { train_config("  steps: 5\n  min_lr: 1.0\n"); });
  EXPECT_NE(t.find("train.min_lr must be within [0, lr]"), std::string::npos) << t;
  EXPECT_NE(t.find("train.yaml:3"), std::string::npos) << t;
  const std::string r = error_of([] { rl_config("  warmup: -1\n"); });
  EXPECT_NE(r.find("rl.warmup must be >= 0"), std::string::npos) << r;
  EXPECT_NE(r.find("rl.yaml:3"), std::string::npos) << r;
  const std::string k = error_of([] { rl_config("  keep: 0\n"); });
  EXPECT_NE(k.find("rl.keep must be >= 1"), std::string::npos) << k;
}

TEST(run_settings, enums_are_parsed_once_and_bad_names_list_the_choices) {
  EXPECT_EQ(train_config("  stage: distill\n  teacher: t/\n").train.stage, train::Stage::distill);
  EXPECT_EQ(train_config("").train.stage, train::Stage::pretrain);
  const auto r = rl_config("  algorithm: grpo\n  aggregation: seq-mean-token-sum-norm\n");
  EXPECT_EQ(r.rl.algorithm, rl::Algorithm::grpo);
  EXPECT_EQ(r.rl.aggregation, rl::Aggregation::seq_mean_token_sum_norm);
  EXPECT_EQ(core::enum_name(r.rl.aggregation), "seq_mean_token_sum_norm");  // written back in one spelling

  const std::string stage = error_of([] { train_config("  stage: finetune\n"); });
  EXPECT_NE(stage.find("train.stage must be one of pretrain, distill or sft"), std::string::npos) << stage;
  EXPECT_NE(stage.find("train.yaml:2"), std::string::npos) << stage;
  const std::string algo = error_of([] { rl_config("  algorithm: ppo\n"); });
  EXPECT_NE(algo.find("rl.algorithm must be one of srpo or grpo"), std::string::npos) << algo;
}

TEST(run_settings, stopping_early_is_a_command_line_option_not_a_config_key) {
  const std::string t = error_of([] { train_config("  stop_at: 3\n"); });
  EXPECT_NE(t.find("train.stop_at"), std::string::npos) << t;
  const std::string r = error_of([] { rl_config("  stop_at: 3\n"); });
  EXPECT_NE(r.find("rl.stop_at"), std::string::npos) << r;
}

}  // namespace
}  // namespace autothink
