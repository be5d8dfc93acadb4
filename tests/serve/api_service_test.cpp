// The OpenAI endpoints end to end over HTTP, with the scripted engine (no model weights): fields
// split by the parser, stream == non-stream, forced modes, thinking budget, n, completions keep the
// tags, 32 concurrent streams, disconnects free sequences, bad input, overload, the OpenAI client.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "data/format/parser.hpp"
#include "http_test_client.hpp"
#include "scripted_engine.hpp"
#include "serve/api_service.hpp"
#include "serve/http_server.hpp"
#include "serve/openai_client.hpp"
#include "test_paths.hpp"

using namespace autothink;
using namespace autothink::serve;
using namespace autothink::serve::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class ServeTokenizerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto dir = autothink::testing::temp_dir("serve-tokenizer");
    std::string corpus;
    for (int i = 0; i < 300; ++i) {
      corpus += "Question: what is " + std::to_string(i * 7 % 100) + " + " + std::to_string(i % 13) + "?\n";
      corpus += std::string(kScriptReasoning) + "\n" + scripted_answer(i * 31) + "\n";
      corpus += "Simple sum. Thinking was requested. A direct answer was requested. tick tock hello world\n";
    }
    data::TokenizerTrainOptions options;
    options.texts = {corpus};
    options.out = dir.string();
    options.vocab_size = 400;
    path = data::Tokenizer::train(options);
  }
  static std::string path;
};
std::string ServeTokenizerEnvironment::path;
const auto* const serve_tokenizer_env = ::testing::AddGlobalTestEnvironment(new ServeTokenizerEnvironment);

std::shared_ptr<const data::Tokenizer> tokenizer() {
  static auto tok = std::make_shared<const data::Tokenizer>(ServeTokenizerEnvironment::path);
  return tok;
}

struct Stack {
  Metrics metrics;
  ScriptedEngine* engine = nullptr;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<ApiService> service;
  std::unique_ptr<HttpServer> server;

  explicit Stack(int max_batch = 8, size_t max_queue = 64, std::chrono::milliseconds delay = 0ms, int64_t context = 512) {
    auto e = std::make_unique<ScriptedEngine>(*tokenizer(), max_batch, context, delay);
    engine = e.get();
    scheduler = std::make_unique<Scheduler>(std::move(e), SchedulerOptions{max_queue}, &metrics);
    ServiceOptions so;
    so.model_name = "kat-test";
    service = std::make_unique<ApiService>(so, tokenizer(), *scheduler, metrics);
    HttpServerOptions ho;
    ho.port = 0;
    ho.threads = 2;
    server = std::make_unique<HttpServer>(ho, service->handler());
    server->start();
  }
  ~Stack() {
    server->stop_accepting();
    scheduler->shutdown(2000ms);
    server->stop(2000ms);
  }
  int port() const { return server->port(); }
};

json chat_body(const std::string& mode, uint64_t seed, bool stream = false, json extra = json::object()) {
  json b = {{"model", "kat-test"},
            {"messages", {{{"role", "user"}, {"content", "What is 2 + 3?"}}}},
            {"think_mode", mode},
            {"seed", seed},
            {"temperature", 0},
            {"max_tokens", 200},
            {"stream", stream}};
  b.update(extra);
  return b;
}

// Concatenates a chat stream's deltas per field (choice 0).
struct StreamedChat {
  std::string judge, reasoning, content, think_mode, finish_reason, role;
  json usage;
  bool done = false;
  int chunks = 0;
};
StreamedChat collect_chat_stream(const HttpReply& r, int index = 0) {
  StreamedChat s;
  for (const auto& ev : sse_events(r.body, &s.done)) {
    ++s.chunks;
    if (ev.contains("usage") && !ev["usage"].is_null()) s.usage = ev["usage"];
    for (const auto& c : ev["choices"]) {
      if (c["index"] != index) continue;
      const auto& d = c["delta"];
      s.judge += d.value("judge", "");
      s.reasoning += d.value("reasoning_content", "");
      s.content += d.value("content", "");
      if (d.contains("think_mode")) s.think_mode = d["think_mode"];
      if (d.contains("role")) s.role = d["role"];
      if (!c["finish_reason"].is_null()) s.finish_reason = c["finish_reason"];
    }
  }
  return s;
}

bool has_tag(const std::string& s) {
  for (auto lit : format::kSpecialLiterals)
    if (s.find(lit) != std::string::npos) return true;
  return false;
}

int active_sequences_metric(int port) {
  auto r = http_call(port, "GET", "/metrics");
  auto at = r.body.find("\nautothink_active_sequences ");
  if (at == std::string::npos) return -1;
  return std::stoi(r.body.substr(at + 28));
}

}  // namespace

TEST(api_service, models_health_and_metrics) {
  Stack s;
  auto models = http_call(s.port(), "GET", "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.json()["data"][0]["id"], "kat-test");
  EXPECT_EQ(models.json()["data"][0]["max_model_len"], 512);
  auto health = http_call(s.port(), "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json()["status"], "ok");
  ASSERT_EQ(http_call(s.port(), "POST", "/v1/chat/completions", chat_body("off", 1).dump()).status, 200);
  // The gauges are refreshed after the scheduler's step that finished the request.
  autothink::testing::wait_for([&] { return active_sequences_metric(s.port()) == 0; }, std::chrono::seconds(10));
  auto metrics = http_call(s.port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* name : {"autothink_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1",
                           "autothink_chat_choices_total{think_mode=\"off\"} 1", "autothink_think_on_share 0",
                           "autothink_queue_depth", "autothink_active_sequences 0",
                           "autothink_time_to_first_token_seconds_count 1", "autothink_generation_tokens_per_second",
                           "autothink_completion_tokens_total"})
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name << "\n" << metrics.body;
}

TEST(api_service, forced_off_reports_fixed_judge_and_mode) {
  Stack s;
  auto r = http_call(s.port(), "POST", "/v1/chat/completions", chat_body("off", 42).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  const auto& m = j["choices"][0]["message"];
  EXPECT_EQ(m["role"], "assistant");
  EXPECT_EQ(m["think_mode"], "off");
  EXPECT_EQ(m["judge"], std::string(format::kForcedOffJudge));
  EXPECT_EQ(m["content"], scripted_answer(42));
  EXPECT_EQ(m["reasoning_content"], "");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["usage"]["completion_tokens_details"]["reasoning_tokens"], 0);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
}

TEST(api_service, forced_on_thinks_and_counts_reasoning_tokens) {
  Stack s;
  auto j = http_call(s.port(), "POST", "/v1/chat/completions", chat_body("on", 7).dump()).json();
  const auto& m = j["choices"][0]["message"];
  EXPECT_EQ(m["think_mode"], "on");
  EXPECT_EQ(m["judge"], std::string(format::kForcedOnJudge));
  EXPECT_EQ(m["reasoning_content"], kScriptReasoning);
  EXPECT_EQ(m["content"], scripted_answer(7));
  // Reasoning tokens: the reasoning text and the newline before </think>.
  const int expected = static_cast<int>(tokenizer()->encode_text(std::string(kScriptReasoning) + "\n").size());
  EXPECT_EQ(j["usage"]["completion_tokens_details"]["reasoning_tokens"], expected);
}

TEST(api_service, enable_thinking_false_and_auto_mode) {
  Stack s;
  auto off = http_call(s.port(), "POST", "/v1/chat/completions",
                       chat_body("auto", 3, false, {{"chat_template_kwargs", {{"enable_thinking", false}}}}).dump())
                 .json();
  // think_mode "auto" given explicitly wins over enable_thinking.
  EXPECT_EQ(off["choices"][0]["message"]["judge"], "Simple sum.");
  json b = chat_body("auto", 3, false, {{"chat_template_kwargs", {{"enable_thinking", false}}}});
  b.erase("think_mode");
  auto forced = http_call(s.port(), "POST", "/v1/chat/completions", b.dump()).json();
  EXPECT_EQ(forced["choices"][0]["message"]["judge"], std::string(format::kForcedOffJudge));
  EXPECT_EQ(off["choices"][0]["message"]["think_mode"], "off");
}

TEST(api_service, stream_and_non_stream_agree) {
  Stack s;
  for (const char* mode : {"auto", "on", "off"}) {
    auto whole = http_call(s.port(), "POST", "/v1/chat/completions", chat_body(mode, 11).dump()).json();
    auto streamed = http_call(s.port(), "POST", "/v1/chat/completions",
                              chat_body(mode, 11, true, {{"stream_options", {{"include_usage", true}}}}).dump());
    ASSERT_EQ(streamed.status, 200);
    EXPECT_EQ(streamed.headers["content-type"], "text/event-stream");
    auto st = collect_chat_stream(streamed);
    const auto& m = whole["choices"][0]["message"];
    EXPECT_TRUE(st.done) << mode;
    EXPECT_EQ(st.role, "assistant");
    EXPECT_EQ(st.judge, m["judge"]) << mode;
    EXPECT_EQ(st.reasoning, m["reasoning_content"]) << mode;
    EXPECT_EQ(st.content, m["content"]) << mode;
    EXPECT_EQ(st.think_mode, m["think_mode"]) << mode;
    EXPECT_EQ(st.finish_reason, whole["choices"][0]["finish_reason"]) << mode;
    EXPECT_EQ(st.usage, whole["usage"]) << mode;
    EXPECT_GT(st.chunks, 5) << mode;
    for (const auto& ev : sse_events(streamed.body)) {
      if (ev["choices"].empty()) continue;
      EXPECT_EQ(ev["object"], "chat.completion.chunk");
      const auto& d = ev["choices"][0]["delta"];
      for (const char* f : {"judge", "reasoning_content", "content"})
        EXPECT_FALSE(has_tag(d.value(f, ""))) << ev.dump();
    }
  }
}

TEST(api_service, thinking_budget_caps_reasoning_tokens) {
  Stack s;
  for (int k : {1, 3, 5}) {
    auto j = http_call(s.port(), "POST", "/v1/chat/completions", chat_body("on", 5, false, {{"thinking_budget", k}}).dump())
                 .json();
    ASSERT_TRUE(j.contains("usage")) << j.dump();
    EXPECT_LE(j["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), k);
    EXPECT_GE(j["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), 1);
    const auto& m = j["choices"][0]["message"];
    EXPECT_EQ(m["think_mode"], "on");
    EXPECT_EQ(m["content"], scripted_answer(5)) << j.dump();  // </think>\n<answer>\n was forced
    EXPECT_FALSE(has_tag(m["reasoning_content"].get<std::string>()));
    EXPECT_LT(m["reasoning_content"].get<std::string>().size(), std::string(kScriptReasoning).size());
  }
}

TEST(api_service, n_choices_use_derived_seeds) {
  Stack s;
  auto j = http_call(s.port(), "POST", "/v1/chat/completions", chat_body("off", 100, false, {{"n", 3}}).dump()).json();
  ASSERT_EQ(j["choices"].size(), 3u);
  EXPECT_EQ(j["choices"][0]["message"]["content"], scripted_answer(100));  // choice 0 keeps the seed
  std::set<std::string> answers;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(j["choices"][i]["index"], i);
    answers.insert(j["choices"][i]["message"]["content"]);
  }
  EXPECT_EQ(answers.size(), 3u);
}

TEST(api_service, completions_keep_tags_and_report_mode) {
  Stack s;
  const std::string prompt = "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n<judge>\nx\n</judge>\n<think_off>\n<answer>\n";
  auto j = http_call(s.port(), "POST", "/v1/completions",
                     json{{"prompt", prompt}, {"max_tokens", 50}, {"seed", 9}, {"temperature", 0}}.dump())
               .json();
  ASSERT_TRUE(j.contains("choices")) << j.dump();
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0]["text"], scripted_answer(9) + "\n</answer>");
  EXPECT_EQ(j["choices"][0]["think_mode"], "off");
  auto skip = http_call(s.port(), "POST", "/v1/completions",
                        json{{"prompt", prompt}, {"max_tokens", 50}, {"seed", 9}, {"skip_special_tokens", true}}.dump())
                  .json();
  EXPECT_EQ(skip["choices"][0]["text"], scripted_answer(9) + "\n");
  // Streamed text concatenates to the same.
  auto st = http_call(s.port(), "POST", "/v1/completions",
                      json{{"prompt", prompt}, {"max_tokens", 50}, {"seed", 9}, {"stream", true}}.dump());
  std::string text;
  bool done = false;
  for (const auto& ev : sse_events(st.body, &done)) text += ev["choices"][0]["text"].get<std::string>();
  EXPECT_TRUE(done);
  EXPECT_EQ(text, j["choices"][0]["text"]);
}

TEST(api_service, stop_strings_cut_the_output) {
  Stack s;
  auto j = http_call(s.port(), "POST", "/v1/chat/completions", chat_body("off", 42, false, {{"stop", "is"}}).dump()).json();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "The answer");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
}

TEST(api_service, max_tokens_gives_length) {
  Stack s;
  auto j = http_call(s.port(), "POST", "/v1/chat/completions", chat_body("on", 1, false, {{"max_tokens", 4}}).dump()).json();
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 4);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "");
}

TEST(api_service, bad_requests_get_openai_errors_and_server_keeps_serving) {
  Stack s;
  struct Case { std::string body; int status; std::string code; };
  std::vector<Case> cases = {
      {"{not json", 400, "invalid_json"},
      {R"({"messages":[]})", 400, "invalid_value"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":"warm"})", 400, "invalid_type"},
      {R"({"model":"other","messages":[{"role":"user","content":"x"}]})", 404, "model_not_found"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":100000})", 400, "context_length_exceeded"},
      {json{{"messages", {{{"role", "user"}, {"content", std::string(3000, 'z')}}}}}.dump(), 400, "context_length_exceeded"},
  };
  for (const auto& c : cases) {
    auto r = http_call(s.port(), "POST", "/v1/chat/completions", c.body);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 100) << " -> " << r.body;
    ASSERT_TRUE(r.json().contains("error")) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], c.code) << r.body;
    EXPECT_FALSE(r.json()["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(http_call(s.port(), "POST", "/v1/chat/completions", chat_body("off", 2).dump()).status, 200);
  }
  EXPECT_EQ(http_call(s.port(), "GET", "/v1/nothing").status, 404);
  EXPECT_EQ(http_call(s.port(), "GET", "/v1/chat/completions").status, 405);
}

TEST(api_service, thirty_two_concurrent_streams_match_solo_answers) {
  Stack s(8, 64, 1ms);
  const int clients = 32;
  std::vector<StreamedChat> results(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      auto r = http_call(s.port(), "POST", "/v1/chat/completions", chat_body(i % 2 ? "on" : "auto", 1000 + i, true).dump());
      results[i] = collect_chat_stream(r);
    });
  for (auto& t : threads) t.join();
  EXPECT_GT(s.engine->peak_active(), 1u);  // they really shared batches
  for (int i = 0; i < clients; ++i) {
    auto solo = http_call(s.port(), "POST", "/v1/chat/completions", chat_body(i % 2 ? "on" : "auto", 1000 + i).dump()).json();
    const auto& m = solo["choices"][0]["message"];
    EXPECT_TRUE(results[i].done) << i;
    EXPECT_EQ(results[i].content, m["content"]) << i;
    EXPECT_EQ(results[i].content, scripted_answer(1000 + i)) << i;
    EXPECT_EQ(results[i].reasoning, m["reasoning_content"]) << i;
    EXPECT_EQ(results[i].think_mode, m["think_mode"]) << i;
  }
}

TEST(api_service, client_disconnect_frees_its_sequence) {
  Stack s(4, 8, 5ms);
  {
    TestConnection c(s.port());
    ASSERT_TRUE(c.send_request("POST", "/v1/completions",
                               json{{"prompt", "hello"}, {"max_tokens", 400}, {"stream", true}}.dump()));
    EXPECT_FALSE(c.read_some().empty());
    autothink::testing::wait_for([&] { return active_sequences_metric(s.port()) == 1; }, std::chrono::seconds(10));
    EXPECT_EQ(active_sequences_metric(s.port()), 1);
    c.reset();
  }
  int active = -1;
  autothink::testing::wait_for([&] { return (active = active_sequences_metric(s.port())) == 0; }, std::chrono::seconds(10));
  EXPECT_EQ(active, 0);
  EXPECT_EQ(s.engine->finish_counts()["cancelled"], 1);
  // A non-stream client that leaves is noticed too.
  {
    TestConnection c(s.port());
    ASSERT_TRUE(c.send_request("POST", "/v1/completions", json{{"prompt", "hello"}, {"max_tokens", 400}}.dump()));
    autothink::testing::wait_for([&] { return active_sequences_metric(s.port()) == 1; }, std::chrono::seconds(10));
    c.close();  // while its sequence decodes
  }
  autothink::testing::wait_for([&] { return s.engine->finish_counts()["cancelled"] >= 2; }, std::chrono::seconds(10));
  EXPECT_EQ(s.engine->finish_counts()["cancelled"], 2);
  EXPECT_EQ(http_call(s.port(), "POST", "/v1/chat/completions", chat_body("off", 2).dump()).status, 200);
}

TEST(api_service, overload_answers_429_with_retry_after) {
  Stack s(1, 1, 5ms);
  const std::string body = json{{"prompt", "hello"}, {"max_tokens", 100}}.dump();
  std::vector<std::unique_ptr<TestConnection>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(std::make_unique<TestConnection>(s.port()));
    ASSERT_TRUE(busy.back()->send_request("POST", "/v1/completions", body));
  }
  autothink::testing::wait_for([&] { return s.scheduler->outstanding() >= 2; }, std::chrono::seconds(10));
  auto r = http_call(s.port(), "POST", "/v1/completions", body);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(r.json()["error"]["code"], "server_overloaded");
  for (auto& c : busy) EXPECT_EQ(c->read_reply().status, 200);
  EXPECT_EQ(http_call(s.port(), "POST", "/v1/completions", body).status, 200);
}

TEST(api_service, shutdown_ends_streams_cleanly_and_refuses_new_work) {
  auto s = std::make_unique<Stack>(2, 4, 5ms);
  TestConnection c(s->port());
  ASSERT_TRUE(c.send_request("POST", "/v1/completions", json{{"prompt", "hello"}, {"max_tokens", 400}, {"stream", true}}.dump()));
  autothink::testing::wait_for([&] { return s->metrics.active_sequences() == 1; }, std::chrono::seconds(10));
  ASSERT_EQ(s->metrics.active_sequences(), 1u);
  s->server->stop_accepting();
  s->scheduler->shutdown(0ms);  // cancels what runs
  auto r = c.read_reply();      // the rest of the stream: finish_reason abort, then [DONE]
  bool done = false;
  auto events = sse_events(r.body, &done);
  EXPECT_TRUE(done);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "abort");
  s.reset();
}

TEST(api_service, openai_client_generator_against_our_server) {
  Stack s;
  OpenAIClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(s.port()) + "/v1";
  o.model = "kat-test";
  OpenAIClient client(o);
  std::vector<data::GenerationInput> inputs(3);
  const format::PromptMode modes[] = {format::PromptMode::on, format::PromptMode::off, format::PromptMode::automatic};
  for (int i = 0; i < 3; ++i) {
    inputs[i].conversation.messages.push_back({"user", "What is " + std::to_string(i) + " + 1?", "", format::ThinkMode::unknown, ""});
    inputs[i].mode = modes[i];
  }
  data::GenerationParams p;
  p.max_tokens = 200;
  p.n = 2;
  p.seed = 5;
  auto out = client.generate(inputs, p);
  ASSERT_EQ(out.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(out[i].size(), 2u);
    for (const auto& c : out[i]) {
      EXPECT_EQ(c.prefill, format::prompt_prefill(modes[i]));
      auto parsed = format::parse(c.prefill + c.text);
      EXPECT_TRUE(parsed.complete) << c.prefill + c.text;
      EXPECT_EQ(parsed.mode, i == 0 ? format::ThinkMode::on : format::ThinkMode::off);
      EXPECT_EQ(c.finish_reason, "stop");
      EXPECT_GT(c.completion_tokens, 3);
    }
    EXPECT_NE(out[i][0].text, out[i][1].text);  // n samples differ
  }
  // Errors are clear: wrong model (404 body included), nothing listening.
  o.model = "nope";
  try {
    OpenAIClient(o).generate(inputs, p);
    ADD_FAILURE() << "no error for an unknown model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("404"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model_not_found"), std::string::npos) << e.what();
  }
  const int port = s.port();
  s.server->stop();
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  try {
    OpenAIClient(o).generate(inputs, p);
    ADD_FAILURE() << "no error for a closed port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
}
