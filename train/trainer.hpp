// The training loop of `autothink train` (DESIGN.md §5): data shards → per-document batches,
// L = α·CE + β·KD + (λ/D)·Σ_k MTP_k (each term normalised by the GLOBAL count of its loss tokens,
// so 1 rank and N ranks with the same global batch compute the same loss), AdamW with warmup +
// cosine, gradient accumulation, clipping, bf16 autocast on CUDA, held-out eval, checkpoints and
// --resume, distributed through train::Distributed (rank 0 writes).
//
// Run folder: config.yaml (resolved), metrics.jsonl (one line per logged step: step, loss, ce,
// kd, mtp_k, mtp1_top1, lr, grad_norm, tokens, tokens_per_s, mfu, dev_* when evaluated),
// shards/ (token shard cache), checkpoints/step-N/, model/ (the final model folder).
#pragma once
#include <filesystem>
#include <string>

#include "train/train_config.hpp"

namespace autothink::train {

struct RunOptions {
  std::filesystem::path out;  // run folder ("" = train.out)
  bool resume = false;        // continue from the newest checkpoint in the run folder
  bool progress = true;       // console progress line (rank 0)
};

struct TrainResult {
  int64_t steps_done = 0;
  double last_loss = 0;      // the last step's total loss
  double dev_loss = -1;      // held-out CE at the end (-1 without dev data)
  bool stopped = false;      // stopped at train.stop_at
  int rank = 0;              // this process's rank (only rank 0 reports)
  std::filesystem::path run_dir;
  std::filesystem::path model_dir;  // RUN/model (empty when stopped)
};

TrainResult run_training(const TrainConfig& config, const RunOptions& options);

}  // namespace autothink::train
