// The thinking budget as the engine runs it (model/think_budget.hpp) on a real (tiny) model whose
// logits are biased so that it wants to close its thinking early or never: reasoning tokens land
// in [min, max + one cue], every "</think>" or end of turn sampled below the minimum became a cue,
// the maximum and max_thoughts force the closing sequence, and seeds reproduce the cues.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/think_budget.hpp"
#include "model_test_util.hpp"

using namespace autothink;
using autothink::testing::fixture;

namespace {

// Ids inside the tiny fixture's 320-token vocabulary standing for the KAT tags.
constexpr int64_t kOpen = 300, kClose = 301, kAnswer = 302, kNewline = 10, kEnd = 303;

model::ThinkTokens tokens() { return {kOpen, kClose, kAnswer, {kNewline}, {kEnd}}; }

const std::vector<std::vector<int64_t>> kCues = {{40, 41}, {42, 43, 44}, {45}};

std::shared_ptr<model::Qwen2Model> tiny_model() {
  static auto m = [] {
    auto net = model::load_model(fixture("hf-qwen2-tiny"));
    net->eval();
    return net;
  }();
  return m;
}

// Adds `bias` to the logits of `ids` (a model that wants to stop thinking, or to say a cue).
model::LogitsProcessor bias(std::vector<int64_t> ids, float amount) {
  return [ids, amount](const model::SequenceView&, float* logits, int64_t) {
    for (int64_t id : ids) logits[id] += amount;
  };
}

struct Sampled {
  int64_t token;
  int reasoning_before;
  std::vector<int64_t> replaced_by;
};

// Runs a think-on prompt through the budget, logging what the rewriter saw and did.
model::SequenceResult run(const model::ThinkBudgetSpec& spec, float close_bias, uint64_t seed,
                          std::vector<Sampled>* log, std::shared_ptr<model::ThinkBudgetReport> report) {
  model::Engine engine(tiny_model(), {});
  model::SequenceRequest r;
  r.prompt = {5, 17, 29, kOpen, kNewline};
  r.max_tokens = 120;
  r.seed = seed;
  r.sampling.temperature = 1.0f;
  r.stop_ids = {kEnd};
  r.logits_processors.push_back(bias({kClose, kEnd}, close_bias));
  auto budget = model::make_think_budget(tokens(), spec, true, seed, report);
  r.rewrite = [budget, log, report](const model::SequenceView& view, int64_t sampled) {
    const int before = report->reasoning_tokens;
    auto out = budget(view, sampled);
    log->push_back({sampled, before, out});
    return out;
  };
  return engine.generate({std::move(r)})[0];
}

int reasoning_of(const std::vector<int64_t>& generated) {
  model::ReasoningCounter counter(tokens(), true);
  for (auto t : generated) counter.add(t);
  return counter.count();
}

}  // namespace

TEST(think_budget, reasoning_lands_between_min_and_max_plus_a_cue_and_early_closes_became_cues) {
  model::ThinkBudgetSpec spec;
  spec.min = 20;
  spec.max = 40;
  spec.cues = kCues;
  int early = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::vector<Sampled> log;
    auto report = std::make_shared<model::ThinkBudgetReport>();
    auto got = run(spec, 4.0f, seed, &log, report);  // +4: the model closes after a few tokens
    const int reasoning = reasoning_of(got.tokens);
    EXPECT_GE(reasoning, spec.min) << "seed " << seed;
    EXPECT_LE(reasoning, spec.max + 3) << "seed " << seed;
    EXPECT_EQ(reasoning, report->reasoning_tokens);
    int cues = 0;
    for (const auto& s : log) {
      if ((s.token == kClose || s.token == kEnd) && s.reasoning_before < spec.min) {
        ++early;
        ++cues;
        EXPECT_TRUE(std::find(kCues.begin(), kCues.end(), s.replaced_by) != kCues.end())
            << "an early close at " << s.reasoning_before << " reasoning tokens was not replaced by a cue";
      }
    }
    EXPECT_EQ(cues, report->cues_inserted);
    // The thinking closed: a "</think>" follows the reasoning.
    EXPECT_NE(std::find(got.tokens.begin(), got.tokens.end(), kClose), got.tokens.end()) << "seed " << seed;
  }
  EXPECT_GT(early, 6) << "the bias should make the model try to close early";
}

TEST(think_budget, the_maximum_forces_the_closing_sequence) {
  model::ThinkBudgetSpec spec;
  spec.max = 12;
  std::vector<Sampled> log;
  auto report = std::make_shared<model::ThinkBudgetReport>();
  auto got = run(spec, -1e9f, 3, &log, report);  // never closes by itself
  ASSERT_GE(got.tokens.size(), 16u);
  EXPECT_EQ(reasoning_of(got.tokens), 12);
  EXPECT_EQ(std::vector<int64_t>(got.tokens.begin() + 12, got.tokens.begin() + 16),
            (std::vector<int64_t>{kClose, kNewline, kAnswer, kNewline}));
  EXPECT_TRUE(report->forced_close);
}

TEST(think_budget, max_thoughts_counts_cues_the_model_writes) {
  model::ThinkBudgetSpec spec;
  spec.max_thoughts = 3;
  spec.cues = {{45}};
  model::Engine engine(tiny_model(), {});
  model::SequenceRequest r;
  r.prompt = {5, 17, kOpen};
  r.max_tokens = 100;
  r.sampling.temperature = 1.0f;
  r.logits_processors.push_back(bias({45}, 3.0f));
  r.logits_processors.push_back(bias({kClose, kEnd}, -1e9f));
  auto report = std::make_shared<model::ThinkBudgetReport>();
  r.rewrite = model::make_think_budget(tokens(), spec, true, 7, report);
  auto got = engine.generate({std::move(r)})[0];
  auto close = std::find(got.tokens.begin(), got.tokens.end(), kClose);
  ASSERT_NE(close, got.tokens.end());
  EXPECT_EQ(std::count(got.tokens.begin(), close, 45), 3);
  EXPECT_EQ(report->thoughts, 3);
  EXPECT_TRUE(report->forced_close);
}

TEST(think_budget, a_seed_reproduces_the_cues) {
  model::ThinkBudgetSpec spec;
  spec.min = 25;
  spec.cues = kCues;
  std::vector<Sampled> a, b;
  auto ra = std::make_shared<model::ThinkBudgetReport>(), rb = std::make_shared<model::ThinkBudgetReport>();
  EXPECT_EQ(run(spec, 4.0f, 11, &a, ra).tokens, run(spec, 4.0f, 11, &b, rb).tokens);
  EXPECT_GT(ra->cues_inserted, 0);
}

TEST(think_budget, bad_specs_are_named_errors) {
  model::ThinkBudgetSpec spec;
  spec.min = 10;
  spec.max = 5;
  spec.cues = kCues;
  EXPECT_THROW(model::make_think_budget(tokens(), spec, true, 0), Error);
  spec.max = 50;
  spec.cues.clear();
  EXPECT_THROW(model::make_think_budget(tokens(), spec, true, 0), Error);
}
