// Request parsing and validation of the OpenAI schema, and the error shape.
#include <gtest/gtest.h>

#include "serve/openai_schema.hpp"

using namespace autothink;
using namespace autothink::serve;

namespace {
SchemaLimits limits() { return SchemaLimits{"kat-tiny", 8, 4}; }

ApiError chat_error(const std::string& body) {
  try {
    parse_chat_request(body, limits());
  } catch (const ApiException& e) {
    return e.error();
  }
  ADD_FAILURE() << "accepted: " << body;
  return {};
}
}  // namespace

TEST(openai_schema, parses_all_chat_fields) {
  auto r = parse_chat_request(R"({"model":"kat-tiny","messages":[{"role":"system","content":"Be brief."},
      {"role":"user","content":"2+3?"},{"role":"assistant","content":"5"},{"role":"user","content":[{"type":"text","text":"and 4+4?"}]}],
      "max_tokens":64,"temperature":0.5,"top_p":0.9,"top_k":20,"seed":7,"stop":"END","n":2,"stream":true,
      "stream_options":{"include_usage":true},"think_mode":"off","thinking_budget":12})",
                              limits());
  ASSERT_EQ(r.conversation.messages.size(), 4u);
  EXPECT_EQ(r.conversation.messages[3].content, "and 4+4?");
  EXPECT_EQ(*r.max_tokens, 64);
  EXPECT_DOUBLE_EQ(r.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r.top_p, 0.9);
  EXPECT_EQ(r.top_k, 20);
  EXPECT_EQ(*r.seed, 7u);
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.n, 2);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.think_mode, format::PromptMode::off);
  EXPECT_EQ(r.thinking_budget, 12);
}

TEST(openai_schema, defaults_follow_openai) {
  auto r = parse_chat_request(R"({"messages":[{"role":"user","content":"hi"}]})", limits());
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_DOUBLE_EQ(r.temperature, 1.0);
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.seed.has_value());
  EXPECT_EQ(r.think_mode, format::PromptMode::automatic);
  EXPECT_EQ(r.thinking_budget, 0);
}

TEST(openai_schema, enable_thinking_maps_to_think_mode_and_think_mode_wins) {
  auto on = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":true}})", limits());
  EXPECT_EQ(on.think_mode, format::PromptMode::on);
  auto off = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":false}})", limits());
  EXPECT_EQ(off.think_mode, format::PromptMode::off);
  auto both = parse_chat_request(
      R"({"messages":[{"role":"user","content":"x"}],"think_mode":"auto","chat_template_kwargs":{"enable_thinking":true}})", limits());
  EXPECT_EQ(both.think_mode, format::PromptMode::automatic);
}

TEST(openai_schema, stop_accepts_string_or_list) {
  auto r = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stop":["a","","b"]})", limits());
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(chat_error(R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})").param, "stop[0]");
  EXPECT_EQ(chat_error(R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})").param, "stop");
}

TEST(openai_schema, invalid_json_is_400_invalid_json) {
  for (const char* body : {"{", "", "not json", "[1,2]", "\"x\""}) {
    auto e = chat_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.code, "invalid_json") << body;
    EXPECT_EQ(e.type, "invalid_request_error");
  }
}

TEST(openai_schema, wrong_types_name_the_field) {
  struct Case { const char* body; const char* param; };
  for (auto c : {Case{R"({"messages":"hi"})", "messages"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"max_tokens":"10"})", "max_tokens"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "temperature"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"seed":1.5})", "seed"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"n":2.0})", "n"},
                 Case{R"({"messages":[{"role":"user","content":42}]})", "messages[0].content"},
                 Case{R"({"messages":[{"role":7,"content":"x"}]})", "messages[0].role"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})", "stream_options.include_usage"},
                 Case{R"({"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"enable_thinking":"no"}})", "chat_template_kwargs.enable_thinking"}}) {
    auto e = chat_error(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_NE(e.message.find(c.param), std::string::npos) << e.message;
  }
}

TEST(openai_schema, bad_values_are_400) {
  for (const char* body : {R"({"messages":[]})", R"({})", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})",
                           R"({"messages":[{"role":"user","content":"x"}],"temperature":3})",
                           R"({"messages":[{"role":"user","content":"x"}],"top_p":0})",
                           R"({"messages":[{"role":"user","content":"x"}],"n":9})",
                           R"({"messages":[{"role":"user","content":"x"}],"think_mode":"maybe"})",
                           R"({"messages":[{"role":"user","content":"x"}],"thinking_budget":-1})",
                           R"({"messages":[{"role":"robot","content":"x"}]})",
                           R"({"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]})"}) {
    auto e = chat_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(openai_schema, api_errors_are_autothink_errors) {
  // One catch at a boundary sees them: the message is the API error's message.
  try {
    parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"think_mode":"maybe"})", limits());
    FAIL() << "no exception";
  } catch (const Error& e) {
    ASSERT_NE(dynamic_cast<const ApiException*>(&e), nullptr);
    EXPECT_EQ(e.message(), dynamic_cast<const ApiException&>(e).error().message);
    EXPECT_NE(e.message().find("think_mode"), std::string::npos) << e.what();
  }
}

TEST(openai_schema, unknown_model_is_404_model_not_found) {
  auto e = chat_error(R"({"model":"gpt-4","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.code, "model_not_found");
  EXPECT_NE(e.message.find("kat-tiny"), std::string::npos);
}

TEST(openai_schema, completion_prompt_string_or_list) {
  auto r = parse_completion_request(R"({"prompt":"<|im_start|>user\nhi<|im_end|>\n","max_tokens":5})", limits());
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_FALSE(r.skip_special_tokens);  // completions keep the tags unless asked
  auto l = parse_completion_request(R"({"prompt":["a","b"],"skip_special_tokens":true})", limits());
  EXPECT_EQ(l.prompts.size(), 2u);
  EXPECT_TRUE(l.skip_special_tokens);
  for (const char* body : {R"({})", R"({"prompt":""})", R"({"prompt":5})", R"({"prompt":["a",1]})"}) {
    try {
      parse_completion_request(body, limits());
      ADD_FAILURE() << "accepted " << body;
    } catch (const ApiException& e) {
      EXPECT_EQ(e.error().status, 400) << body;
    }
  }
}

TEST(openai_schema, error_json_has_openai_shape) {
  auto j = error_json(ApiError{429, "busy", "rate_limit_error", "server_overloaded", "", 1});
  ASSERT_TRUE(j.contains("error"));
  EXPECT_EQ(j["error"]["message"], "busy");
  EXPECT_EQ(j["error"]["type"], "rate_limit_error");
  EXPECT_EQ(j["error"]["code"], "server_overloaded");
  EXPECT_TRUE(j["error"]["param"].is_null());
}

TEST(openai_schema, derived_seeds_keep_the_first_and_differ) {
  EXPECT_EQ(derive_seed(42, 0), 42u);
  EXPECT_NE(derive_seed(42, 1), derive_seed(42, 2));
  EXPECT_NE(derive_seed(42, 1), 42u);
  EXPECT_EQ(derive_seed(42, 3), derive_seed(42, 3));
}
