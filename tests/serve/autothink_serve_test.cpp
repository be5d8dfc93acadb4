// think_mode "adaptive" (optillm's inference-time AutoThink) through the real server on the small
// trained KAT model of the `kat_model` fixture: the model classifier (trained here from its test
// records' difficulty: hard → HIGH) labels the query, the class's {min, max} bounds the reasoning
// tokens (early closes became continuation cues), the reply and the stream report the decision,
// explicit thinking_budget {min, max} works without adaptive, bad budgets are named 400s, and a
// steering file loads and reports the pattern that matched.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/format/template.hpp"
#include "data/records.hpp"
#include "data/tokenizer.hpp"
#include "http_test_client.hpp"
#include "model/checkpoint.hpp"
#include "model/complexity_model.hpp"
#include "model/engine_generator.hpp"
#include "model/model_config.hpp"
#include "model/pts.hpp"
#include "model/steering.hpp"
#include "model/think_budget.hpp"
#include "serve/model_server.hpp"
#include "test_paths.hpp"

using namespace autothink;
using namespace autothink::serve::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kFixture = autothink::testing::build_dir() / "fixtures" / "kat-model";

// The fixture model copied with a classifier trained on its held-out records' difficulty.
fs::path model_with_classifier() {
  static fs::path dir;
  if (!dir.empty()) return dir;
  dir = autothink::testing::temp_dir("autothink-serve") / "model";
  fs::copy(kFixture / "run" / "model", dir, fs::copy_options::recursive);
  std::vector<data::ChatRecord> records;
  for (const auto& s : data::read_synth_records((kFixture / "data" / "test.jsonl").string())) {
    data::ChatRecord r;
    r.conversation.messages.push_back(format::plain_message("user", s.question));
    r.meta.id = s.id;
    r.meta.difficulty = s.difficulty;
    r.meta.extra["decided_mode"] = s.difficulty == "hard" ? "on" : "off";
    records.push_back(std::move(r));
  }
  auto net = model::load_model(dir);
  net->eval();
  data::Tokenizer tokenizer(dir.string());
  auto report = model::train_complexity_classifier(*net, tokenizer, records, {}, dir);
  EXPECT_GT(report.heldout_accuracy, report.heldout_majority) << "the classifier learned nothing";
  return dir;
}

std::unique_ptr<serve::ModelServer> start(const std::string& steering = "") {
  serve::ModelServerOptions o;
  o.model_dir = model_with_classifier().string();
  o.http.port = 0;
  o.classifier = "model";
  o.budget_high = {220, 260};  // above the fixture's hard chains (~140-150 tokens): cues are needed
  o.budget_low = {0, 12};
  o.steering = steering;
  o.steering_layer = 1;
  return std::make_unique<serve::ModelServer>(o);
}

json chat(int port, const json& body) {
  auto r = http_call(port, "POST", "/v1/chat/completions", body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? r.json() : json();
}

size_t longest_cue_tokens() {
  data::Tokenizer tok((kFixture / "run" / "model").string());
  size_t n = 0;
  for (const auto& c : model::default_continuation_cues()) n = std::max(n, tok.encode_text(c).size());
  return n;
}

const char* kHard = "What is 78 + 20 + 51 + 76?";
const char* kEasy = "What is 4 + 5?";

}  // namespace

TEST(autothink, adaptive_classifies_and_keeps_reasoning_within_the_class_budget) {
  auto server = start();
  const int cue = static_cast<int>(longest_cue_tokens());
  int cues_needed = 0;
  for (int seed = 1; seed <= 3; ++seed) {
    json hard = chat(server->port(), {{"messages", {{{"role", "user"}, {"content", kHard}}}}, {"think_mode", "adaptive"},
                                      {"temperature", 0.7}, {"seed", seed}, {"max_tokens", 400}});
    const auto& at = hard["choices"][0]["message"]["autothink"];
    EXPECT_EQ(at["complexity"], "HIGH");
    EXPECT_EQ(at["classifier"], "model");
    EXPECT_EQ(at["min"], 220);
    EXPECT_EQ(at["max"], 260);
    const int reasoning = hard["usage"]["completion_tokens_details"]["reasoning_tokens"];
    EXPECT_GE(reasoning, 220) << hard.dump();
    EXPECT_LE(reasoning, 260 + cue) << hard.dump();
    EXPECT_EQ(hard["choices"][0]["message"]["think_mode"], "on");
    cues_needed += at["thoughts"].get<int>() > 0;
    json easy = chat(server->port(), {{"messages", {{{"role", "user"}, {"content", kEasy}}}}, {"think_mode", "adaptive"},
                                      {"temperature", 0.7}, {"seed", seed}, {"max_tokens", 100}});
    EXPECT_EQ(easy["choices"][0]["message"]["autothink"]["complexity"], "LOW");
    EXPECT_LE(easy["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), 12);
    EXPECT_FALSE(easy["choices"][0]["message"]["content"].get<std::string>().empty()) << "an answer follows the forced close";
  }
  EXPECT_GT(cues_needed, 0) << "the minimum should have needed continuation cues";
}

TEST(autothink, the_stream_reports_the_decision_first_and_the_thoughts_last) {
  auto server = start();
  json body = {{"messages", {{{"role", "user"}, {"content", kHard}}}}, {"think_mode", "adaptive"}, {"temperature", 0},
               {"seed", 5}, {"max_tokens", 400}, {"stream", true}};  // the seed picks the cues
  auto r = http_call(server->port(), "POST", "/v1/chat/completions", body.dump());
  ASSERT_EQ(r.status, 200);
  auto events = sse_events(r.body);
  ASSERT_GE(events.size(), 3u);
  const auto& first = events.front()["choices"][0]["delta"];
  EXPECT_EQ(first["autothink"]["complexity"], "HIGH");
  EXPECT_EQ(first["autothink"]["min"], 220);
  json last;
  for (const auto& e : events)
    if (!e["choices"].empty() && !e["choices"][0]["finish_reason"].is_null()) last = e["choices"][0]["delta"];
  ASSERT_TRUE(last.contains("autothink")) << r.body.substr(r.body.size() - 600);
  EXPECT_TRUE(last["autothink"].contains("thoughts"));
  // The same as the whole reply.
  body["stream"] = false;
  json whole = chat(server->port(), body);
  EXPECT_EQ(whole["choices"][0]["message"]["autothink"]["thoughts"], last["autothink"]["thoughts"]);
}

TEST(autothink, thinking_budget_min_and_max_without_adaptive) {
  auto server = start();
  const int cue = static_cast<int>(longest_cue_tokens());
  json j = chat(server->port(), {{"messages", {{{"role", "user"}, {"content", kEasy}}}}, {"think_mode", "on"},
                                 {"temperature", 0}, {"max_tokens", 200}, {"thinking_budget", {{"min", 70}, {"max", 90}}}});
  const int reasoning = j["usage"]["completion_tokens_details"]["reasoning_tokens"];
  EXPECT_GE(reasoning, 70);
  EXPECT_LE(reasoning, 90 + cue);
  EXPECT_FALSE(j["choices"][0]["message"].contains("autothink"));
}

TEST(autothink, bad_budgets_and_modes_are_named_400s) {
  auto server = start();
  auto post = [&](const json& extra) {
    json body = {{"messages", {{{"role", "user"}, {"content", kEasy}}}}};
    body.update(extra);
    return http_call(server->port(), "POST", "/v1/chat/completions", body.dump());
  };
  auto r = post({{"thinking_budget", {{"min", 10}, {"max", 5}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["param"], "thinking_budget.min");
  r = post({{"thinking_budget", {{"least", 10}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["param"], "thinking_budget.least");
  r = post({{"think_mode", "sometimes"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("adaptive"), std::string::npos);
}

TEST(autothink, steering_vectors_load_match_and_report_their_pattern) {
  // A record whose context is the adaptive prompt's text: it matches on the prompt (text match).
  data::Tokenizer tok((kFixture / "run" / "model").string());
  format::Conversation conv;
  conv.messages.push_back(format::plain_message("user", kHard));
  const auto ids = tok.encode(format::render_prompt(conv, format::PromptMode::on));
  model::SteeringRecord r;
  r.pivot_context = tok.decode(ids);
  r.reasoning_pattern = "numerical_accuracy";
  r.prob_delta = 0.4;
  r.steering_vector.assign(static_cast<size_t>(model::load_config_json(model_with_classifier() / "config.json").hidden_size), 0.5f);
  const fs::path file = model_with_classifier().parent_path() / "steering.jsonl";
  model::write_steering_records(file, {r});
  auto server = start(file.string());
  json hard = chat(server->port(), {{"messages", {{{"role", "user"}, {"content", kHard}}}}, {"think_mode", "adaptive"},
                                    {"temperature", 0}, {"max_tokens", 40}});
  EXPECT_EQ(hard["choices"][0]["message"]["autothink"]["steering_pattern"], "numerical_accuracy");
  // (No "other prompt does not match" check: the forced-think KAT prompt ends in an 85-character
  // template tail, so optillm's fuzzy text match, reproduced as is, fires for any prompt of 100+
  // characters. DESIGN.md §6 notes it.)
  // Plain requests are never steered (no autothink field at all).
  json plain = chat(server->port(), {{"messages", {{{"role", "user"}, {"content", kHard}}}}, {"temperature", 0}, {"max_tokens", 10}});
  EXPECT_FALSE(plain["choices"][0]["message"].contains("autothink"));
}

TEST(autothink, pts_finds_pivotal_tokens_and_serve_loads_its_vectors) {
  auto net = model::load_model(kFixture / "run" / "model");
  net->eval();
  data::Tokenizer tok((kFixture / "run" / "model").string());
  std::vector<data::SynthRecord> hard;
  for (auto& r : data::read_synth_records((kFixture / "data" / "test.jsonl").string()))
    if (r.difficulty == "hard" && hard.size() < 16) hard.push_back(r);
  ASSERT_FALSE(hard.empty());
  model::Engine engine(net, model::make_engine_options(tok, 64, net->config().max_position_embeddings));
  model::PtsOptions o;
  o.samples = 6;
  o.probe_samples = 6;
  o.max_tokens = 220;
  o.temperature = 1.0;
  // The fixture model is too weak for its hard sums (success ~0; the README's run uses the demo
  // model), so a verifier with a coin-like outcome on its answers gives success rates inside
  // [0.2, 0.8]: the search itself is what is tested, on the real model and engine.
  struct OddLength : data::Verifier {
    bool check(const std::string& answer, const std::string&) const override { return answer.size() % 2 == 1; }
    std::string describe() const override { return "odd answer length"; }
  };
  auto verifiers = data::VerifierRegistry::with_builtins();
  verifiers.add("odd_length", std::make_shared<OddLength>());
  verifiers.map_family(hard[0].family, "odd_length");
  model::PtsReport report;
  const auto records = model::pivotal_token_search(engine, tok, hard, verifiers, o, &report);
  ASSERT_GT(report.kept, 0) << "no hard query with a success rate in [0.2, 0.8] (mean " << report.mean_success << ")";
  ASSERT_GT(report.pivots, 0);
  for (const auto& r : records) {
    EXPECT_GE(std::fabs(r.prob_delta), o.threshold);
    EXPECT_EQ(r.is_positive, r.prob_delta > 0);
    EXPECT_EQ(static_cast<int64_t>(r.steering_vector.size()), net->config().hidden_size);
    EXPECT_NE(std::find(model::reasoning_patterns().begin(), model::reasoning_patterns().end(), r.reasoning_pattern),
              model::reasoning_patterns().end());
    EXPECT_EQ(r.pivot_token, tok.decode_token_bytes(static_cast<int>(r.pivot_token_id)));
  }
  const fs::path file = autothink::testing::temp_dir("pts") / "steering.jsonl";
  model::write_steering_records(file, records);
  auto server = start(file.string());
  json j = chat(server->port(), {{"messages", {{{"role", "user"}, {"content", hard[0].question}}}}, {"think_mode", "adaptive"},
                                 {"temperature", 0}, {"max_tokens", 60}});
  EXPECT_TRUE(j["choices"][0]["message"]["autothink"].contains("steering_pattern"));
}
