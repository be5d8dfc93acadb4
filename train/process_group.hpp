// autothink::train::Distributed — this process's place among the ranks of a run (torchrun,
// srun, mpirun or a single process) and the few collectives training needs: broadcast of rank 0's
// parameters, all-reduce of tensors and scalars, barrier. Gloo on CPU, NCCL on CUDA.
//
//   auto env = core::detect_launch_env();
//   train::Distributed dist(env, std::chrono::seconds(cfg.dist_timeout_s));
//   model->to(dist.device());
//   dist.broadcast_parameters(params);          // every rank starts from rank 0's weights
//   ... loss.backward(); grad_sync.finish();    // see train/grad_sync.hpp
//   double tokens = dist.all_reduce_scalar(local_tokens);
//   if (dist.is_main()) write_checkpoint();
//   dist.barrier();                             // before exiting: rank 0 may host the store
//
// With one process every call is a cheap no-op and no store or socket is created.
// Store rule (DESIGN.md §5): under torchrun's agent store every rank is a client of the store
// the agent hosts; otherwise rank 0 hosts it at MASTER_ADDR:MASTER_PORT. The store is wrapped in
// PrefixStore(env.store_prefix()) so a restarted attempt never reads the last attempt's keys.
// A collective that fails or does not complete within the timeout (a rank died or hangs) throws
// autothink::Error; the group is then broken and every later call throws at once.
// Collectives must be called by every rank in the same order (c10d matches them by order).
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/launcher_env.hpp"

namespace autothink::train {

class Distributed {
 public:
  // A single process (world 1): every collective is a no-op.
  Distributed();
  // Joins the group `env` describes (world 1 → same as above). Connecting to the store, the
  // rendezvous and every later collective give up after `timeout` with an autothink::Error.
  Distributed(const core::LaunchEnv& env, std::chrono::milliseconds timeout);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  bool is_distributed() const { return world_size_ > 1; }
  // "none" (world 1), "gloo" or "nccl".
  const std::string& backend() const { return backend_; }
  // Where this rank's model belongs: cuda:<local_rank> when CUDA is available (made current;
  // with several ranks only when NCCL is built in), else cpu. The default constructor: cpu.
  c10::Device device() const { return device_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Overwrites every tensor with rank 0's values (in place, without autograd). Tensors are sent
  // flattened per dtype, so a model's parameters cost one collective per dtype.
  void broadcast_parameters(const std::vector<at::Tensor>& tensors);
  // In place: the element-wise sum / mean over ranks.
  void all_reduce_sum(at::Tensor& tensor);
  void all_reduce_mean(at::Tensor& tensor);
  // The sum over ranks of `value` (e.g. token counts, loss sums).
  double all_reduce_scalar(double value);
  void barrier();

  // Starts an in-place sum all-reduce of `tensor` (contiguous, on device()) and returns a
  // function that waits for it; the waiter throws autothink::Error on failure or timeout.
  // For GradientSync; world 1 returns a waiter that does nothing.
  std::function<void()> start_all_reduce_sum(at::Tensor tensor);

  struct Group;  // the store and c10d objects (defined in process_group.cpp)

 private:
  void check_usable(const char* what) const;

  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
  std::string backend_ = "none";
  c10::Device device_{c10::kCPU};
  std::chrono::milliseconds timeout_{300000};
  std::shared_ptr<Group> group_;  // null with world 1
};

}  // namespace autothink::train
