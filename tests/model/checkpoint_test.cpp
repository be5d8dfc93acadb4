// Model folders: save → load is bit-exact (f32, bf16, sharded, tied), the saved config reads back,
// and broken folders (truncated file, missing / mis-shaped / extra tensor) give errors naming the
// tensor and file.
#include "model/checkpoint.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "model_test_util.hpp"

namespace tu = autothink::testing;
namespace fs = std::filesystem;
namespace st = autothink::safetensors;
using autothink::model::load_model;
using autothink::model::Qwen2Model;
using autothink::model::save_model;
using autothink::model::SaveOptions;

namespace {

void expect_same_parameters(Qwen2Model& a, Qwen2Model& b) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (auto& p : pa) {
    ASSERT_TRUE(pb.contains(p.key())) << p.key();
    EXPECT_EQ(p.value().scalar_type(), pb[p.key()].scalar_type()) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  }
}

std::string load_error(const fs::path& dir) {
  try {
    load_model(dir);
  } catch (const autothink::Error& e) {
    return e.what();
  }
  return "";
}

// Copies the saved single-file model, with `edit` applied to its tensors.
fs::path edited_copy(const fs::path& src, const std::string& tag,
                     const std::function<void(std::map<std::string, st::RawTensor>&)>& edit) {
  auto dir = tu::temp_dir(tag) / "model";
  fs::create_directories(dir);
  fs::copy_file(src / "config.json", dir / "config.json");
  auto file = st::read_safetensors(src / "model.safetensors");
  edit(file.tensors);
  st::write_safetensors(dir / "model.safetensors", file.tensors, file.metadata);
  return dir;
}

}  // namespace

TEST(checkpoint, round_trip_is_bit_exact_and_config_reads_back) {
  auto original = load_model(tu::fixture("hf-qwen2-tiny"));
  auto dir = tu::temp_dir("ckpt-rt") / "model";
  SaveOptions options;
  options.autothink = {{"special_ids", {{"im_end", 1}}}, {"template_version", 1}};
  save_model(*original, dir, options);
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json", "autothink.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_FALSE(fs::exists(dir / "mtp.safetensors"));
  auto back = load_model(dir);
  expect_same_parameters(*original, *back);
  auto cfg = autothink::model::load_config_json(dir / "config.json");
  EXPECT_EQ(cfg.hidden_size, 64);
  EXPECT_EQ(cfg.kv_heads(), 2);
  EXPECT_EQ(autothink::model::load_autothink_json(dir)["template_version"], 1);
  // Nothing temporary left next to it.
  for (auto& e : fs::directory_iterator(dir.parent_path())) EXPECT_EQ(e.path().filename(), "model");
}

TEST(checkpoint, bf16_round_trip_and_conversion) {
  auto bf = load_model(tu::fixture("hf-qwen2-tiny"), torch::kCPU, torch::kBFloat16);
  auto dir = tu::temp_dir("ckpt-bf16") / "model";
  save_model(*bf, dir);
  auto file = st::read_safetensors(dir / "model.safetensors");
  EXPECT_EQ(file.tensors.at("model.norm.weight").dtype, st::DType::BF16);
  EXPECT_EQ(autothink::model::load_config_json(dir / "config.json").dtype, "bfloat16");
  auto back = load_model(dir);
  EXPECT_EQ(back->dtype(), torch::kBFloat16);
  expect_same_parameters(*bf, *back);
  // BF16 file → f32 model: exact widening.
  auto widened = load_model(dir, torch::kCPU, torch::kFloat);
  EXPECT_TRUE(torch::equal(widened->body->embed_tokens->weight, bf->body->embed_tokens->weight.to(torch::kFloat)));
}

TEST(checkpoint, sharded_save_loads_back) {
  auto original = load_model(tu::fixture("hf-qwen2-tied-sharded"));
  auto dir = tu::temp_dir("ckpt-shard") / "model";
  SaveOptions options;
  options.max_shard_bytes = 100000;
  save_model(*original, dir, options);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  ASSERT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  int shards = 0;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("model-", 0) == 0) {
      ++shards;
      auto file = st::read_safetensors(e.path());
      size_t bytes = 0;
      for (auto& kv : file.tensors) bytes += kv.second.nbytes();
      EXPECT_TRUE(bytes <= 100000 || file.tensors.size() == 1) << e.path();
    }
  EXPECT_GE(shards, 3);
  auto back = load_model(dir);
  expect_same_parameters(*original, *back);
}

TEST(checkpoint, tied_model_saves_no_lm_head) {
  Qwen2Model tied(tu::small_config(true));
  auto dir = tu::temp_dir("ckpt-tied") / "model";
  save_model(tied, dir);
  auto file = st::read_safetensors(dir / "model.safetensors");
  EXPECT_EQ(file.tensors.count("lm_head.weight"), 0u);
  EXPECT_TRUE(load_model(dir)->config().tie_word_embeddings);

  // An lm_head.weight equal to the embedding is tolerated; a different one is an error.
  auto same = edited_copy(dir, "ckpt-tied-same", [](auto& t) { t.emplace("lm_head.weight", t.at("model.embed_tokens.weight")); });
  EXPECT_NO_THROW(load_model(same));
  Qwen2Model other(tu::small_config(false));
  auto other_dir = tu::temp_dir("ckpt-untied") / "model";
  save_model(other, other_dir);
  auto head = st::read_safetensors(other_dir / "model.safetensors").tensors.at("lm_head.weight");
  auto differs = edited_copy(dir, "ckpt-tied-diff", [&](auto& t) { t.emplace("lm_head.weight", head); });
  EXPECT_NE(load_error(differs).find("lm_head.weight"), std::string::npos);
}

TEST(checkpoint, missing_tensor_is_named) {
  Qwen2Model m(tu::small_config());
  auto dir = tu::temp_dir("ckpt-missing-src") / "model";
  save_model(m, dir);
  auto broken = edited_copy(dir, "ckpt-missing", [](auto& t) { t.erase("model.layers.1.mlp.up_proj.weight"); });
  auto msg = load_error(broken);
  EXPECT_NE(msg.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(checkpoint, misshaped_tensor_is_named_with_its_file) {
  Qwen2Model m(tu::small_config());
  auto dir = tu::temp_dir("ckpt-shape-src") / "model";
  save_model(m, dir);
  auto broken = edited_copy(dir, "ckpt-shape", [](auto& t) {
    auto& w = t.at("model.layers.0.self_attn.k_proj.bias");
    std::vector<uint8_t> bytes(w.data(), w.data() + w.nbytes() / 2);
    w = st::RawTensor::owned(w.dtype, {w.shape[0] / 2}, bytes);
  });
  auto msg = load_error(broken);
  EXPECT_NE(msg.find("model.layers.0.self_attn.k_proj.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

TEST(checkpoint, extra_tensor_is_named) {
  Qwen2Model m(tu::small_config());
  auto dir = tu::temp_dir("ckpt-extra-src") / "model";
  save_model(m, dir);
  auto broken = edited_copy(dir, "ckpt-extra", [](auto& t) { t.emplace("model.layers.2.mlp.up_proj.weight", t.at("model.layers.1.mlp.up_proj.weight")); });
  auto msg = load_error(broken);
  EXPECT_NE(msg.find("model.layers.2.mlp.up_proj.weight"), std::string::npos) << msg;
}

TEST(checkpoint, truncated_or_missing_files_give_clear_errors) {
  Qwen2Model m(tu::small_config());
  auto dir = tu::temp_dir("ckpt-trunc") / "model";
  save_model(m, dir);
  auto size = fs::file_size(dir / "model.safetensors");
  fs::resize_file(dir / "model.safetensors", size - 100);
  auto msg = load_error(dir);
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;

  fs::remove(dir / "model.safetensors");
  msg = load_error(dir);
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  fs::remove(dir / "config.json");
  msg = load_error(dir);
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;

  // A shard listed in the index but absent.
  auto sharded = tu::temp_dir("ckpt-shard-missing") / "model";
  SaveOptions options;
  options.max_shard_bytes = 8000;
  save_model(m, sharded, options);
  std::vector<std::string> shards;
  for (auto& e : fs::directory_iterator(sharded))
    if (e.path().filename().string().rfind("model-", 0) == 0) shards.push_back(e.path().filename().string());
  std::sort(shards.begin(), shards.end());
  ASSERT_GE(shards.size(), 2u);
  fs::remove(sharded / shards[1]);
  msg = load_error(sharded);
  EXPECT_NE(msg.find(shards[1]), std::string::npos) << msg;
}

TEST(checkpoint, save_replaces_a_model_folder_but_never_foreign_files) {
  Qwen2Model a(tu::small_config()), b(tu::small_config());
  auto dir = tu::temp_dir("ckpt-replace") / "model";
  auto tokenizer = dir.parent_path() / "tok.model";
  std::ofstream(tokenizer) << "pretend sentencepiece";
  SaveOptions options;
  options.tokenizer_model = tokenizer;
  save_model(a, dir, options);
  save_model(b, dir);  // replaces, keeps tokenizer.model
  expect_same_parameters(b, *load_model(dir));
  EXPECT_TRUE(fs::exists(dir / "tokenizer.model"));

  std::ofstream(dir / "notes.txt") << "mine";
  EXPECT_THROW(save_model(a, dir), autothink::Error);
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  expect_same_parameters(b, *load_model(dir));
}
