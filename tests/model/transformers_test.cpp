// Model folders written by `autothink train` (a pretrained teacher, a distilled student with its
// MTP file) and `autothink rl` load in Hugging Face transformers (AutoModelForCausalLM, the
// venv's pinned version) and give the same f32 logits (max abs diff <= 1e-4) and the same greedy
// tokens as our engine. A few training steps each: this checks the files, not the model.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/qwen2.hpp"
#include "model_test_util.hpp"
#include "rl/rl_test_config.hpp"
#include "train/trainer_run.hpp"

using namespace autothink;
namespace fs = std::filesystem;

namespace {

const std::vector<std::vector<int64_t>> kIds = {{3, 17, 42, 8, 99, 5, 61, 23, 7, 150, 12, 4},
                                                {9, 1, 33, 72, 18, 250, 6, 88, 41, 2, 130, 77}};
const std::vector<int64_t> kPrompt = {3, 17, 42, 8, 99, 5};
constexpr int kNewTokens = 16;

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

// tests/model/hf_load_check.py on `dir`: transformers' logits for kIds and greedy continuation of kPrompt.
nlohmann::json transformers_view(const fs::path& dir) {
  std::string ids = join(kIds[0]) + ";" + join(kIds[1]);
  auto cmd = autothink::testing::python() + " " + (autothink::testing::source_dir() / "tests/model/hf_load_check.py").string() +
             " " + dir.string() + " --device cpu --ids '" + ids + "' --greedy-prompt " + join(kPrompt) +
             " --new-tokens " + std::to_string(kNewTokens);
  auto r = autothink::testing::run_command(cmd);
  if (r.exit_code != 0) ADD_FAILURE() << cmd << " exited " << r.exit_code << ":\n" << r.output;
  return r.exit_code == 0 ? nlohmann::json::parse(r.output) : nlohmann::json();
}

// Our logits for kIds and our engine's greedy continuation (stopping at the config's eos ids, as
// transformers' generate does with generation_config.json) must equal transformers'.
void expect_same_as_transformers(const fs::path& dir) {
  ASSERT_TRUE(fs::exists(dir / "config.json")) << dir;
  auto hf = transformers_view(dir);
  ASSERT_FALSE(hf.is_null());
  auto net = model::load_model(dir);
  net->eval();
  torch::NoGradGuard no_grad;
  auto ours = net->logits(net->forward_hidden(autothink::testing::ids_tensor(hf["input_ids"])));
  std::vector<float> flat;
  for (auto& b : hf["logits"])
    for (auto& row : b)
      for (auto& v : row) flat.push_back(v.get<float>());
  auto theirs = torch::tensor(flat).view(ours.sizes());
  EXPECT_LE(autothink::testing::max_abs_diff(ours, theirs), 1e-4) << "transformers " << hf["transformers_version"];
  EXPECT_TRUE(torch::equal(ours.argmax(-1), theirs.argmax(-1)));

  model::Engine engine(net, {});
  model::SequenceRequest greedy;
  greedy.prompt = kPrompt;
  greedy.max_tokens = kNewTokens;
  greedy.stop_ids = net->config().eos_token_ids;
  auto got = engine.generate({greedy});
  EXPECT_EQ(got[0].tokens, hf["greedy_new_tokens"].get<std::vector<int64_t>>());
}

// A pretrained teacher (no MTP) under DIR/teacher; returns its model folder.
fs::path train_teacher(const fs::path& dir) {
  auto cfg = train::testrun::write_tiny_config(dir);
  auto r = train::testrun::train_cli("--config " + cfg.string() + " --out " + (dir / "teacher").string() +
                                     " --set model.mtp_depth=0 --set train.steps=3 --set train.eval_every=0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir / "teacher" / "model";
}

}  // namespace

TEST(transformers, pretrained_teacher_loads_with_same_logits_and_greedy_tokens) {
  auto dir = autothink::testing::temp_dir("hf-teacher");
  auto teacher = train_teacher(dir);
  expect_same_as_transformers(teacher);
}

TEST(transformers, distilled_student_with_mtp_file_loads_with_same_logits_and_greedy_tokens) {
  auto dir = autothink::testing::temp_dir("hf-student");
  auto teacher = train_teacher(dir);
  auto r = train::testrun::train_cli("--config " + (dir / "train.yaml").string() + " --out " + (dir / "student").string() +
                                     " --set train.stage=distill --set train.teacher=" + teacher.string() +
                                     " --set train.steps=3 --set train.eval_every=0 --set model.mtp_depth=1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto student = dir / "student" / "model";
  ASSERT_TRUE(fs::exists(student / "mtp.safetensors")) << "the distilled student has no MTP file";
  expect_same_as_transformers(student);
}

TEST(transformers, rl_model_loads_with_same_logits_and_greedy_tokens) {
  auto dir = autothink::testing::temp_dir("hf-rl");
  auto teacher = train_teacher(dir);
  auto cfg = autothink::testing::rl_write_config(dir);
  auto r = autothink::testing::run_command(autothink::testing::autothink_binary() + " rl --config " + cfg.string() +
                                               " --model " + teacher.string() + " --out " + (dir / "rl").string() +
                                               " --set rl.steps=2 --no-progress",
                                           true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_as_transformers(dir / "rl" / "model");
}

// Qwen3's architecture (per-head q/k RMSNorm, no q/k/v bias, head_dim apart from hidden/heads), as
// transformers writes it, loads with the same logits and greedy tokens; saving it again keeps it
// a Qwen3 folder that transformers reads the same.
TEST(transformers, qwen3_folder_written_by_transformers_loads_with_same_logits_and_greedy_tokens) {
  auto dir = autothink::testing::temp_dir("hf-qwen3");
  auto r = autothink::testing::run_command(autothink::testing::python() + " " +
                                               (autothink::testing::source_dir() / "tests/model/make_hf_qwen3.py").string() +
                                               " " + (dir / "written").string(),
                                           true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto net = model::load_model(dir / "written");
  EXPECT_TRUE(net->config().qk_norm);
  EXPECT_FALSE(net->config().attention_bias);
  expect_same_as_transformers(dir / "written");
  model::save_model(*net, dir / "resaved");
  auto config = nlohmann::json::parse(autothink::testing::read_text_file(dir / "resaved" / "config.json"));
  EXPECT_EQ(config["model_type"], "qwen3");
  expect_same_as_transformers(dir / "resaved");
}
