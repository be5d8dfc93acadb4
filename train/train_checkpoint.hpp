// Training checkpoints in the run folder: RUN/checkpoints/step-00000050/ is a model folder
// (model/checkpoint.hpp) plus optimizer.pt (AdamW state), rng.pt (torch CPU generator) and
// trainer_state.json {"step", "data": {"epoch", "index"}, "tokens"}. A checkpoint is written into
// a temporary sibling and renamed into place, so a kill never leaves a half-written one; the
// oldest beyond `keep` are removed afterwards.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>

#include "data/batcher.hpp"
#include "model/checkpoint.hpp"

namespace autothink::train {

struct TrainerState {
  int64_t step = 0;  // optimizer steps done
  data::DataPosition data;
  int64_t tokens = 0;  // tokens trained on so far (all ranks)
};

// Writes RUN/checkpoints/step-<step>; returns its path.
std::filesystem::path save_checkpoint(const std::filesystem::path& run_dir, model::Qwen2Model& model,
                                      torch::optim::Optimizer& optimizer, const TrainerState& state,
                                      const model::SaveOptions& save_options, int64_t keep);

// The newest complete checkpoint (highest step with a trainer_state.json), if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& run_dir);

// Loads weights (into the existing parameters), optimizer state and RNG; returns the state.
// Throws autothink::Error naming the checkpoint when a piece is missing or does not fit.
TrainerState load_checkpoint(const std::filesystem::path& checkpoint, model::Qwen2Model& model,
                             torch::optim::Optimizer& optimizer);

// Copies every parameter (and buffer) of `from` into `to` (same names and shapes).
void copy_weights(model::Qwen2Model& from, model::Qwen2Model& to, const std::string& where);

}  // namespace autothink::train
