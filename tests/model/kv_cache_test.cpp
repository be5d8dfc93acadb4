// Cached decoding (slot-based KV cache) gives the same results as full recompute: one-shot
// prefill, token-by-token decode, mixed-length batches in different slots, slot reuse, bf16.
#include "model/kv_cache.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model_test_util.hpp"

namespace tu = autothink::testing;
using autothink::model::KVCache;
using autothink::model::Qwen2Model;

namespace {

std::shared_ptr<Qwen2Model> tiny() { return autothink::model::load_model(tu::fixture("hf-qwen2-tiny")); }

torch::Tensor longs(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }

torch::Tensor random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, vocab, {n}, torch::kLong);
}

// Full-recompute logits of one sequence [T,V].
torch::Tensor full_logits(Qwen2Model& m, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  return m.logits(m.forward_hidden(ids.unsqueeze(0)))[0];
}

}  // namespace

TEST(kv_cache, one_shot_prefill_equals_forward_hidden) {
  auto m = tiny();
  KVCache cache(m->config(), 2, 64, torch::kCPU, torch::kFloat);
  auto ids = random_ids(20, 320, 1);
  torch::NoGradGuard no_grad;
  auto cached = m->forward_cached(ids.unsqueeze(0), torch::arange(20, torch::kLong).unsqueeze(0), longs({1}), cache);
  auto full = m->forward_hidden(ids.unsqueeze(0));
  EXPECT_LT(tu::max_abs_diff(cached, full), 1e-4);
}

TEST(kv_cache, prefill_then_decode_matches_full_recompute_every_step) {
  auto m = tiny();
  KVCache cache(m->config(), 3, 64, torch::kCPU, torch::kFloat);
  auto ids = random_ids(24, 320, 2);
  auto full = full_logits(*m, ids);
  const int64_t prompt = 7;
  auto h = m->forward_cached(ids.narrow(0, 0, prompt).unsqueeze(0), torch::arange(prompt, torch::kLong).unsqueeze(0),
                             longs({2}), cache);
  auto l = m->logits(h)[0];
  EXPECT_LT(tu::max_abs_diff(l, full.narrow(0, 0, prompt)), 1e-4);
  for (int64_t p = prompt; p < 24; ++p) {
    auto step = m->forward_cached(ids.narrow(0, p, 1).unsqueeze(0), longs({p}).unsqueeze(0), longs({2}), cache);
    auto step_logits = m->logits(step)[0][0];
    EXPECT_LT(tu::max_abs_diff(step_logits, full[p]), 1e-4) << "position " << p;
  }
}

TEST(kv_cache, mixed_length_batch_in_different_slots_equals_each_alone) {
  auto m = tiny();
  KVCache cache(m->config(), 4, 64, torch::kCPU, torch::kFloat);
  auto a = random_ids(9, 320, 3), b = random_ids(4, 320, 4), c = random_ids(13, 320, 5);
  auto fa = full_logits(*m, a), fb = full_logits(*m, b), fc = full_logits(*m, c);

  // Prefill: right-padded to 13, padding at position -1 (and a pad id that exists).
  const int64_t T = 13;
  auto ids = torch::zeros({3, T}, torch::kLong);
  auto pos = torch::full({3, T}, -1, torch::kLong);
  std::vector<torch::Tensor> seqs = {a, b, c};
  for (int64_t r = 0; r < 3; ++r) {
    int64_t n = seqs[r].size(0);
    ids[r].narrow(0, 0, n).copy_(seqs[r]);
    pos[r].narrow(0, 0, n).copy_(torch::arange(n, torch::kLong));
  }
  auto slots = longs({3, 0, 1});
  auto logits = m->logits(m->forward_cached(ids, pos, slots, cache));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_LT(tu::max_abs_diff(logits[0].narrow(0, 0, 9), fa), 1e-4);
  EXPECT_LT(tu::max_abs_diff(logits[1].narrow(0, 0, 4), fb), 1e-4);
  EXPECT_LT(tu::max_abs_diff(logits[2], fc), 1e-4);

  // Decode a batch of 3 at different positions: continue each with its own next tokens.
  auto next = random_ids(3, 320, 6);
  auto step_pos = longs({9, 4, 13}).unsqueeze(1);
  auto step = m->logits(m->forward_cached(next.unsqueeze(1), step_pos, slots, cache));
  auto ea = full_logits(*m, torch::cat({a, next.narrow(0, 0, 1)}));
  auto eb = full_logits(*m, torch::cat({b, next.narrow(0, 1, 1)}));
  auto ec = full_logits(*m, torch::cat({c, next.narrow(0, 2, 1)}));
  EXPECT_LT(tu::max_abs_diff(step[0][0], ea[9]), 1e-4);
  EXPECT_LT(tu::max_abs_diff(step[1][0], eb[4]), 1e-4);
  EXPECT_LT(tu::max_abs_diff(step[2][0], ec[13]), 1e-4);
}

TEST(kv_cache, reused_slot_needs_no_clearing) {
  auto m = tiny();
  KVCache cache(m->config(), 1, 64, torch::kCPU, torch::kFloat);
  auto longer = random_ids(30, 320, 7), shorter = random_ids(6, 320, 8);
  m->forward_cached(longer.unsqueeze(0), torch::arange(30, torch::kLong).unsqueeze(0), longs({0}), cache);
  auto l = m->logits(m->forward_cached(shorter.unsqueeze(0), torch::arange(6, torch::kLong).unsqueeze(0), longs({0}), cache));
  EXPECT_LT(tu::max_abs_diff(l[0], full_logits(*m, shorter)), 1e-4);
}

TEST(kv_cache, padding_rows_do_not_disturb_real_rows) {
  auto m = tiny();
  KVCache cache(m->config(), 2, 32, torch::kCPU, torch::kFloat);
  auto a = random_ids(5, 320, 9);
  auto ids = torch::stack({a, torch::zeros({5}, torch::kLong)});
  auto pos = torch::stack({torch::arange(5, torch::kLong), torch::full({5}, -1, torch::kLong)});
  auto out = m->logits(m->forward_cached(ids, pos, longs({1, -1}), cache));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_LT(tu::max_abs_diff(out[0], full_logits(*m, a)), 1e-4);
}

TEST(kv_cache, position_beyond_cache_is_an_error) {
  auto m = tiny();
  KVCache cache(m->config(), 1, 8, torch::kCPU, torch::kFloat);
  EXPECT_THROW(m->forward_cached(longs({1}).unsqueeze(0), longs({8}).unsqueeze(0), longs({0}), cache), autothink::Error);
  EXPECT_THROW(KVCache(m->config(), 0, 8, torch::kCPU, torch::kFloat), autothink::Error);
}

TEST(kv_cache, bf16_cached_decode_is_close_to_f32) {
  auto m = autothink::model::load_model(tu::fixture("hf-qwen2-tiny"), torch::kCPU, torch::kBFloat16);
  auto f = tiny();
  KVCache cache(m->config(), 1, 32, torch::kCPU, torch::kBFloat16);
  auto ids = random_ids(10, 320, 10);
  auto full = full_logits(*f, ids);
  m->forward_cached(ids.narrow(0, 0, 6).unsqueeze(0), torch::arange(6, torch::kLong).unsqueeze(0), longs({0}), cache);
  for (int64_t p = 6; p < 10; ++p) {
    auto l = m->logits(m->forward_cached(ids.narrow(0, p, 1).unsqueeze(0), longs({p}).unsqueeze(0), longs({0}), cache));
    EXPECT_EQ(l.scalar_type(), torch::kFloat);
    EXPECT_LT(tu::max_abs_diff(l[0][0], full[p]), 0.1) << p;
  }
  EXPECT_EQ(KVCache::bytes_needed(m->config(), 1, 32, torch::kBFloat16),
            2 * 2 * 1 * 2 * 33 * 16 * 2);
}
