// The run folder a trainer writes, shared by `autothink train` and `autothink rl`:
//   RUN/config.yaml          the resolved config
//   RUN/metrics.jsonl        one line per logged step (a resumed run keeps the lines up to its checkpoint)
//   RUN/checkpoints/step-N/  train/train_checkpoint.hpp's checkpoints, every save_every steps and where
//                            the run stops early (--stop-after)
//   RUN/model/               the final model folder, with autothink.json
// Rank 0 writes; every rank calls every method (saves end in a barrier, so no rank runs ahead of
// a checkpoint the others will resume from).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/jsonl.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "train/process_group.hpp"
#include "train/train_checkpoint.hpp"

namespace autothink::train {

// When a run of `steps` steps, stopped early at `stop_at` (0 = never), saves.
struct StepPlan {
  int64_t steps = 0;
  int64_t end_step = 0;  // the step the run stops after: min(stop_at, steps), or steps
  int64_t save_every = 0;

  static StepPlan make(int64_t steps, int64_t stop_at, int64_t save_every);
  bool stops_early() const { return end_step < steps; }
  bool is_last(int64_t done) const { return done == steps; }
  // A checkpoint after step `done` (1-based): every save_every, and where the run stops early.
  bool saves_after(int64_t done) const;
};

// {"<|im_start|>": id, ...}: the special tokens' ids, as autothink.json records them.
nlohmann::json special_token_ids(const data::Tokenizer& tokenizer);

class RunFolder {
 public:
  // Creates RUN on rank 0 and writes config.yaml; a folder that already holds checkpoints is an
  // error unless `resume`.
  RunFolder(std::filesystem::path dir, Distributed& dist, bool resume, const std::string& resolved_yaml);

  const std::filesystem::path& dir() const { return dir_; }

  // With resume: loads the newest checkpoint into `net` and `optimizer` and returns its state
  // (a warning and nullopt when there is none). Without: nullopt.
  std::optional<TrainerState> resume(model::Qwen2Model& net, torch::optim::Optimizer& optimizer);

  // Opens metrics.jsonl for the steps after `start_step` (rank 0).
  void open_metrics(int64_t start_step);
  void write_metrics(const nlohmann::json& line);  // rank 0; flushed at once

  void save_checkpoint(model::Qwen2Model& net, torch::optim::Optimizer& optimizer, const TrainerState& state,
                       const model::SaveOptions& save_options, int64_t keep);
  // The end of a run: RUN/model, and its path; where `plan` stopped early, no model and "".
  std::filesystem::path finish(const StepPlan& plan, model::Qwen2Model& net, const model::SaveOptions& save_options);

 private:
  std::filesystem::path dir_;
  Distributed& dist_;
  bool resume_;
  std::unique_ptr<core::JsonlWriter> metrics_;
};

}  // namespace autothink::train
