#include "model/model_config.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"

namespace autothink::model {

namespace {

const nlohmann::json* cfg_find(const nlohmann::json& json, const char* key) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return nullptr;
  return &*it;
}

int64_t cfg_int(const nlohmann::json& json, const char* key, const std::string& where, std::optional<int64_t> fallback) {
  const nlohmann::json* v = cfg_find(json, key);
  if (!v) {
    if (fallback) return *fallback;
    throw Error("missing key '" + std::string(key) + "'", where, "a Qwen2 config.json needs it");
  }
  if (!v->is_number_integer()) throw Error("key '" + std::string(key) + "' must be an integer", where);
  return v->get<int64_t>();
}

double cfg_double(const nlohmann::json& json, const char* key, const std::string& where, double fallback) {
  const nlohmann::json* v = cfg_find(json, key);
  if (!v) return fallback;
  if (!v->is_number()) throw Error("key '" + std::string(key) + "' must be a number", where);
  return v->get<double>();
}

bool cfg_bool(const nlohmann::json& json, const char* key, const std::string& where, bool fallback) {
  const nlohmann::json* v = cfg_find(json, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw Error("key '" + std::string(key) + "' must be true or false", where);
  return v->get<bool>();
}

std::optional<int64_t> cfg_opt_int(const nlohmann::json& json, const char* key, const std::string& where) {
  const nlohmann::json* v = cfg_find(json, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) throw Error("key '" + std::string(key) + "' must be an integer", where);
  return v->get<int64_t>();
}

}  // namespace

void finalize_config(ModelConfig& c, const std::string& where) {
  auto positive = [&](int64_t v, const char* key) {
    if (v <= 0) throw Error("key '" + std::string(key) + "' must be positive, got " + std::to_string(v), where);
  };
  positive(c.vocab_size, "vocab_size");
  positive(c.hidden_size, "hidden_size");
  positive(c.intermediate_size, "intermediate_size");
  positive(c.num_hidden_layers, "num_hidden_layers");
  positive(c.num_attention_heads, "num_attention_heads");
  positive(c.max_position_embeddings, "max_position_embeddings");
  if (c.num_key_value_heads <= 0) c.num_key_value_heads = c.num_attention_heads;
  if (c.head_dim <= 0) {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw Error("key 'num_attention_heads' (" + std::to_string(c.num_attention_heads) + ") must divide hidden_size (" +
                      std::to_string(c.hidden_size) + ")",
                  where);
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) throw Error("key 'head_dim' must be even for rotary embeddings", where);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw Error("key 'num_key_value_heads' (" + std::to_string(c.num_key_value_heads) + ") must divide num_attention_heads (" +
                    std::to_string(c.num_attention_heads) + ")",
                where);
  if (c.mtp_depth < 0) throw Error("key 'num_nextn_predict_layers' (MTP depth) must be >= 0", where);
  if (c.rms_norm_eps <= 0) throw Error("key 'rms_norm_eps' must be positive", where);
  if (c.rope_theta <= 0) throw Error("key 'rope_theta' must be positive", where);
  if (c.dtype != "float32" && c.dtype != "bfloat16" && c.dtype != "float16")
    throw Error("key 'dtype' must be float32, bfloat16 or float16, got '" + c.dtype + "'", where);
}

ModelConfig config_from_hf_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error("config is not a JSON object", where);
  std::string model_type = "qwen2";
  if (auto* mt = cfg_find(j, "model_type"); mt && mt->is_string()) model_type = mt->get<std::string>();
  if (model_type != "qwen2" && model_type != "qwen3")
    throw Error("model_type '" + model_type + "' is not supported", where, "qwen2 and qwen3 models load");
  if (auto* act = cfg_find(j, "hidden_act"); act && act->is_string() && *act != "silu")
    throw Error("key 'hidden_act' must be silu, got '" + act->get<std::string>() + "'", where);
  if (cfg_bool(j, "use_sliding_window", where, false))
    throw Error("key 'use_sliding_window' is true: sliding-window attention is not supported", where);

  ModelConfig c;
  c.vocab_size = cfg_int(j, "vocab_size", where, std::nullopt);
  c.hidden_size = cfg_int(j, "hidden_size", where, std::nullopt);
  c.intermediate_size = cfg_int(j, "intermediate_size", where, std::nullopt);
  c.num_hidden_layers = cfg_int(j, "num_hidden_layers", where, std::nullopt);
  c.num_attention_heads = cfg_int(j, "num_attention_heads", where, std::nullopt);
  c.num_key_value_heads = cfg_int(j, "num_key_value_heads", where, int64_t{0});
  c.head_dim = cfg_int(j, "head_dim", where, int64_t{0});
  c.max_position_embeddings = cfg_int(j, "max_position_embeddings", where, int64_t{2048});
  c.rms_norm_eps = cfg_double(j, "rms_norm_eps", where, 1e-6);
  c.initializer_range = cfg_double(j, "initializer_range", where, 0.02);
  c.tie_word_embeddings = cfg_bool(j, "tie_word_embeddings", where, false);
  c.qk_norm = model_type == "qwen3";
  c.attention_bias = cfg_bool(j, "attention_bias", where, !c.qk_norm);
  c.mtp_depth = cfg_int(j, "num_nextn_predict_layers", where, int64_t{0});

  // rope theta: transformers 5 nests it in rope_parameters; older files have it top level.
  c.rope_theta = cfg_double(j, "rope_theta", where, 10000.0);
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    const nlohmann::json* rp = cfg_find(j, key);
    if (!rp) continue;
    if (!rp->is_object()) throw Error("key '" + std::string(key) + "' must be an object", where);
    c.rope_theta = cfg_double(*rp, "rope_theta", where + ": " + key, c.rope_theta);
    auto type = rp->find("rope_type");
    if (type == rp->end()) type = rp->find("type");
    if (type != rp->end() && type->is_string() && *type != "default")
      throw Error("key '" + std::string(key) + ".rope_type' is '" + type->get<std::string>() + "': only default rotary embeddings are supported",
                  where);
  }

  for (const char* key : {"dtype", "torch_dtype"}) {
    const nlohmann::json* d = cfg_find(j, key);
    if (!d) continue;
    if (!d->is_string()) throw Error("key '" + std::string(key) + "' must be a string", where);
    c.dtype = d->get<std::string>();
    break;
  }
  c.bos_token_id = cfg_opt_int(j, "bos_token_id", where);
  c.pad_token_id = cfg_opt_int(j, "pad_token_id", where);
  if (const nlohmann::json* eos = cfg_find(j, "eos_token_id")) {
    if (eos->is_number_integer()) {
      c.eos_token_ids.push_back(eos->get<int64_t>());
    } else if (eos->is_array()) {
      for (auto& e : *eos) {
        if (!e.is_number_integer()) throw Error("key 'eos_token_id' must be an integer or a list of integers", where);
        c.eos_token_ids.push_back(e.get<int64_t>());
      }
    } else {
      throw Error("key 'eos_token_id' must be an integer or a list of integers", where);
    }
  }
  finalize_config(c, where);
  return c;
}

ModelConfig load_config_json(const std::filesystem::path& path) {
  std::string text = core::read_file(path.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("config.json is not valid JSON: " + std::string(e.what()), path.string());
  }
  return config_from_hf_json(j, path.string());
}

nlohmann::json config_to_hf_json(const ModelConfig& c) {
  nlohmann::json j;
  j["architectures"] = {c.qk_norm ? "Qwen3ForCausalLM" : "Qwen2ForCausalLM"};
  j["model_type"] = c.qk_norm ? "qwen3" : "qwen2";
  if (c.qk_norm || !c.attention_bias) j["attention_bias"] = c.attention_bias;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.kv_heads();
  j["head_dim"] = c.head_size();
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["rope_parameters"] = {{"rope_theta", c.rope_theta}, {"rope_type", "default"}};
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["hidden_act"] = "silu";
  j["attention_dropout"] = 0.0;
  j["initializer_range"] = c.initializer_range;
  j["use_cache"] = true;
  j["use_sliding_window"] = false;
  j["sliding_window"] = nullptr;
  j["max_window_layers"] = c.num_hidden_layers;
  j["torch_dtype"] = c.dtype;
  j["dtype"] = c.dtype;
  j["num_nextn_predict_layers"] = c.mtp_depth;
  j["bos_token_id"] = c.bos_token_id ? nlohmann::json(*c.bos_token_id) : nlohmann::json(nullptr);
  j["pad_token_id"] = c.pad_token_id ? nlohmann::json(*c.pad_token_id) : nlohmann::json(nullptr);
  if (c.eos_token_ids.empty())
    j["eos_token_id"] = nullptr;
  else if (c.eos_token_ids.size() == 1)
    j["eos_token_id"] = c.eos_token_ids[0];
  else
    j["eos_token_id"] = c.eos_token_ids;
  return j;
}

}  // namespace autothink::model
