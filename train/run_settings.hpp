// The settings `autothink train` and `autothink rl` share, declared once and written flat into
// each command's own section (train.lr, rl.lr, ...): the AdamW optimizer with its warmup + cosine
// schedule, and the run's cadence and process group. The two sections differ only in defaults
// (distillation's lr 1e-3 against RL's 1e-5, ...), given where they embed these.
#pragma once
#include <cstdint>

#include "core/config.hpp"
#include "train/optimizer.hpp"

namespace autothink::train {

struct OptimizerSettings {
  double lr = 1e-3;
  double min_lr = 1e-4;
  int64_t warmup = 10;         // optimizer updates
  double weight_decay = 0.1;   // decoupled (AdamW); not applied to norms and biases
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double clip = 1.0;           // max global grad norm (0 = no clipping)

  template <class V> void fields(V& v) {
    v("lr", lr, "peak learning rate");
    v("min_lr", min_lr, "learning rate at the end of the cosine");
    v("warmup", warmup, "linear warmup, in optimizer updates");
    v("weight_decay", weight_decay, "AdamW decoupled weight decay (matrices only)");
    v("beta1", beta1, "AdamW beta1");
    v("beta2", beta2, "AdamW beta2");
    v("eps", eps, "AdamW epsilon");
    v("clip", clip, "max global gradient norm (0 = off)");
  }
  AdamWSettings adamw() const { return {lr, weight_decay, beta1, beta2, eps}; }
  // Errors name the key of `section` (its file:line) that is out of range.
  void check(const core::Config& section) const;
};

struct RunSettings {
  int64_t save_every = 0;      // checkpoint every N steps (0 = only at the end)
  int64_t keep = 2;            // checkpoints kept
  int64_t log_every = 1;
  double dist_timeout_s = 300;
  double bucket_mb = 25;

  template <class V> void fields(V& v) {
    v("save_every", save_every, "checkpoint every N steps (0 = only at the end)");
    v("keep", keep, "checkpoints kept in the run folder");
    v("log_every", log_every, "metrics line every N steps");
    v("dist_timeout_s", dist_timeout_s, "seconds before a collective gives up (a dead rank)");
    v("bucket_mb", bucket_mb, "gradient all-reduce bucket size (MB)");
  }
  void check(const core::Config& section) const;
};

}  // namespace autothink::train
