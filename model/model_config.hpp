// ModelConfig: the shape of a Qwen2 or Qwen3 decoder (+ MTP depth), read from and written to a
// Hugging Face config.json (model_type "qwen2" | "qwen3"). Reads every key variant seen in the wild (tests/fixtures/README.md): rope theta as
// `rope_theta` or `rope_parameters.rope_theta`, dtype as `torch_dtype` or `dtype`, a missing
// `num_key_value_heads` (= heads) and `head_dim` (= hidden / heads). MTP depth is stored under
// DeepSeek-V3's key `num_nextn_predict_layers` (transformers ignores it).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace autothink::model {

struct ModelConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // 0 in a hand-built config = same as heads (see finalize)
  int64_t head_dim = 0;             // 0 = hidden_size / num_attention_heads (see finalize)
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  bool attention_bias = true;  // Qwen2: q/k/v have a bias, o_proj has none (Qwen3: none)
  bool qk_norm = false;        // Qwen3 (model_type "qwen3"): per-head RMSNorm of q and k before RoPE
  int64_t mtp_depth = 0;       // DeepSeek-V3 MTP modules; 0 = none
  double initializer_range = 0.02;
  std::string dtype = "float32";  // "float32" | "bfloat16" | "float16": how the weights are stored
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // config.json allows an int or a list
  std::optional<int64_t> pad_token_id;

  // The shape keys as a config section lists them (train's `model:`; core/config_schema.hpp).
  template <class V> void shape_fields(V& v) {
    v("vocab_size", vocab_size, "vocabulary (0 = the tokenizer's size)");
    v("hidden_size", hidden_size, "hidden size");
    v("intermediate_size", intermediate_size, "MLP size");
    v("num_hidden_layers", num_hidden_layers, "decoder layers");
    v("num_attention_heads", num_attention_heads, "attention heads");
    v("num_key_value_heads", num_key_value_heads, "KV heads (GQA)");
    v("head_dim", head_dim, "head size (0 = hidden / heads)");
    v("max_position_embeddings", max_position_embeddings, "context length");
    v("rope_theta", rope_theta, "rotary base");
    v("rms_norm_eps", rms_norm_eps, "RMSNorm epsilon");
    v("tie_word_embeddings", tie_word_embeddings, "share the embedding and the LM head");
    v("mtp_depth", mtp_depth, "MTP modules (DeepSeek-V3 style)");
    v("initializer_range", initializer_range, "init std");
  }

  int64_t kv_heads() const { return num_key_value_heads > 0 ? num_key_value_heads : num_attention_heads; }
  int64_t head_size() const { return head_dim > 0 ? head_dim : (num_attention_heads > 0 ? hidden_size / num_attention_heads : 0); }
};

// Fills defaults (kv heads, head_dim) and checks the shape: positive sizes, heads divide hidden
// (when head_dim is implicit), kv heads divide heads, known dtype. Throws autothink::Error naming
// the key and `where`.
void finalize_config(ModelConfig& config, const std::string& where = "model config");

// From a parsed HF config.json; `where` (the file) goes into errors. Validated.
ModelConfig config_from_hf_json(const nlohmann::json& json, const std::string& where = "config.json");
ModelConfig load_config_json(const std::filesystem::path& path);
// A config.json transformers loads as Qwen2ForCausalLM (both dtype keys, both rope theta keys).
nlohmann::json config_to_hf_json(const ModelConfig& config);

}  // namespace autothink::model
