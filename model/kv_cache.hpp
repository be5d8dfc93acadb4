// KVCache: preallocated per-layer key/value tensors [max_slots, kv_heads, max_len + 1, head_dim]
// for slot-based continuous batching. A sequence owns one slot; Qwen2Model::forward_cached writes
// each token's k/v at [slot, :, position] and reads positions 0..position, so freeing or reusing
// a slot needs no clearing. The extra last column is scratch space where padding tokens write.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "model/model_config.hpp"

namespace autothink::model {

class KVCache {
 public:
  KVCache(const ModelConfig& config, int64_t max_slots, int64_t max_len, torch::Device device, torch::ScalarType dtype);

  int64_t max_slots() const { return max_slots_; }
  int64_t max_len() const { return max_len_; }  // positions 0..max_len-1 are usable
  int64_t layers() const { return static_cast<int64_t>(keys_.size()); }
  torch::Device device() const { return device_; }
  torch::ScalarType dtype() const { return dtype_; }
  std::vector<torch::Tensor>& keys() { return keys_; }
  std::vector<torch::Tensor>& values() { return values_; }

  // Bytes a cache of this shape takes (to size max_slots × max_len to the memory at hand).
  static int64_t bytes_needed(const ModelConfig& config, int64_t max_slots, int64_t max_len, torch::ScalarType dtype);

 private:
  int64_t max_slots_, max_len_;
  torch::Device device_;
  torch::ScalarType dtype_;
  std::vector<torch::Tensor> keys_, values_;
};

}  // namespace autothink::model
