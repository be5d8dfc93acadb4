// dist_probe: one rank of a multi-process check of train::Distributed and GradientSync, started
// by torchrun (or by a test with RANK/WORLD_SIZE/MASTER_* set). Each rank builds a small model
// from its own seed, takes rank 0's weights by broadcast, runs backward on its own data and
// synchronises gradients in small buckets; it writes OUT_DIR/rank<R>.json with what it saw, and
// the test compares the ranks' files.
//   dist_probe OUT_DIR [--mode ok|exit|stall] [--timeout-s S] [--bucket-mb MB]
// --mode exit: rank 1 exits (code 3) after the broadcast; stall: rank 1 sleeps past the timeout.
// Exit: 0 ok, 1 on an autothink::Error (printed as "error: ..."), 2 on bad usage.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/launcher_env.hpp"
#include "train/grad_sync.hpp"
#include "train/process_group.hpp"

namespace {

using autothink::train::Distributed;
using autothink::train::GradientSync;

std::vector<double> flatten(const std::vector<torch::Tensor>& tensors, bool grads) {
  std::vector<double> out;
  for (const auto& t : tensors) {
    auto v = (grads ? t.grad() : t).detach().to(torch::kFloat64).reshape(-1).contiguous();
    out.insert(out.end(), v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
  }
  return out;
}

torch::Tensor batch_loss(torch::nn::Sequential& model, int64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({6, 8});
  auto y = torch::randn({6, 4});
  return torch::mse_loss(model->forward(x), y);
}

int run(const std::string& out_dir, const std::string& mode, double timeout_s, double bucket_mb) {
  auto env = autothink::core::detect_launch_env();
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  Distributed dist(env, timeout);
  const int rank = dist.rank();
  nlohmann::json report;
  report["rank"] = rank;
  report["world_size"] = dist.world_size();
  report["backend"] = dist.backend();
  report["agent_store"] = env.use_agent_store;

  // Different weights per rank until the broadcast.
  torch::manual_seed(100 + rank);
  torch::nn::Sequential model(torch::nn::Linear(8, 16), torch::nn::Tanh(), torch::nn::Linear(16, 4));
  auto params = model->parameters();
  report["params_before"] = flatten(params, false);
  dist.broadcast_parameters(params);
  report["params_after"] = flatten(params, false);

  if (mode == "exit" && rank == 1) return 3;
  if (mode == "stall" && rank == 1) {
    std::this_thread::sleep_for(3 * timeout);
    return 0;
  }

  report["scalar_sum"] = dist.all_reduce_scalar(rank + 1.0);
  auto t = torch::tensor({1.0f, 10.0f}) * static_cast<float>(rank + 1);
  dist.all_reduce_mean(t);
  report["mean"] = std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + 2);

  // Two extra parameters (first, so they land in the last bucket): `side` gets a gradient on
  // rank 0 only, `never` on no rank.
  auto side = torch::ones({5}).requires_grad_(true);
  auto never = torch::ones({3}).requires_grad_(true);
  std::vector<torch::Tensor> synced_params{side, never};
  synced_params.insert(synced_params.end(), params.begin(), params.end());
  GradientSync sync(dist, synced_params, {bucket_mb, /*overlap=*/true});
  report["buckets"] = sync.bucket_count();

  // Step 1: one backward, buckets started from hooks.
  model->zero_grad();
  sync.prepare();
  auto loss1 = batch_loss(model, 1000 + rank);
  if (rank == 0) loss1 = loss1 + (side * side).sum();  // d/dside = 2 on rank 0
  loss1.backward();
  report["step1_local"] = flatten(params, true);
  sync.finish();
  report["step1_started_in_backward"] = sync.buckets_started_in_backward();
  report["step1_synced"] = flatten(params, true);
  report["side_grad"] = flatten({side}, true);
  report["never_has_grad"] = never.grad().defined();
  side.mutable_grad() = torch::Tensor();

  // Step 2: two accumulated micro-batches, only the last one synchronised.
  model->zero_grad();
  batch_loss(model, 2000 + rank).backward();
  sync.prepare();
  batch_loss(model, 3000 + rank).backward();
  report["step2_local"] = flatten(params, true);
  sync.finish();
  report["step2_synced"] = flatten(params, true);

  // Step 3: no overlap — plain bucketed all-reduce after backward.
  GradientSync after(dist, params, {bucket_mb, /*overlap=*/false});
  model->zero_grad();
  batch_loss(model, 4000 + rank).backward();
  report["step3_local"] = flatten(params, true);
  after.finish();
  report["step3_synced"] = flatten(params, true);

  dist.barrier();
  std::ofstream(out_dir + "/rank" + std::to_string(rank) + ".json") << report.dump() << "\n";
  std::printf("dist_probe rank %d of %d: ok (%s)\n", rank, dist.world_size(), dist.backend().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dist_probe OUT_DIR [--mode ok|exit|stall] [--timeout-s S] [--bucket-mb MB]\n");
    return 2;
  }
  std::string out_dir = argv[1], mode = "ok";
  double timeout_s = 30, bucket_mb = 0.0002;  // ~50 floats a bucket: several buckets
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mode") mode = value;
    else if (flag == "--timeout-s") timeout_s = std::stod(value);
    else if (flag == "--bucket-mb") bucket_mb = std::stod(value);
    else {
      std::fprintf(stderr, "dist_probe: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    return run(out_dir, mode, timeout_s, bucket_mb);
  } catch (const autothink::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::fflush(stderr);
    return 1;
  }
}
