// `autothink train` end to end on a tiny from-scratch model: the run folder has what it promises
// (resolved config, metrics with every loss term, checkpoints, final model), losses fall,
// kill-and-resume reaches the same weights as an uninterrupted run, gradient accumulation gives
// the same loss as a larger batch, bad records name file:line, bad config keys name the key, and a
// student cut out of its teacher (train.prune_teacher) starts far ahead of one from scratch, and
// SFT starts from a Hugging Face checkpoint whose tokenizer gained the KAT tokens.
#include <gtest/gtest.h>

#include "data/tokenizer.hpp"
#include "trainer_run.hpp"

namespace autothink::train {
namespace {
using namespace testrun;
namespace fs = std::filesystem;

TEST(trainer, run_folder_metrics_and_falling_losses) {
  auto dir = autothink::testing::temp_dir("trainer-run");
  auto cfg = write_tiny_config(dir, "  save_every: 4\n  keep: 2\n");
  auto r = train_cli("--config " + cfg.string() + " --out " + (dir / "run").string() + " --set train.steps=12");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "run" / "config.yaml"));
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "mtp.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "tokenizer.model"));
  // keep: 2 → steps 8 and 12 remain.
  EXPECT_FALSE(fs::exists(dir / "run" / "checkpoints" / "step-00000004"));
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoints" / "step-00000008" / "optimizer.pt"));
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoints" / "step-00000012" / "trainer_state.json"));
  auto first = metrics_at(dir / "run", 1), last = metrics_at(dir / "run", 12);
  ASSERT_FALSE(first.is_null());
  ASSERT_FALSE(last.is_null());
  for (const char* key : {"loss", "ce", "mtp_1", "mtp1_top1", "lr", "grad_norm", "tokens", "tokens_per_s"})
    EXPECT_TRUE(last.contains(key)) << key << " missing in " << last.dump();
  EXPECT_TRUE(last.contains("dev_loss")) << last.dump();
  EXPECT_LT(last["ce"].get<double>(), first["ce"].get<double>() - 0.5);
  EXPECT_LT(last["mtp_1"].get<double>(), first["mtp_1"].get<double>() - 0.3);  // MTP losses fall too
}

TEST(trainer, kill_and_resume_reaches_the_same_weights) {
  auto dir = autothink::testing::temp_dir("trainer-resume");
  auto cfg = write_tiny_config(dir, "  save_every: 2\n");
  auto full = train_cli("--config " + cfg.string() + " --out " + (dir / "full").string());
  ASSERT_EQ(full.exit_code, 0) << full.output;
  auto part = train_cli("--config " + cfg.string() + " --out " + (dir / "part").string() + " --stop-after 3");
  ASSERT_EQ(part.exit_code, 0) << part.output;
  EXPECT_FALSE(fs::exists(dir / "part" / "model"));
  // A second start without --resume refuses to overwrite the run.
  auto again = train_cli("--config " + cfg.string() + " --out " + (dir / "part").string());
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("--resume"), std::string::npos) << again.output;
  auto resumed = train_cli("--config " + cfg.string() + " --out " + (dir / "part").string() + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(max_weight_diff(dir / "full" / "model" / "model.safetensors", dir / "part" / "model" / "model.safetensors"), 0.0);
  EXPECT_EQ(max_weight_diff(dir / "full" / "model" / "mtp.safetensors", dir / "part" / "model" / "mtp.safetensors"), 0.0);
  EXPECT_DOUBLE_EQ(metrics_at(dir / "full", 6)["loss"].get<double>(), metrics_at(dir / "part", 6)["loss"].get<double>());
  EXPECT_EQ(read_metrics(dir / "part").size(), read_metrics(dir / "full").size());
}

TEST(trainer, gradient_accumulation_matches_the_larger_batch) {
  auto dir = autothink::testing::temp_dir("trainer-accum");
  auto cfg = write_tiny_config(dir);
  auto a = train_cli("--config " + cfg.string() + " --out " + (dir / "a").string() + " --set train.steps=3");
  auto b = train_cli("--config " + cfg.string() + " --out " + (dir / "b").string() +
                     " --set train.steps=3 --set train.batch_size=2 --set train.grad_accum=2");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  for (int step = 1; step <= 3; ++step)
    EXPECT_NEAR(metrics_at(dir / "a", step)["loss"].get<double>(), metrics_at(dir / "b", step)["loss"].get<double>(), 1e-5)
        << "step " << step;
}

TEST(trainer, bad_record_and_bad_key_are_named) {
  auto dir = autothink::testing::temp_dir("trainer-bad");
  auto cfg = write_tiny_config(dir);
  { std::ofstream(dir / "train.jsonl", std::ios::app) << "{\"messages\": 3}\n"; }
  auto r = train_cli("--config " + cfg.string() + " --out " + (dir / "run").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("train.jsonl:25"), std::string::npos) << r.output;
  auto skipped = train_cli("--config " + cfg.string() + " --out " + (dir / "run2").string() + " --set data.skip_bad=true");
  EXPECT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("skipped 1 bad record"), std::string::npos) << skipped.output;
  auto key = train_cli("--config " + cfg.string() + " --out " + (dir / "run3").string() + " --set train.lrr=1");
  EXPECT_NE(key.exit_code, 0);
  EXPECT_NE(key.output.find("train.lrr"), std::string::npos) << key.output;
}

TEST(trainer, student_cut_out_of_the_teacher_starts_from_its_knowledge) {
  auto dir = autothink::testing::temp_dir("trainer-prune");
  auto cfg = write_tiny_config(dir);
  const std::string base = "--config " + cfg.string() + " --set train.eval_every=0";
  auto teacher = train_cli(base + " --out " + (dir / "teacher").string() + " --set train.steps=40 --set model.mtp_depth=0");
  ASSERT_EQ(teacher.exit_code, 0) << teacher.output;
  // The student: hidden 32 -> 24 and MLP 64 -> 48; heads stay whole (head_dim 8 as the teacher's).
  const std::string student = base + " --set train.stage=distill --set train.teacher=" + (dir / "teacher" / "model").string() +
                              " --set model.hidden_size=24 --set model.intermediate_size=48 --set model.head_dim=8"
                              " --set train.steps=1";
  auto pruned = train_cli(student + " --out " + (dir / "pruned").string() + " --set train.prune_teacher=true");
  ASSERT_EQ(pruned.exit_code, 0) << pruned.output;
  EXPECT_NE(pruned.output.find("cut out of the teacher: hidden 32 -> 24"), std::string::npos) << pruned.output;
  auto scratch = train_cli(student + " --out " + (dir / "scratch").string());
  ASSERT_EQ(scratch.exit_code, 0) << scratch.output;
  const double teacher_ce = metrics_at(dir / "teacher", 40)["ce"].get<double>();
  const double pruned_ce = metrics_at(dir / "pruned", 1)["ce"].get<double>();
  const double scratch_ce = metrics_at(dir / "scratch", 1)["ce"].get<double>();
  EXPECT_LT(pruned_ce, scratch_ce - 1.0) << "teacher " << teacher_ce << ", pruned " << pruned_ce << ", scratch " << scratch_ce;
  // A shape that cannot be cut out is refused with the key named.
  auto deeper = train_cli(student + " --out " + (dir / "deeper").string() +
                          " --set train.prune_teacher=true --set model.num_hidden_layers=3");
  EXPECT_NE(deeper.exit_code, 0);
  EXPECT_NE(deeper.output.find("num_hidden_layers"), std::string::npos) << deeper.output;
  auto no_teacher = train_cli(base + " --out " + (dir / "none").string() + " --set train.prune_teacher=true");
  EXPECT_NE(no_teacher.exit_code, 0);
  EXPECT_NE(no_teacher.output.find("train.prune_teacher"), std::string::npos) << no_teacher.output;
}

}  // namespace
}  // namespace autothink::train

namespace autothink::train {
namespace {
namespace fs = std::filesystem;

// Training from a checkpoint as Hugging Face tools write it: its tokenizer.json gains the KAT
// tokens (tokenizer add-kat-tokens), train.init grows the vocabulary rows to match, and the saved
// folder carries the extended tokenizer and loads in transformers with our logits.
TEST(trainer, sft_from_a_hugging_face_checkpoint_with_added_kat_tokens) {
  auto dir = autothink::testing::temp_dir("train-hf-init");
  auto made = autothink::testing::run_command(
      autothink::testing::python() + " " + (autothink::testing::source_dir() / "tests/train/make_hf_checkpoint.py").string() +
          " " + (dir / "hf").string(),
      true);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto add = autothink::testing::run_command(autothink::testing::autothink_binary() + " tokenizer add-kat-tokens --tokenizer " +
                                                 (dir / "hf").string() + " --out " + (dir / "kat").string(),
                                             true);
  ASSERT_EQ(add.exit_code, 0) << add.output;
  auto cfg = testrun::write_tiny_config(dir);
  auto r = testrun::train_cli("--config " + cfg.string() + " --out " + (dir / "run").string() +
                                     " --set train.stage=sft --set train.init=" + (dir / "hf").string() +
                                     " --set train.tokenizer=" + (dir / "kat" / "tokenizer.json").string() +
                                     " --set train.steps=3 --set train.eval_every=0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("initialised to the mean row"), std::string::npos) << r.output;
  const auto model_dir = dir / "run" / "model";
  ASSERT_TRUE(fs::exists(model_dir / "tokenizer.json"));
  data::Tokenizer saved(model_dir.string());
  EXPECT_TRUE(saved.has_kat_tokens());
  auto config = nlohmann::json::parse(autothink::testing::read_text_file(model_dir / "config.json"));
  EXPECT_EQ(config["vocab_size"].get<int>(), saved.vocab_size());
  auto check = autothink::testing::run_command(autothink::testing::python() + " " +
                                                   (autothink::testing::source_dir() / "tests/model/hf_load_check.py").string() +
                                                   " " + model_dir.string() + " --device cpu --ids 1,2,3");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

}  // namespace
}  // namespace autothink::train
