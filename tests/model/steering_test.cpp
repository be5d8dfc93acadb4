// Steering vectors (model/steering.hpp): the steered forward equals optillm's own SteeringHook on
// transformers' Qwen2 (a positive and a negative record), the matcher picks the record optillm's
// _try_token_match / _try_text_match picks, each row of a continuously batched step is steered by
// its own sequence as if it ran alone, and bad steering files are named errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/steering.hpp"
#include "model_test_util.hpp"

using namespace autothink;
using autothink::testing::fixture;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<model::Qwen2Model> tiny_model() {
  static auto m = [] {
    auto net = model::load_model(fixture("hf-qwen2-tiny"));  // f32, hidden 64, 2 layers, vocab 320
    net->eval();
    return net;
  }();
  return m;
}

// Test ids decode to one letter each (id % 26): ids 26 apart decode alike, so a text can match
// where the ids do not.
std::string letters(const std::vector<int64_t>& ids) {
  std::string s;
  for (auto id : ids) s += static_cast<char>('a' + id % 26);
  return s;
}

std::vector<int64_t> range(int64_t from, int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(from + i);
  return v;
}

std::vector<float> random_vector(int seed) {
  torch::manual_seed(seed);
  auto t = torch::randn({64});
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + 64);
}

struct Fixture {
  std::vector<model::SteeringRecord> records;
  std::map<std::string, std::vector<int64_t>> context_ids;
};

Fixture three_records() {
  Fixture f;
  const std::vector<std::vector<int64_t>> ids = {range(1, 20), range(50, 12), range(100, 31)};
  const std::vector<std::string> patterns = {"self_correction", "numerical_accuracy", "exploration"};
  const std::vector<double> deltas = {0.35, -0.6, 0.25};
  for (size_t i = 0; i < ids.size(); ++i) {
    model::SteeringRecord r;
    r.pivot_context = letters(ids[i]);
    r.pivot_token = "x";
    r.prob_delta = deltas[i];
    r.is_positive = deltas[i] > 0;
    r.reasoning_pattern = patterns[i];
    r.steering_vector = random_vector(static_cast<int>(i) + 1);
    r.steering_layer = 0;
    f.context_ids[r.pivot_context] = ids[i];
    f.records.push_back(r);
  }
  return f;
}

model::SteeringLibrary library_of(const Fixture& f, model::SteeringMode mode = model::SteeringMode::fixed) {
  model::SteeringOptions options;
  options.target_layer = 0;
  options.mode = mode;
  auto ids = f.context_ids;
  return model::SteeringLibrary(
      f.records, options, 64, 2,
      [ids](const std::string& text) {
        auto it = ids.find(text);
        if (it != ids.end()) return it->second;
        std::vector<int64_t> out;  // any other text: its letters as ids (decode's inverse)
        for (char c : text) out.push_back(c - 'a');
        return out;
      },
      letters);
}

json record_json(const model::SteeringRecord& r) { return json::parse(model::steering_record_json(r)); }

json run_reference(const json& in) {
  const fs::path optillm = autothink::testing::source_dir() / ".deps/optillm/autothink";
  if (!fs::exists(optillm / "steering.py")) return nullptr;
  const fs::path dir = autothink::testing::temp_dir("steering-ref");
  std::ofstream(dir / "in.json") << in.dump();
  auto r = autothink::testing::run_command(autothink::testing::python() + " " +
                                           (autothink::testing::source_dir() / "tests/model/steering_reference.py").string() +
                                           " " + optillm.string() + " " + (dir / "in.json").string() + " 2>" +
                                           (dir / "err.txt").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(r.output);
}

const std::vector<std::vector<int64_t>>& match_cases() {
  static const std::vector<std::vector<int64_t>> cases = [] {
    std::vector<std::vector<int64_t>> c;
    auto full = range(7, 3);
    for (auto id : range(1, 20)) full.push_back(id);
    c.push_back(full);                        // ends with record 0's context: full match
    c.push_back({5, 58, 59, 60, 61});         // shorter than record 1's 12 ids: its last 4 match
    auto fuzzy = range(100, 31);
    fuzzy[3] = 7, fuzzy[10] = 7, fuzzy[20] = 7;
    c.push_back(fuzzy);                       // record 2 with 3 ids changed: fuzzy (>= 70%)
    auto shifted = range(100 + 26, 31);
    c.push_back(shifted);                     // other ids, same letters as record 2: text match
    c.push_back({200, 201, 202, 203, 204});   // nothing
    c.push_back({1, 2, 3});                   // too short for either
    return c;
  }();
  return cases;
}

}  // namespace

TEST(steering, steered_logits_equal_optillms_hook_on_transformers_for_positive_and_negative_records) {
  const Fixture f = three_records();
  auto lib = library_of(f);
  const std::vector<int64_t> prompt = {3, 14, 15, 92, 65, 35};
  json in = {{"model", fixture("hf-qwen2-tiny").string()}, {"layer", 0}, {"prompt", prompt},
             {"context_ids", f.context_ids}, {"token_histories", json::array()}, {"texts", json::array()}};
  for (const auto& r : f.records) in["records"].push_back(record_json(r));
  const json ref = run_reference(in);
  if (ref.is_null()) GTEST_SKIP() << "no .deps/optillm (scripts/deps.sh downloads optillm's sources)";
  auto net = tiny_model();
  torch::NoGradGuard no_grad;
  const auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0);
  const auto plain = net->logits(net->forward_hidden(ids))[0][-1];
  for (size_t i = 0; i < f.records.size(); ++i) {
    const auto& v = lib.vector(i);
    model::ResidualHooks hooks;
    hooks.add_layers = {v.layer};
    hooks.add_rows = {0};
    hooks.add_cols = {static_cast<int64_t>(prompt.size()) - 1};
    hooks.add_deltas = torch::tensor(v.delta).unsqueeze(0);
    const auto ours = net->logits(net->forward_hidden(ids, &hooks))[0][-1];
    const auto theirs = torch::tensor(ref["logits"][i].get<std::vector<float>>());
    EXPECT_LE((ours - theirs).abs().max().item<float>(), 1e-4f) << "record " << i;
    EXPECT_GT((ours - plain).abs().max().item<float>(), 1e-3f) << "record " << i << " did not steer";
  }
  EXPECT_LE((plain - torch::tensor(ref["plain_logits"].get<std::vector<float>>())).abs().max().item<float>(), 1e-4f);
}

TEST(steering, the_matcher_picks_the_record_optillms_matching_picks) {
  const Fixture f = three_records();
  auto lib = library_of(f);
  json in = {{"model", fixture("hf-qwen2-tiny").string()}, {"layer", 0}, {"prompt", json::array()},
             {"context_ids", f.context_ids}, {"token_histories", match_cases()}, {"texts", json::array()}};
  for (const auto& r : f.records) in["records"].push_back(record_json(r));
  for (const auto& c : match_cases()) in["texts"].push_back(letters(c));
  const json ref = run_reference(in);
  if (ref.is_null()) GTEST_SKIP() << "no .deps/optillm (scripts/deps.sh downloads optillm's sources)";
  std::set<int> outcomes;
  const std::vector<int64_t> none;
  for (size_t k = 0; k < match_cases().size(); ++k) {
    auto matcher = lib.matcher();
    const auto* v = matcher->update(model::SequenceView{1, match_cases()[k], none, ""});
    const int ours = v ? static_cast<int>(v->record) : -1;
    const int token = ref["token_matches"][k], text = ref["text_matches"][k];
    EXPECT_EQ(ours, token >= 0 ? token : text) << "case " << k;
    outcomes.insert(ours);
  }
  EXPECT_EQ(outcomes, (std::set<int>{-1, 0, 1, 2}));
}

TEST(steering, a_match_in_generated_tokens_holds_for_the_rest_of_the_sequence_and_optillm_mode_misses_it) {
  const Fixture f = three_records();
  auto fixed = library_of(f);
  auto compat = library_of(f, model::SteeringMode::optillm);
  const std::vector<int64_t> prompt = {200, 201, 202, 203, 204, 205};
  std::vector<int64_t> generated;
  auto a = fixed.matcher(), b = compat.matcher();
  const std::vector<int64_t> tail = range(50, 12);  // the model writes record 1's context
  for (auto t : tail) {
    generated.push_back(t);
    a->update(model::SequenceView{1, prompt, generated, ""});
    b->update(model::SequenceView{1, prompt, generated, ""});
  }
  ASSERT_NE(a->active(), nullptr);
  EXPECT_EQ(a->active()->record, 1u);
  EXPECT_EQ(b->active(), nullptr) << "optillm adds each token three times to its history";
  generated.push_back(299);
  EXPECT_EQ(a->update(model::SequenceView{1, prompt, generated, ""})->record, 1u);
}

TEST(steering, each_row_of_a_batch_is_steered_as_its_sequence_alone) {
  const Fixture f = three_records();
  auto lib = library_of(f);
  const std::vector<std::vector<int64_t>> prompts = {match_cases()[0], {9, 8, 7, 6, 5}, match_cases()[1]};
  // Row 0 matches record 0 (layer 0), row 1 nothing, row 2 record 1 (moved to layer 1 here).
  auto run = [&](const std::vector<size_t>& which) {
    model::Engine engine(tiny_model(), {});
    std::vector<std::vector<std::vector<float>>> logits(prompts.size());
    std::vector<model::SequenceRequest> reqs;
    for (size_t i : which) {
      model::SequenceRequest r;
      r.prompt = prompts[i];
      r.max_tokens = 4;
      auto matcher = lib.matcher();
      r.steer = [matcher, i](const model::SequenceView& view) -> const model::SteeringVector* {
        static model::SteeringVector layer1;
        const auto* v = matcher->update(view);
        if (v && i == 2) {
          layer1 = *v;
          layer1.layer = 1;
          return &layer1;
        }
        return v;
      };
      r.logits_processors.push_back([&logits, i](const model::SequenceView&, float* l, int64_t vocab) {
        logits[i].emplace_back(l, l + vocab);
      });
      reqs.push_back(std::move(r));
    }
    engine.generate(std::move(reqs));
    return logits;
  };
  const auto together = run({0, 1, 2});
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto alone = run({i});
    ASSERT_EQ(together[i].size(), alone[i].size());
    for (size_t step = 0; step < alone[i].size(); ++step) {
      float worst = 0;
      for (size_t v = 0; v < alone[i][step].size(); ++v)
        worst = std::max(worst, std::fabs(together[i][step][v] - alone[i][step][v]));
      EXPECT_LE(worst, 1e-4f) << "row " << i << " step " << step;
    }
  }
  // And steering did something: row 0 alone without a steer differs.
  model::Engine engine(tiny_model(), {});
  std::vector<float> first;
  model::SequenceRequest r;
  r.prompt = prompts[0];
  r.max_tokens = 1;
  r.logits_processors.push_back([&first](const model::SequenceView&, float* l, int64_t vocab) { first.assign(l, l + vocab); });
  engine.generate({std::move(r)});
  float diff = 0;
  for (size_t v = 0; v < first.size(); ++v) diff = std::max(diff, std::fabs(first[v] - together[0][0][v]));
  EXPECT_GT(diff, 1e-3f);
}

TEST(steering, bad_files_and_vectors_are_named_errors) {
  const fs::path dir = autothink::testing::temp_dir("steering-bad");
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    std::ofstream(dir / "s.jsonl") << content;
    try {
      model::read_steering_records(dir / "s.jsonl");
      ADD_FAILURE() << "no error for " << content;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("{\"pivot_context\":\"a\",\"steering_vector\":[1,2]}\n{oops\n", "s.jsonl:2");
  expect_error("{\"pivot_context\":\"a\"}\n", "steering_vector");
  expect_error("{\"pivot_context\":\"a\",\"steering_vector\":[1,\"x\"]}\n", "wrong type");
  Fixture f = three_records();
  f.records[1].steering_vector.resize(10);
  EXPECT_THROW(library_of(f), Error);
  f = three_records();
  f.records[0].steering_layer = 5;
  EXPECT_THROW(library_of(f), Error);
  // A written file reads back.
  f = three_records();
  model::write_steering_records(dir / "ok.jsonl", f.records);
  auto back = model::read_steering_records(dir / "ok.jsonl");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[1].pivot_context, f.records[1].pivot_context);
  EXPECT_EQ(back[1].steering_vector, f.records[1].steering_vector);
  EXPECT_FALSE(back[1].is_positive);
}

TEST(steering, optillm_mode_steers_only_the_last_row_of_a_batch) {
  const Fixture f = three_records();
  auto lib = library_of(f);
  const std::vector<int64_t> a = match_cases()[0], b = {9, 8, 7, 6, 5, 4};
  auto first_logits = [&](bool last_row_only, std::vector<std::vector<int64_t>> prompts, bool steer) {
    model::EngineOptions options;
    options.steer_last_row_only = last_row_only;
    model::Engine engine(tiny_model(), options);
    std::vector<std::vector<float>> out(prompts.size());
    std::vector<model::SequenceRequest> reqs;
    for (size_t i = 0; i < prompts.size(); ++i) {
      model::SequenceRequest r;
      r.prompt = prompts[i];
      r.max_tokens = 1;
      if (steer) r.steer = [&lib](const model::SequenceView&) { return &lib.vector(0); };  // every row asks
      r.logits_processors.push_back([&out, i](const model::SequenceView&, float* l, int64_t vocab) { out[i].assign(l, l + vocab); });
      reqs.push_back(std::move(r));
    }
    engine.generate(std::move(reqs));
    return out;
  };
  auto max_diff = [](const std::vector<float>& x, const std::vector<float>& y) {
    float d = 0;
    for (size_t v = 0; v < x.size(); ++v) d = std::max(d, std::fabs(x[v] - y[v]));
    return d;
  };
  const auto both = first_logits(true, {a, b}, true);
  EXPECT_LE(max_diff(both[0], first_logits(false, {a}, false)[0]), 1e-4f) << "row 0 was steered";
  EXPECT_LE(max_diff(both[1], first_logits(false, {b}, true)[0]), 1e-4f) << "the last row was not steered as alone";
  EXPECT_GT(max_diff(both[1], first_logits(false, {b}, false)[0]), 1e-3f);
}
