#include "model/kv_cache.hpp"

#include "core/error.hpp"

namespace autothink::model {

KVCache::KVCache(const ModelConfig& config, int64_t max_slots, int64_t max_len, torch::Device device,
                 torch::ScalarType dtype)
    : max_slots_(max_slots), max_len_(max_len), device_(device), dtype_(dtype) {
  if (max_slots <= 0 || max_len <= 0)
    throw Error("KV cache needs max_slots > 0 and max_len > 0, got " + std::to_string(max_slots) + " and " +
                std::to_string(max_len));
  auto options = torch::TensorOptions().dtype(dtype).device(device);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    // Zeros: padding queries read column 0 of slot 0 and must stay finite.
    keys_.push_back(torch::zeros({max_slots, config.kv_heads(), max_len + 1, config.head_size()}, options));
    values_.push_back(torch::zeros({max_slots, config.kv_heads(), max_len + 1, config.head_size()}, options));
  }
}

int64_t KVCache::bytes_needed(const ModelConfig& config, int64_t max_slots, int64_t max_len, torch::ScalarType dtype) {
  return 2 * config.num_hidden_layers * max_slots * config.kv_heads() * (max_len + 1) * config.head_size() *
         static_cast<int64_t>(c10::elementSize(dtype));
}

}  // namespace autothink::model
