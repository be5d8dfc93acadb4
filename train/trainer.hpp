// The training loop of `autothink train` (DESIGN.md §5): data shards → per-document batches,
// L = α·CE + β·KD + (λ/D)·Σ_k MTP_k (each term normalised by the GLOBAL count of its loss tokens,
// so 1 rank and N ranks with the same global batch compute the same loss), AdamW with warmup +
// cosine, gradient accumulation, clipping, bf16 autocast on CUDA, held-out eval, checkpoints and
// --resume, distributed through train::Distributed (rank 0 writes).
//
// Run folder (train/run_folder.hpp): config.yaml, metrics.jsonl (one line per logged step: step,
// loss, ce, kd, mtp_k, mtp1_top1, lr, grad_norm, tokens, tokens_per_s, mfu, dev_* when
// evaluated), shards/ (token shard cache), checkpoints/step-N/, model/ (the final model folder).
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "train/train_config.hpp"

namespace autothink::train {

struct RunOptions {
  std::filesystem::path out;  // run folder ("" = train.out)
  bool resume = false;        // continue from the newest checkpoint in the run folder
  bool progress = true;       // console progress line (rank 0)
  int64_t stop_after = 0;     // stop after this step, checkpointed as if preempted (0 = run to the end)
};

struct TrainResult {
  int64_t steps_done = 0;
  double last_loss = 0;      // the last step's total loss
  double dev_loss = -1;      // held-out CE at the end (-1 without dev data)
  bool stopped = false;      // stopped by RunOptions::stop_after
  int rank = 0;              // this process's rank (only rank 0 reports)
  std::filesystem::path run_dir;
  std::filesystem::path model_dir;  // RUN/model (empty when stopped)
};

class Trainer {
 public:
  // Setup, in this order: the distributed group, the run folder, tokenizer and token shards
  // (rank 0 builds them, the others map the cache), the teacher, the model (from a folder, cut
  // out of the teacher, or seeded from scratch), optimizer, schedule, batcher, --resume, the
  // parameter broadcast. Throws autothink::Error for what the config gets wrong.
  Trainer(const TrainConfig& config, const RunOptions& options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // The steps from the resumed position to train.steps (or RunOptions::stop_after): metrics, held-out
  // eval, checkpoints, and the final model folder.
  TrainResult run();

 private:
  struct Parts;  // the typed parts setup builds (trainer.cpp)

  // One optimizer step (all its micro-batches); returns the step's metrics line.
  nlohmann::json train_step(int64_t step);
  // Held-out CE (and MTP) over the dev documents, on every rank, globally normalised.
  nlohmann::json evaluate();

  std::unique_ptr<Parts> parts_;
};

// Trainer(config, options).run().
TrainResult run_training(const TrainConfig& config, const RunOptions& options);

}  // namespace autothink::train
