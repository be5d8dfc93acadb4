// The batched engine: greedy parity with transformers and with full recomputation, batches of
// mixed lengths and sequences joining mid-run decode exactly as each alone, seeds reproduce,
// stops, cancellation and logits processors behave.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model_test_util.hpp"

using namespace autothink;
using autothink::testing::expected_json;
using autothink::testing::fixture;

namespace {

std::shared_ptr<model::Qwen2Model> tiny_fixture() {
  auto m = model::load_model(fixture("hf-qwen2-tiny"));
  m->eval();
  return m;
}

model::SequenceRequest greedy(std::vector<int64_t> prompt, int max_tokens) {
  model::SequenceRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  return r;
}

std::vector<int64_t> prompt_of(int len, int offset) {
  std::vector<int64_t> p;
  for (int i = 0; i < len; ++i) p.push_back((i * 37 + offset * 11 + 5) % 320);
  return p;
}

}  // namespace

TEST(engine, greedy_matches_transformers) {
  auto exp = expected_json("hf-qwen2-tiny");
  model::Engine engine(tiny_fixture(), {});
  auto prompt = exp["greedy_prompt"].get<std::vector<int64_t>>();
  auto want = exp["greedy_new_tokens"].get<std::vector<int64_t>>();
  auto got = engine.generate({greedy(prompt, static_cast<int>(want.size()))});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tokens, want);
  EXPECT_EQ(got[0].finish_reason, "length");
}

TEST(engine, cached_decoding_matches_full_recompute) {
  auto net = tiny_fixture();
  model::Engine engine(net, {});
  for (int len : {1, 5, 17}) {
    auto prompt = prompt_of(len, len);
    auto got = engine.generate({greedy(prompt, 12)});
    EXPECT_EQ(got[0].tokens, autothink::testing::greedy_full(*net, prompt, 12)) << "prompt length " << len;
  }
}

TEST(engine, mixed_length_batch_equals_each_alone) {
  auto net = tiny_fixture();
  std::vector<std::vector<int64_t>> prompts = {prompt_of(3, 1), prompt_of(11, 2), prompt_of(1, 3), prompt_of(29, 4),
                                               prompt_of(7, 5)};
  std::vector<int> lengths = {9, 4, 14, 6, 11};  // sequences leave at different steps
  std::vector<std::vector<int64_t>> alone;
  {
    model::Engine engine(net, {});
    for (size_t i = 0; i < prompts.size(); ++i) alone.push_back(engine.generate({greedy(prompts[i], lengths[i])})[0].tokens);
  }
  model::EngineOptions options;
  options.max_batch = 3;  // fewer slots than sequences: the rest join as slots free up
  model::Engine engine(net, options);
  std::vector<model::SequenceRequest> batch;
  for (size_t i = 0; i < prompts.size(); ++i) batch.push_back(greedy(prompts[i], lengths[i]));
  auto together = engine.generate(std::move(batch));
  ASSERT_EQ(together.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(together[i].tokens, alone[i]) << "sequence " << i;
    EXPECT_EQ(together[i].prompt_tokens, static_cast<int>(prompts[i].size()));
  }
}

TEST(engine, sequence_joining_mid_run_decodes_as_alone) {
  auto net = tiny_fixture();
  model::Engine engine(net, {});
  auto first = engine.add(greedy(prompt_of(6, 1), 10));
  engine.step();
  engine.step();
  auto second = engine.add(greedy(prompt_of(13, 2), 8));
  while (engine.step()) {
  }
  auto results = engine.take_finished();
  ASSERT_EQ(results.size(), 2u);
  for (auto& r : results) {
    auto prompt = r.id == first ? prompt_of(6, 1) : prompt_of(13, 2);
    EXPECT_EQ(r.tokens, autothink::testing::greedy_full(*net, prompt, r.id == first ? 10 : 8));
  }
  (void)second;
}

TEST(engine, seed_reproduces_a_sampled_continuation) {
  auto net = tiny_fixture();
  auto sampled = [&](uint64_t seed, bool crowded) {
    model::Engine engine(net, {});
    std::vector<model::SequenceRequest> batch;
    if (crowded) batch.push_back(greedy(prompt_of(9, 7), 20));
    auto r = greedy(prompt_of(5, 1), 20);
    r.sampling.temperature = 1.0f;
    r.sampling.top_p = 0.95f;
    r.sampling.top_k = 50;
    r.seed = seed;
    batch.push_back(std::move(r));
    return engine.generate(std::move(batch)).back().tokens;
  };
  auto a = sampled(42, false);
  EXPECT_EQ(a, sampled(42, false));
  EXPECT_EQ(a, sampled(42, true)) << "other sequences in the batch must not change a seeded sample";
  EXPECT_NE(a, sampled(43, false));
}

TEST(engine, stop_token_max_tokens_and_context_limit) {
  auto net = tiny_fixture();
  auto exp = expected_json("hf-qwen2-tiny");
  auto prompt = exp["greedy_prompt"].get<std::vector<int64_t>>();
  auto want = exp["greedy_new_tokens"].get<std::vector<int64_t>>();
  model::Engine engine(net, {});
  auto r = greedy(prompt, 16);
  r.stop_ids = {want[1]};  // greedy output is 240, 287, ...: stops at the second token
  auto got = engine.generate({std::move(r)})[0];
  EXPECT_EQ(got.finish_reason, "stop");
  EXPECT_EQ(got.tokens, std::vector<int64_t>(want.begin(), want.begin() + 2));

  model::EngineOptions small;
  small.max_len = 16;
  model::Engine tight(net, small);
  auto capped = tight.generate({greedy(prompt, 100)})[0];
  EXPECT_EQ(capped.finish_reason, "length");
  EXPECT_EQ(capped.tokens.size(), 16u - prompt.size() + 1) << "the last token needs no cache slot";
  EXPECT_THROW(tight.add(greedy(prompt_of(16, 1), 4)), Error);
  EXPECT_THROW(tight.add(greedy({}, 4)), Error);
  EXPECT_THROW(tight.add(greedy({400}, 4)), Error);
}

TEST(engine, stop_strings_cut_the_text) {
  model::EngineOptions options;
  options.token_bytes = [](int64_t id) { return "<" + std::to_string(id) + ">"; };
  model::Engine engine(tiny_fixture(), options);
  auto exp = expected_json("hf-qwen2-tiny");
  auto r = greedy(exp["greedy_prompt"].get<std::vector<int64_t>>(), 16);
  r.stop_strings = {"7><28"};  // straddles tokens 287 and 287
  std::string streamed;
  r.on_token = [&](const model::SequenceView&, int64_t, const std::string& piece) {
    streamed += piece;
    return true;
  };
  auto got = engine.generate({std::move(r)})[0];
  EXPECT_EQ(got.finish_reason, "stop");
  EXPECT_EQ(got.text, "<240><28");
  EXPECT_EQ(streamed, got.text) << "streamed pieces must add up to the final text";

  // A stop string that starts to match but never completes: everything is streamed in the end.
  auto r2 = greedy(exp["greedy_prompt"].get<std::vector<int64_t>>(), 5);
  r2.stop_strings = {"<287><999>"};
  std::string streamed2;
  r2.on_token = [&](const model::SequenceView&, int64_t, const std::string& piece) {
    streamed2 += piece;
    return true;
  };
  auto got2 = engine.generate({std::move(r2)})[0];
  EXPECT_EQ(got2.finish_reason, "length");
  EXPECT_EQ(got2.text, "<240><287><287><287><287>");
  EXPECT_EQ(streamed2, got2.text);
}

TEST(engine, logits_processor_forces_a_token) {
  model::Engine engine(tiny_fixture(), {});
  auto r = greedy(prompt_of(4, 2), 6);
  r.logits_processors.push_back([](const model::SequenceView& seq, float* logits, int64_t vocab) {
    if (seq.generated.size() == 2) {
      for (int64_t v = 0; v < vocab; ++v) logits[v] = v == 123 ? 0.0f : -INFINITY;
    }
  });
  auto got = engine.generate({std::move(r)})[0];
  ASSERT_EQ(got.tokens.size(), 6u);
  EXPECT_EQ(got.tokens[2], 123);
}

TEST(engine, cancel_frees_the_slot) {
  model::EngineOptions options;
  options.max_batch = 1;
  model::Engine engine(tiny_fixture(), options);
  auto a = engine.add(greedy(prompt_of(4, 1), 50));
  auto b = engine.add(greedy(prompt_of(4, 2), 3));
  engine.step();
  EXPECT_EQ(engine.active(), 1u);
  EXPECT_EQ(engine.waiting(), 1u);
  engine.cancel(a);
  while (engine.step()) {
  }
  auto results = engine.take_finished();
  ASSERT_EQ(results.size(), 2u);
  for (auto& r : results) {
    if (r.id == a) {
      EXPECT_EQ(r.finish_reason, "cancelled");
    }
    if (r.id == b) {
      EXPECT_EQ(r.tokens.size(), 3u);
    }
  }
  EXPECT_TRUE(engine.idle());
}

TEST(engine, callback_returning_false_cancels) {
  model::Engine engine(tiny_fixture(), {});
  auto r = greedy(prompt_of(4, 1), 50);
  r.on_token = [](const model::SequenceView& seq, int64_t, const std::string&) { return seq.generated.size() < 5; };
  auto got = engine.generate({std::move(r)})[0];
  EXPECT_EQ(got.finish_reason, "cancelled");
  EXPECT_EQ(got.tokens.size(), 5u);
}
