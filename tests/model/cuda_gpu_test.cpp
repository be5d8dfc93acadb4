// The CUDA paths of the model (label gpu: run with `ctest -L gpu` on a machine with a device; they
// skip where torch sees none, as on the CPU build and CI). Each compares a CUDA result with the
// CPU one of the same weights: the transformers fixture loaded onto the device gives the same
// logits (f32) and the engine the same greedy tokens; bf16 weights stay close to f32.
#include <gtest/gtest.h>

#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model_test_util.hpp"

using namespace autothink;
using autothink::testing::expected_json;
using autothink::testing::fixture;

namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to torch (this build or machine has none)"

}  // namespace

TEST(cuda, fixture_logits_match_transformers_on_the_device) {
  SKIP_WITHOUT_CUDA();
  auto exp = expected_json("hf-qwen2-tiny");
  auto net = model::load_model(fixture("hf-qwen2-tiny"), torch::kCUDA);
  net->eval();
  torch::NoGradGuard no_grad;
  auto ids = autothink::testing::ids_tensor(exp["input_ids"]).to(torch::kCUDA);
  auto logits = net->logits(net->forward_hidden(ids)).cpu();
  EXPECT_LE(autothink::testing::max_abs_diff(logits, autothink::testing::expected_logits(exp)), 1e-4);
}

TEST(cuda, engine_greedy_tokens_match_transformers_on_the_device) {
  SKIP_WITHOUT_CUDA();
  auto exp = expected_json("hf-qwen2-tiny");
  auto net = model::load_model(fixture("hf-qwen2-tiny"), torch::kCUDA);
  net->eval();
  model::Engine engine(net, {});
  model::SequenceRequest r;
  r.prompt = exp["greedy_prompt"].get<std::vector<int64_t>>();
  auto want = exp["greedy_new_tokens"].get<std::vector<int64_t>>();
  r.max_tokens = static_cast<int>(want.size());
  EXPECT_EQ(engine.generate({r})[0].tokens, want);
}

TEST(cuda, bf16_weights_stay_close_to_f32) {
  SKIP_WITHOUT_CUDA();
  auto exp = expected_json("hf-qwen2-tiny");
  auto net = model::load_model(fixture("hf-qwen2-tiny"), torch::kCUDA, torch::kBFloat16);
  net->eval();
  torch::NoGradGuard no_grad;
  auto ids = autothink::testing::ids_tensor(exp["input_ids"]).to(torch::kCUDA);
  auto logits = net->logits(net->forward_hidden(ids)).cpu();
  EXPECT_EQ(logits.scalar_type(), torch::kFloat);  // logits are always f32 (qwen2.hpp)
  EXPECT_LE(autothink::testing::max_abs_diff(logits, autothink::testing::expected_logits(exp)), 0.1);
}
