// autothink::train::GradientSync — averages gradients over ranks in buckets, the way DDP does:
// parameters are grouped (in reverse order, as backward produces them) into flat buckets of
// about `bucket_mb`; each bucket is all-reduced as one tensor and the mean written back into
// every parameter's .grad().
//
//   train::GradientSync sync(dist, params, {/*bucket_mb=*/25});
//   for (micro = 0; micro < accum; ++micro) {
//     if (micro == accum - 1) sync.prepare();   // this backward's gradients get synchronised
//     loss(micro).backward();
//   }
//   sync.finish();                              // .grad() = mean over ranks; then clip, step
//
// Overlap: after prepare(), gradient hooks copy each parameter's accumulated gradient into its
// bucket as backward produces it and start the bucket's async all-reduce as soon as the bucket
// is full, so communication runs while backward continues. Buckets are always started in the
// same order on every rank (bucket k waits for 0..k-1), which keeps c10d's order-matched
// collectives consistent. finish() starts whatever backward did not (parameters that got no
// gradient, or everything when prepare() was not called or overlap is off: plain bucketed
// all-reduce after backward), waits, and writes the means. A parameter without a gradient on
// some rank counts as zeros there; one without a gradient on every rank keeps none (as in a
// single process, so the optimizer skips it: one small extra all-reduce per finish()). Do not call other collectives between prepare() and finish().
// With world 1 nothing is registered and finish() does nothing.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace autothink::train {

class Distributed;

struct GradSyncOptions {
  double bucket_mb = 25.0;  // flat bucket size; a larger parameter gets a bucket of its own
  bool overlap = true;      // start buckets from gradient hooks during backward
};

class GradientSync {
 public:
  // Parameters that do not require grad are ignored. `dist` must outlive this object.
  GradientSync(Distributed& dist, const std::vector<at::Tensor>& params, GradSyncOptions options = {});
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // The next backward's gradients are final for this step: hooks start buckets as they fill.
  void prepare();
  // Completes the all-reduce of every bucket and sets each parameter's .grad() to the mean
  // over ranks. Throws autothink::Error when a rank died or timed out.
  void finish();

  std::size_t bucket_count() const;
  // Buckets whose all-reduce was started from a hook during the last backward (overlap).
  std::size_t buckets_started_in_backward() const;

  struct State;  // defined in grad_sync.cpp

 private:
  std::shared_ptr<State> state_;
};

}  // namespace autothink::train
