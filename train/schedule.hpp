// Learning-rate schedule: linear warmup from 0 to the peak over `warmup` steps, then cosine decay
// to `min_lr` at `total` steps (flat at min_lr after). No torch: plain arithmetic.
#pragma once
#include <cstdint>

namespace autothink::train {

struct LrSchedule {
  double peak = 1e-3;
  double min_lr = 0.0;
  int64_t warmup = 0;
  int64_t total = 1;

  // The rate for optimizer step `step` (0-based: the first update uses lr_at(0)).
  double lr_at(int64_t step) const;
};

}  // namespace autothink::train
