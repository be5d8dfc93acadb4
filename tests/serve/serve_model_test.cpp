// The real `autothink serve` process on a loopback port with a small trained KAT model (the CTest
// fixture `kat_model`: pretrained briefly on dual-mode records, so it speaks the format but is
// weak at arithmetic). Format behaviour is checked through forced prefixes (/v1/completions),
// think_mode and thinking_budget, where forcing makes the structure deterministic. Also: stream == non-stream,
// 32 concurrent streams == solo answers, disconnects free sequences, bad input, the OpenAI client,
// and SIGTERM exits 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "data/format/parser.hpp"
#include "data/tokenizer.hpp"
#include "http_test_client.hpp"
#include "core/error.hpp"
#include "serve/openai_client.hpp"
#include "test_paths.hpp"

using namespace autothink;
using namespace autothink::serve;
using namespace autothink::serve::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One server process for the whole suite.
class ServerProcess {
 public:
  ServerProcess() {
    dir_ = autothink::testing::temp_dir("serve-model");
    // The small trained KAT model of the CTest fixture `kat_model` (tests/fixtures/kat-model.yaml).
    model_ = autothink::testing::build_dir() / "fixtures" / "kat-model" / "run" / "model";
    log_ = dir_ / "server.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a test process that dies
      const std::string bin = autothink::testing::autothink_binary();
      freopen(log_.c_str(), "w", stdout);
      dup2(fileno(stdout), 2);
      execl(bin.c_str(), bin.c_str(), "serve", "--model", model_.c_str(), "--port", "0", "--max-batch", "8",
            "--set", "serve.read_timeout_s=5", "--set", "serve.shutdown_grace_s=5", static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::regex re("listening on http://127\\.0\\.0\\.1:([0-9]+)/v1");
    autothink::testing::wait_for([&] {  // until it listens, or exits early
      std::smatch m;
      const std::string text = log();
      if (std::regex_search(text, m, re)) port_ = std::stoi(m[1]);
      return port_ != 0 || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
    }, std::chrono::seconds(60));
  }
  ~ServerProcess() { stop(); }
  int port() const { return port_; }
  std::string log() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // SIGTERM; returns the exit status (-1 if it did not exit within 20 s).
  int stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    if (autothink::testing::wait_for([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(20))) {
      pid_ = -1;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }

 private:
  fs::path dir_, model_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

ServerProcess& server() {
  // A function-local static: its destructor stops the server when the test process exits.
  static ServerProcess s;
  return s;
}

const std::string kUserTurn = "<|im_start|>user\nWhat is 2 plus 3?<|im_end|>\n<|im_start|>assistant\n";
const std::string kForcedOn = kUserTurn + "<judge>\nThinking was requested.\n</judge>\n<think_on>\n<think>\n";
const std::string kForcedOff = kUserTurn + "<judge>\nA direct answer was requested.\n</judge>\n<think_off>\n<answer>\n";

json post(const std::string& path, const json& body, int* status = nullptr) {
  auto r = http_call(server().port(), "POST", path, body.dump());
  if (status) *status = r.status;
  return r.body.empty() ? json() : r.json();
}

#define REQUIRE_SERVER() \
  ASSERT_GT(server().port(), 0) << "the server did not start:\n" << server().log()

}  // namespace

TEST(serve_model, models_and_health) {
  REQUIRE_SERVER();
  auto models = http_call(server().port(), "GET", "/v1/models").json();
  EXPECT_EQ(models["data"][0]["id"], "model");  // default: the folder's name
  EXPECT_EQ(models["data"][0]["max_model_len"], 1024);
  EXPECT_EQ(http_call(server().port(), "GET", "/health").status, 200);
}

TEST(serve_model, completions_keep_forced_prefix_structure_with_budget) {
  REQUIRE_SERVER();
  for (int k : {1, 4, 9}) {
    auto j = post("/v1/completions", {{"prompt", kForcedOn}, {"max_tokens", 40}, {"temperature", 0}, {"thinking_budget", k}});
    ASSERT_TRUE(j.contains("choices")) << j.dump();
    const std::string text = j["choices"][0]["text"];
    EXPECT_EQ(j["choices"][0]["think_mode"], "on");
    EXPECT_LE(j["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), k) << text;
    // Unless the model stopped first, the budget forced "</think>\n<answer>\n" after at most k tokens.
    if (j["usage"]["completion_tokens"].get<int>() > k + 4 && text.find("</think>") != std::string::npos) {
      auto parsed = format::parse("<judge>\nx\n</judge>\n<think_on>\n<think>\n" + text);
      EXPECT_NE(text.find("</think>\n<answer>\n"), std::string::npos) << text;
      EXPECT_EQ(parsed.mode, format::ThinkMode::on);
    }
  }
}

TEST(serve_model, chat_forced_modes_are_reported) {
  REQUIRE_SERVER();
  json body = {{"messages", {{{"role", "user"}, {"content", "What is 2 plus 3?"}}}}, {"max_tokens", 24},
               {"temperature", 0}, {"thinking_budget", 4}};
  body["think_mode"] = "on";
  auto on = post("/v1/chat/completions", body);
  ASSERT_TRUE(on.contains("choices")) << on.dump();
  EXPECT_EQ(on["choices"][0]["message"]["think_mode"], "on");
  EXPECT_EQ(on["choices"][0]["message"]["judge"], std::string(format::kForcedOnJudge));
  EXPECT_LE(on["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), 4);
  body["think_mode"] = "off";
  auto off = post("/v1/chat/completions", body);
  EXPECT_EQ(off["choices"][0]["message"]["think_mode"], "off");
  EXPECT_EQ(off["choices"][0]["message"]["reasoning_content"], "");
  EXPECT_EQ(off["usage"]["completion_tokens_details"]["reasoning_tokens"], 0);
}

TEST(serve_model, stream_and_non_stream_agree) {
  REQUIRE_SERVER();
  for (const std::string& prompt : {kForcedOn, kForcedOff, kUserTurn}) {
    json body = {{"prompt", prompt}, {"max_tokens", 30}, {"temperature", 0.8}, {"seed", 1234}, {"thinking_budget", 6}};
    auto whole = post("/v1/completions", body);
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    auto r = http_call(server().port(), "POST", "/v1/completions", body.dump());
    bool done = false;
    std::string text;
    json usage;
    for (const auto& ev : sse_events(r.body, &done)) {
      if (ev.contains("usage") && !ev["usage"].is_null()) usage = ev["usage"];
      if (!ev["choices"].empty()) text += ev["choices"][0]["text"].get<std::string>();
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(text, whole["choices"][0]["text"]);
    EXPECT_EQ(usage, whole["usage"]);
  }
  // Chat too: deltas concatenate to the message fields.
  json chat = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 30}, {"seed", 5}, {"think_mode", "on"},
               {"thinking_budget", 5}};
  auto whole = post("/v1/chat/completions", chat);
  chat["stream"] = true;
  auto r = http_call(server().port(), "POST", "/v1/chat/completions", chat.dump());
  std::string reasoning, content, judge;
  for (const auto& ev : sse_events(r.body)) {
    const auto& d = ev["choices"][0]["delta"];
    reasoning += d.value("reasoning_content", "");
    content += d.value("content", "");
    judge += d.value("judge", "");
  }
  EXPECT_EQ(reasoning, whole["choices"][0]["message"]["reasoning_content"]);
  EXPECT_EQ(content, whole["choices"][0]["message"]["content"]);
  EXPECT_EQ(judge, whole["choices"][0]["message"]["judge"]);
}

TEST(serve_model, thirty_two_concurrent_streams_match_solo) {
  REQUIRE_SERVER();
  const int clients = 32;
  auto body = [](int i, bool stream) {
    return json{{"prompt", i % 2 ? kForcedOn : kForcedOff}, {"max_tokens", 24}, {"temperature", 0.9}, {"seed", 500 + i},
                {"stream", stream}};
  };
  std::vector<std::string> streamed(clients);
  std::vector<bool> done(clients, false);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      auto r = http_call(server().port(), "POST", "/v1/completions", body(i, true).dump());
      bool d = false;
      for (const auto& ev : sse_events(r.body, &d)) streamed[i] += ev["choices"][0]["text"].get<std::string>();
      done[i] = d;
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < clients; ++i) {
    auto solo = post("/v1/completions", body(i, false));
    EXPECT_TRUE(done[i]) << i;
    EXPECT_EQ(streamed[i], solo["choices"][0]["text"]) << "client " << i;
  }
}

TEST(serve_model, disconnect_frees_the_sequence) {
  REQUIRE_SERVER();
  {
    TestConnection c(server().port());
    ASSERT_TRUE(c.send_request("POST", "/v1/completions",
                               json{{"prompt", kUserTurn}, {"max_tokens", 400}, {"stream", true}, {"temperature", 1.0},
                                    {"seed", 3}}
                                   .dump()));
    EXPECT_FALSE(c.read_some().empty());
    c.reset();
  }
  int active = -1;
  autothink::testing::wait_for([&] {
    auto m = http_call(server().port(), "GET", "/metrics").body;
    auto at = m.find("\nautothink_active_sequences ");
    if (at != std::string::npos) active = std::stoi(m.substr(at + 28));
    return active == 0;
  }, std::chrono::seconds(10));
  EXPECT_EQ(active, 0);
}

TEST(serve_model, bad_inputs_then_good_request) {
  REQUIRE_SERVER();
  int status = 0;
  post("/v1/completions", json{{"prompt", 12}}, &status);
  EXPECT_EQ(status, 400);
  auto r = http_call(server().port(), "POST", "/v1/chat/completions", "{\"messages\": [");
  EXPECT_EQ(r.status, 400);
  post("/v1/chat/completions", {{"model", "gpt-4o"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}}, &status);
  EXPECT_EQ(status, 404);
  auto too_long = post("/v1/completions", {{"prompt", "hi"}, {"max_tokens", 100000}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(too_long["error"]["code"], "context_length_exceeded");
  post("/v1/completions", {{"prompt", kForcedOff}, {"max_tokens", 4}}, &status);
  EXPECT_EQ(status, 200);
}

TEST(serve_model, openai_client_generator) {
  REQUIRE_SERVER();
  OpenAIClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server().port());
  OpenAIClient client(o);
  std::vector<data::GenerationInput> inputs(4);
  for (int i = 0; i < 4; ++i) {
    inputs[i].conversation.messages.push_back({"user", "What is " + std::to_string(i) + "?", "", format::ThinkMode::unknown, ""});
    inputs[i].mode = i % 2 ? format::PromptMode::on : format::PromptMode::off;
  }
  data::GenerationParams p;
  p.max_tokens = 12;
  p.temperature = 0.7;
  p.seed = 9;
  auto out = client.generate(inputs, p);
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(out[i].size(), 1u);
    EXPECT_EQ(out[i][0].prefill, format::prompt_prefill(inputs[i].mode));
    EXPECT_EQ(format::parse(out[i][0].prefill + out[i][0].text).mode, i % 2 ? format::ThinkMode::on : format::ThinkMode::off);
    EXPECT_GE(out[i][0].completion_tokens, 1);
    EXPECT_LE(out[i][0].completion_tokens, 12);
  }
  EXPECT_EQ(client.generate(inputs, p)[2][0].text, out[2][0].text);  // same seed, same text
}

// The chat API path rebuilds the KAT turn from the reply's fields; greedy, it must carry what the
// completions path carries: judge, mode, reasoning, answer and the server's token count.
TEST(serve_model, openai_client_chat_api_matches_completions) {
  REQUIRE_SERVER();
  OpenAIClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server().port());
  OpenAIClient completions(o);
  o.api = "chat";
  OpenAIClient chat(o);
  std::vector<data::GenerationInput> inputs(6);
  for (int i = 0; i < 6; ++i) {
    inputs[i].conversation.messages.push_back({"user", "What is " + std::to_string(10 + i) + " + 7?", "", format::ThinkMode::unknown, ""});
    inputs[i].mode = i % 3 == 0 ? format::PromptMode::automatic : i % 3 == 1 ? format::PromptMode::on : format::PromptMode::off;
  }
  data::GenerationParams p;
  p.max_tokens = 40;
  auto a = completions.generate(inputs, p), b = chat.generate(inputs, p);
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE("input " + std::to_string(i));
    ASSERT_EQ(b[i].size(), 1u);
    EXPECT_EQ(b[i][0].prefill, "");
    const auto x = format::parse(a[i][0].prefill + a[i][0].text), y = format::parse(b[i][0].text);
    EXPECT_EQ(y.judge, x.judge);
    EXPECT_EQ(y.mode, x.mode);
    EXPECT_EQ(y.reasoning, x.reasoning);
    EXPECT_EQ(y.answer, x.answer);
    EXPECT_EQ(b[i][0].completion_tokens, a[i][0].completion_tokens);
    EXPECT_EQ(b[i][0].finish_reason, a[i][0].finish_reason);
  }
  o.api = "responses";
  EXPECT_THROW(OpenAIClient{o}, autothink::Error);
}

// Last (gtest runs tests in file order): SIGTERM stops the server cleanly.
TEST(serve_model, sigterm_exits_zero) {
  REQUIRE_SERVER();
  EXPECT_EQ(server().stop(), 0) << server().log();
}

TEST(serve_model, trained_model_answers_in_kat_format_in_auto_mode) {
  REQUIRE_SERVER();
  int status = 0;
  auto r = post("/v1/chat/completions",
                {{"model", "model"}, {"messages", {{{"role", "user"}, {"content", "What is 38 + 6?"}}}},
                 {"temperature", 0}, {"max_tokens", 200}},
                &status);
  ASSERT_EQ(status, 200) << r.dump();
  const auto& choice = r["choices"][0];
  const auto& msg = choice["message"];
  EXPECT_EQ(choice["finish_reason"], "stop") << r.dump();
  EXPECT_TRUE(msg["think_mode"] == "on" || msg["think_mode"] == "off") << r.dump();
  EXPECT_FALSE(msg["judge"].get<std::string>().empty()) << r.dump();
  EXPECT_FALSE(msg["content"].get<std::string>().empty()) << r.dump();
  for (const char* field : {"content", "reasoning_content", "judge"})
    EXPECT_EQ(msg[field].get<std::string>().find('<'), std::string::npos) << field << ": " << r.dump();
}
