// Loading and saving a model folder (DESIGN.md §2), Hugging Face compatible:
//   config.json                   ModelConfig (config_to_hf_json)
//   model.safetensors             or model-0000k-of-0000n.safetensors + model.safetensors.index.json
//   mtp.safetensors               the mtp.* tensors, only when MTP depth > 0
//   generation_config.json        bos/eos/pad (or the caller's json)
//   autothink.json                the caller's json (special token ids, training provenance)
//   tokenizer.model | tokenizer.json  copied when given (tokenizer.json with its tokenizer_config.json)
// Loading converts each file dtype (F32/BF16/F16) to the requested one. Every parameter must be
// present with the right shape; a tensor the model does not have is an error — except in a tied
// model an lm_head.weight equal to the embedding (older exports write it), which is ignored, and
// rotary `inv_freq` buffers. Errors name the tensor and the file.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "model/qwen2.hpp"

namespace autothink::model {

// Loads `dir` onto `device`; dtype defaults to the config's (dtype / torch_dtype).
std::shared_ptr<Qwen2Model> load_model(const std::filesystem::path& dir, torch::Device device = torch::kCPU,
                                       std::optional<torch::ScalarType> dtype = std::nullopt);

// The folder's autothink.json, or null when it has none.
nlohmann::json load_autothink_json(const std::filesystem::path& dir);

struct SaveOptions {
  int64_t max_shard_bytes = 0;               // 0 = one model.safetensors; else shards of at most this
                                             // many bytes (a larger single tensor gets its own shard)
  std::optional<torch::ScalarType> dtype;    // stored dtype; default the model's
  nlohmann::json generation_config;          // null = {bos, eos, pad} from the config
  nlohmann::json autothink;                  // written as autothink.json unless null
  std::filesystem::path tokenizer_model;     // copied (as tokenizer.model, or tokenizer.json by its extension) unless empty
};

// Writes the folder into a temporary sibling, then renames it into place, so a crash never leaves
// a half-written model. An existing `dir` is replaced, but only if it holds nothing except
// model-folder files (else autothink::Error: no silent data loss); its tokenizer file is kept
// when options.tokenizer_model is empty.
void save_model(Qwen2Model& model, const std::filesystem::path& dir, const SaveOptions& options = {});

// "float32" / "bfloat16" / "float16" ↔ torch dtype (autothink::Error for anything else).
torch::ScalarType dtype_from_string(const std::string& name);
std::string dtype_to_string(torch::ScalarType dtype);

}  // namespace autothink::model
