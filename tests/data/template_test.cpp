// The KAT chat template: byte-exact turns, history reduction, prompts, the assistant mask, JSON.
#include <gtest/gtest.h>

#include "data/format/template.hpp"

namespace autothink::format {
namespace {

Message user(const std::string& text) { return Message{"user", text, "", ThinkMode::unknown, ""}; }
Message assistant(const std::string& answer, const std::string& judge, ThinkMode mode, const std::string& reasoning = "") {
  return Message{"assistant", answer, judge, mode, reasoning};
}

// The text of the segments with the given assistant flag, in order.
std::string text_where(const std::vector<Segment>& segments, bool assistant) {
  std::string out;
  for (const Segment& s : segments)
    if (s.assistant == assistant) out += s.is_special ? std::string(literal(s.special)) : s.text;
  return out;
}

TEST(template, think_on_turn_byte_exact) {
  Conversation c{{user("What is 6*7?"), assistant("42", "Needs a multiplication.", ThinkMode::on, "6*7 = 42.")}};
  EXPECT_EQ(to_text(render(c)),
            "<|im_start|>user\nWhat is 6*7?<|im_end|>\n"
            "<|im_start|>assistant\n<judge>\nNeeds a multiplication.\n</judge>\n<think_on>\n<think>\n6*7 = 42.\n"
            "</think>\n<answer>\n42\n</answer><|im_end|>\n");
}

TEST(template, think_off_turn_byte_exact) {
  Conversation c{{user("Say hi"), assistant("Hi!", "Trivial.", ThinkMode::off)}};
  EXPECT_EQ(to_text(render(c)),
            "<|im_start|>user\nSay hi<|im_end|>\n"
            "<|im_start|>assistant\n<judge>\nTrivial.\n</judge>\n<think_off>\n<answer>\nHi!\n</answer><|im_end|>\n");
}

TEST(template, assistant_mask_covers_the_written_part_and_final_newline) {
  Conversation c{{user("q"), assistant("a", "j", ThinkMode::off)}};
  auto segments = render(c);
  EXPECT_EQ(text_where(segments, true), "<judge>\nj\n</judge>\n<think_off>\n<answer>\na\n</answer><|im_end|>\n");
  EXPECT_EQ(text_where(segments, false), "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n");
}

TEST(template, special_tokens_are_their_own_segments) {
  Conversation c{{user("I typed <think_off> myself"), assistant("a", "j", ThinkMode::off)}};
  auto segments = render(c);
  int specials = 0;
  for (const Segment& s : segments) {
    if (s.is_special) ++specials;
    else EXPECT_EQ(s.text.find("<think_off>") != std::string::npos, s.text.find("typed") != std::string::npos);
  }
  // im_start, im_end (user); im_start, judge, /judge, think_off, answer, /answer, im_end (assistant)
  EXPECT_EQ(specials, 9);
}

TEST(template, history_assistant_turns_reduce_to_answers) {
  Conversation c{{user("first"), assistant("one", "judge one", ThinkMode::on, "thinking one"), user("second"),
                  assistant("two", "judge two", ThinkMode::off)}};
  auto segments = render(c);
  EXPECT_EQ(to_text(segments),
            "<|im_start|>user\nfirst<|im_end|>\n"
            "<|im_start|>assistant\none<|im_end|>\n"
            "<|im_start|>user\nsecond<|im_end|>\n"
            "<|im_start|>assistant\n<judge>\njudge two\n</judge>\n<think_off>\n<answer>\ntwo\n</answer><|im_end|>\n");
  // Only the last assistant turn is a training target.
  EXPECT_EQ(text_where(segments, true), "<judge>\njudge two\n</judge>\n<think_off>\n<answer>\ntwo\n</answer><|im_end|>\n");
}

TEST(template, assistant_turn_without_mode_renders_answer_only) {
  Conversation c{{user("q"), assistant("plain", "", ThinkMode::unknown)}};
  auto segments = render(c);
  EXPECT_EQ(to_text(segments), "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nplain<|im_end|>\n");
  EXPECT_EQ(text_where(segments, true), "plain<|im_end|>\n");
}

TEST(template, system_turn_only_when_given) {
  Conversation with{{Message{"system", "Be brief.", "", ThinkMode::unknown, ""}, user("q")}};
  EXPECT_EQ(to_text(render(with)), "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nq<|im_end|>\n");
  Conversation without{{user("q")}};
  EXPECT_EQ(to_text(render(without)), "<|im_start|>user\nq<|im_end|>\n");
}

TEST(template, generation_prompts_byte_exact) {
  Conversation c{{user("q")}};
  const std::string head = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(to_text(render_prompt(c, PromptMode::automatic)), head + "<judge>\n");
  EXPECT_EQ(to_text(render_prompt(c, PromptMode::on)),
            head + "<judge>\nThinking was requested.\n</judge>\n<think_on>\n<think>\n");
  EXPECT_EQ(to_text(render_prompt(c, PromptMode::off)),
            head + "<judge>\nA direct answer was requested.\n</judge>\n<think_off>\n<answer>\n");
}

TEST(template, prefilled_prompt_takes_any_judge_and_is_the_forced_prompt_with_the_fixed_one) {
  Conversation c{{user("q")}};
  const std::string head = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(to_text(render_prefilled_prompt(c, "direct", ThinkMode::off)),
            head + "<judge>\ndirect\n</judge>\n<think_off>\n<answer>\n");
  EXPECT_EQ(to_text(render_prefilled_prompt(c, "Thinking", ThinkMode::on)),
            head + "<judge>\nThinking\n</judge>\n<think_on>\n<think>\n");
  EXPECT_EQ(to_text(render_prefilled_prompt(c, std::string(kForcedOffJudge), ThinkMode::off)),
            to_text(render_prompt(c, PromptMode::off)));
  EXPECT_EQ(to_text(render_prefilled_prompt(c, std::string(kForcedOnJudge), ThinkMode::on)),
            to_text(render_prompt(c, PromptMode::on)));
  EXPECT_THROW(render_prefilled_prompt(c, "x", ThinkMode::unknown), TemplateError);
  EXPECT_THROW(render_prefilled_prompt(Conversation{}, "x", ThinkMode::off), TemplateError);
}

TEST(template, prompt_prefill_is_the_assistant_part_of_the_prompt) {
  Conversation c{{user("q")}};
  for (PromptMode mode : {PromptMode::automatic, PromptMode::on, PromptMode::off}) {
    auto segments = render_prompt(c, mode);
    EXPECT_EQ(text_where(segments, true), prompt_prefill(mode));
    EXPECT_EQ(text_where(segments, false), "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n");
  }
  EXPECT_EQ(prompt_prefill(PromptMode::automatic), "<judge>\n");
}

TEST(template, prompt_after_history_reduces_it) {
  Conversation c{{user("a"), assistant("x", "j", ThinkMode::on, "r"), user("b")}};
  EXPECT_EQ(to_text(render_prompt(c, PromptMode::automatic)),
            "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nx<|im_end|>\n"
            "<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\n<judge>\n");
}

TEST(template, prompt_needs_a_final_user_turn) {
  Conversation ends_with_assistant{{user("q"), assistant("a", "j", ThinkMode::off)}};
  EXPECT_THROW(render_prompt(ends_with_assistant, PromptMode::automatic), TemplateError);
  EXPECT_THROW(render_prompt(Conversation{}, PromptMode::automatic), TemplateError);
}

TEST(template, unknown_role_names_the_message) {
  Conversation c{{user("q"), Message{"bot", "x", "", ThinkMode::unknown, ""}}};
  try {
    render(c);
    FAIL() << "expected TemplateError";
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("messages[1].role"), std::string::npos) << e.what();
  }
}

TEST(template, json_round_trip) {
  auto record = nlohmann::json::parse(R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"},
      {"role":"assistant","content":"42","judge":"j","mode":"on","reasoning":"r"}],"meta":{"id":"x"}})");
  Conversation c = conversation_from_json(record);
  ASSERT_EQ(c.messages.size(), 3u);
  EXPECT_EQ(c.messages[2].mode, ThinkMode::on);
  EXPECT_EQ(c.messages[2].reasoning, "r");
  EXPECT_EQ(c.messages[2].judge, "j");
  auto back = conversation_to_json(c);
  EXPECT_EQ(back["messages"], record["messages"]);
  EXPECT_EQ(to_text(render(conversation_from_json(back))), to_text(render(c)));
}

// Expects conversation_from_json to throw a TemplateError whose message contains `field`.
void expect_json_error(const std::string& json, const std::string& field) {
  try {
    conversation_from_json(nlohmann::json::parse(json));
    ADD_FAILURE() << "expected TemplateError for " << json;
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << "message: " << e.what();
  }
}

TEST(template, json_errors_name_field_and_index) {
  expect_json_error(R"([1,2])", "record");
  expect_json_error(R"({"meta":{}})", "messages");
  expect_json_error(R"({"messages":{}})", "messages");
  expect_json_error(R"({"messages":[{"role":"user","content":"q"}, 3]})", "messages[1]");
  expect_json_error(R"({"messages":[{"content":"q"}]})", "messages[0].role");
  expect_json_error(R"({"messages":[{"role":"user","content":"q"},{"role":"robot","content":"a"}]})", "messages[1].role");
  expect_json_error(R"({"messages":[{"role":"user","content":5}]})", "messages[0].content");
  expect_json_error(R"({"messages":[{"role":"user"}]})", "messages[0].content");
  expect_json_error(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","mode":"maybe"}]})",
                    "messages[1].mode");
  expect_json_error(R"({"messages":[{"role":"assistant","content":"a","mode":"off","reasoning":"r"}]})",
                    "messages[0].reasoning");
  expect_json_error(R"({"messages":[{"role":"user","content":"q","judge":"j"}]})", "messages[0].judge");
  expect_json_error(R"({"messages":[{"role":"assistant","content":"a","judge":7}]})", "messages[0].judge");
}

TEST(template, mode_strings) {
  EXPECT_EQ(think_mode_from_string("on"), ThinkMode::on);
  EXPECT_EQ(think_mode_from_string("off"), ThinkMode::off);
  EXPECT_EQ(think_mode_from_string("unknown"), ThinkMode::unknown);
  EXPECT_EQ(think_mode_from_string("ON"), std::nullopt);
  EXPECT_EQ(to_string(ThinkMode::off), "off");
  EXPECT_EQ(to_string(ThinkMode::unknown), "unknown");
  EXPECT_EQ(prompt_mode_from_string("auto"), PromptMode::automatic);
  EXPECT_EQ(prompt_mode_from_string("on"), PromptMode::on);
  EXPECT_EQ(prompt_mode_from_string("off"), PromptMode::off);
  EXPECT_EQ(prompt_mode_from_string("thinking"), std::nullopt);
  EXPECT_EQ(to_string(PromptMode::automatic), "auto");
  EXPECT_EQ(forced_mode(PromptMode::on), ThinkMode::on);
  EXPECT_EQ(forced_mode(PromptMode::automatic), ThinkMode::unknown);
}

TEST(template, template_errors_are_autothink_errors) {
  EXPECT_THROW(conversation_from_json(nlohmann::json::parse(R"({"messages":[{"role":"bot","content":"x"}]})")),
               autothink::Error);
}

TEST(template, record_mode_field_is_on_off_or_absent) {
  EXPECT_EQ(conversation_from_json(nlohmann::json::parse(
                R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]})"))
                .messages[1].mode,
            ThinkMode::unknown);
  expect_json_error(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","mode":"unknown"}]})",
                    "messages[1].mode");
}

}  // namespace
}  // namespace autothink::format
