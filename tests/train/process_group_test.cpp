// train::Distributed and GradientSync in one process: every call is a no-op that leaves tensors
// and gradients as they were, and a launch env whose store cannot be reached fails with a clear
// error within the timeout instead of hanging.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "core/error.hpp"
#include "core/launcher_env.hpp"
#include "train/grad_sync.hpp"
#include "train/process_group.hpp"
#include "train/torchrun.hpp"

namespace autothink::train {
namespace {

TEST(process_group, single_process_collectives_leave_values_unchanged) {
  Distributed dist;
  EXPECT_EQ(dist.rank(), 0);
  EXPECT_EQ(dist.world_size(), 1);
  EXPECT_TRUE(dist.is_main());
  EXPECT_FALSE(dist.is_distributed());
  EXPECT_EQ(dist.backend(), "none");
  EXPECT_TRUE(dist.device().is_cpu());

  EXPECT_EQ(dist.all_reduce_scalar(2.5), 2.5);
  auto t = torch::tensor({1.0f, -3.0f});
  dist.all_reduce_sum(t);
  dist.all_reduce_mean(t);
  EXPECT_TRUE(torch::equal(t, torch::tensor({1.0f, -3.0f})));
  auto w = torch::arange(6.0).reshape({2, 3});
  dist.broadcast_parameters({w});
  EXPECT_TRUE(torch::equal(w, torch::arange(6.0).reshape({2, 3})));
  dist.barrier();
}

TEST(process_group, world_of_one_creates_no_store) {
  core::LaunchEnv env;
  env.launcher = "torchrun";
  env.world_size = 1;
  env.master_addr = "no-such-host.invalid";  // would fail (or hang) if anything connected
  env.master_port = testing::free_port();
  Distributed dist(env, std::chrono::seconds(30));  // would throw after 30 s had it tried to connect
  EXPECT_EQ(dist.backend(), "none");
  EXPECT_EQ(dist.all_reduce_scalar(4.0), 4.0);
}

TEST(process_group, single_process_grad_sync_keeps_gradients) {
  Distributed dist;
  torch::manual_seed(0);
  torch::nn::Linear layer(4, 3);
  auto params = layer->parameters();
  GradientSync sync(dist, params, {0.0001, true});
  EXPECT_EQ(sync.bucket_count(), 0u);
  sync.prepare();
  layer->forward(torch::randn({5, 4})).pow(2).sum().backward();
  auto before = params[0].grad().clone();
  sync.finish();
  EXPECT_TRUE(torch::equal(params[0].grad(), before));
}

TEST(process_group, unreachable_store_fails_within_timeout) {
#if !defined(AUTOTHINK_HAVE_GLOO)
  GTEST_SKIP() << "this build has no Gloo: a 2-rank group cannot be created on CPU";
#endif
  core::LaunchEnv env;
  env.launcher = "env";
  env.rank = 1;  // a client: rank 0 never starts
  env.world_size = 2;
  env.master_addr = "127.0.0.1";
  env.master_port = testing::free_port();
  try {
    Distributed dist(env, std::chrono::seconds(2));
    FAIL() << "joined a group whose store nobody hosts";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("rank 1 could not reach the rendezvous store within 2 s"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(env.master_port)), std::string::npos) << what;
  }
}

TEST(process_group, rank_outside_world_is_an_error) {
  core::LaunchEnv env;
  env.rank = 2;
  env.world_size = 2;
  EXPECT_THROW(Distributed(env, std::chrono::seconds(1)), Error);
}

}  // namespace
}  // namespace autothink::train
