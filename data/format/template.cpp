// The KAT chat template (DESIGN.md §3): ChatML turns, the full think-on / think-off assistant turn,
// history turns reduced to their answers, and the three generation prompts.
#include "data/format/template.hpp"

#include <optional>

namespace autothink::format {
namespace {

// Appends segments, merging neighbouring text with the same assistant flag so the tokenizer sees
// whole strings (and the rendering stays easy to read in tests).
class SegmentWriter {
 public:
  void special(Special s, bool assistant) {
    Segment seg;
    seg.is_special = true;
    seg.special = s;
    seg.assistant = assistant;
    out_.push_back(std::move(seg));
  }
  void text(const std::string& t, bool assistant) {
    if (t.empty()) return;
    if (!out_.empty() && !out_.back().is_special && out_.back().assistant == assistant) {
      out_.back().text += t;
      return;
    }
    Segment seg;
    seg.text = t;
    seg.assistant = assistant;
    out_.push_back(std::move(seg));
  }
  std::vector<Segment> take() { return std::move(out_); }

 private:
  std::vector<Segment> out_;
};

void write_plain_turn(SegmentWriter& w, const std::string& role, const std::string& content) {
  w.special(Special::im_start, false);
  w.text(role + "\n" + content, false);
  w.special(Special::im_end, false);
  w.text("\n", false);
}

// "<judge>\n{judge}\n</judge>\n" then the mode token and what follows it up to the answer text.
void write_judge_and_mode(SegmentWriter& w, const std::string& judge, ThinkMode mode) {
  w.special(Special::judge_open, true);
  w.text("\n" + judge + "\n", true);
  w.special(Special::judge_close, true);
  w.text("\n", true);
  w.special(mode == ThinkMode::on ? Special::think_on : Special::think_off, true);
  w.text("\n", true);
}

// The assistant-written part of a full KAT turn, from <judge> to "<|im_end|>\n".
void write_full_assistant(SegmentWriter& w, const Message& m) {
  write_judge_and_mode(w, m.judge, m.mode);
  if (m.mode == ThinkMode::on) {
    w.special(Special::think_open, true);
    w.text("\n" + m.reasoning + "\n", true);
    w.special(Special::think_close, true);
    w.text("\n", true);
  }
  w.special(Special::answer_open, true);
  w.text("\n" + m.content + "\n", true);
  w.special(Special::answer_close, true);
  w.special(Special::im_end, true);
  w.text("\n", true);
}

// Renders every turn. With with_target, the last assistant turn is the training target
// (assistant=true) and renders in full when it has a mode; every other assistant turn is context,
// reduced to its answer.
void write_turns(SegmentWriter& w, const Conversation& c, bool with_target) {
  std::optional<size_t> last_assistant;
  for (size_t i = 0; with_target && i < c.messages.size(); ++i)
    if (c.messages[i].role == "assistant") last_assistant = i;
  for (size_t i = 0; i < c.messages.size(); ++i) {
    const Message& m = c.messages[i];
    if (m.role == "system" || m.role == "user") {
      write_plain_turn(w, m.role, m.content);
    } else if (m.role == "assistant") {
      const bool target = last_assistant && *last_assistant == i;
      w.special(Special::im_start, false);
      w.text("assistant\n", false);
      if (target && m.mode != ThinkMode::unknown) {
        write_full_assistant(w, m);
      } else {
        w.text(m.content, target);
        w.special(Special::im_end, target);
        w.text("\n", target);
      }
    } else {
      throw TemplateError("messages[" + std::to_string(i) + "].role: unknown role \"" + m.role +
                          "\" (expected system, user or assistant)");
    }
  }
}

// The opened assistant turn with `judge` and `mode` given: up to the answer text (off) or the
// reasoning (on).
void write_judged_prefill(SegmentWriter& w, const std::string& judge, ThinkMode mode) {
  write_judge_and_mode(w, judge, mode);
  w.special(mode == ThinkMode::on ? Special::think_open : Special::answer_open, true);
  w.text("\n", true);
}

void write_prefill(SegmentWriter& w, PromptMode mode) {
  switch (mode) {
    case PromptMode::automatic:
      w.special(Special::judge_open, true);
      w.text("\n", true);
      return;
    case PromptMode::on:
      write_judged_prefill(w, std::string(kForcedOnJudge), ThinkMode::on);
      return;
    case PromptMode::off:
      write_judged_prefill(w, std::string(kForcedOffJudge), ThinkMode::off);
      return;
  }
}

std::string where(size_t index, const char* field) {
  return "messages[" + std::to_string(index) + "]." + field;
}

// Reads an optional string field; a present field of another type is an error.
std::string string_field(const nlohmann::json& m, size_t index, const char* field, bool required) {
  auto it = m.find(field);
  if (it == m.end() || (it->is_null() && !required)) {
    if (required) throw TemplateError(where(index, field) + ": missing (every message needs a string \"" + field + "\")");
    return "";
  }
  if (!it->is_string())
    throw TemplateError(where(index, field) + ": expected a string, got " + std::string(it->type_name()));
  return it->get<std::string>();
}

}  // namespace

std::vector<Segment> render(const Conversation& conversation) {
  SegmentWriter w;
  write_turns(w, conversation, true);
  return w.take();
}

namespace {

// The conversation (which must end with a user turn) and the opened assistant turn's header.
void write_prompt_head(SegmentWriter& w, const Conversation& conversation) {
  if (conversation.messages.empty() || conversation.messages.back().role != "user")
    throw TemplateError("messages: a generation prompt needs a conversation that ends with a user turn (it has " +
                        std::to_string(conversation.messages.size()) + " messages, the last " +
                        (conversation.messages.empty() ? std::string("missing")
                                                       : "a " + conversation.messages.back().role + " turn") +
                        ")");
  write_turns(w, conversation, false);
  w.special(Special::im_start, false);
  w.text("assistant\n", false);
}

}  // namespace

std::vector<Segment> render_prompt(const Conversation& conversation, PromptMode mode) {
  SegmentWriter w;
  write_prompt_head(w, conversation);
  write_prefill(w, mode);
  return w.take();
}

std::vector<Segment> render_prefilled_prompt(const Conversation& conversation, const std::string& judge, ThinkMode mode) {
  if (mode == ThinkMode::unknown) throw TemplateError("a prefilled prompt needs mode on or off");
  SegmentWriter w;
  write_prompt_head(w, conversation);
  write_judged_prefill(w, judge, mode);
  return w.take();
}

std::string to_text(const std::vector<Segment>& segments) {
  std::string out;
  for (const Segment& s : segments) {
    if (s.is_special)
      out += literal(s.special);
    else
      out += s.text;
  }
  return out;
}

std::string prompt_prefill(PromptMode mode) {
  SegmentWriter w;
  write_prefill(w, mode);
  return to_text(w.take());
}

Conversation conversation_from_json(const nlohmann::json& record) {
  if (!record.is_object()) throw TemplateError("record: expected a JSON object with \"messages\", got " + std::string(record.type_name()));
  auto it = record.find("messages");
  if (it == record.end()) throw TemplateError("messages: missing (a chat record is {\"messages\":[...]})");
  if (!it->is_array()) throw TemplateError("messages: expected an array, got " + std::string(it->type_name()));
  Conversation c;
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& m = (*it)[i];
    if (!m.is_object())
      throw TemplateError("messages[" + std::to_string(i) + "]: expected an object, got " + std::string(m.type_name()));
    Message msg;
    msg.role = string_field(m, i, "role", true);
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
      throw TemplateError(where(i, "role") + ": unknown role \"" + msg.role + "\" (expected system, user or assistant)");
    msg.content = string_field(m, i, "content", true);
    const std::string judge = string_field(m, i, "judge", false);
    const std::string mode = string_field(m, i, "mode", false);
    const std::string reasoning = string_field(m, i, "reasoning", false);
    if (msg.role != "assistant") {
      for (const char* field : {"judge", "mode", "reasoning"})
        if (m.contains(field) && !m[field].is_null() && !m[field].get<std::string>().empty())
          throw TemplateError(where(i, field) + ": only assistant messages carry \"" + field + "\" (this is a " +
                              msg.role + " message)");
    }
    if (mode == "on" || mode == "off") msg.mode = *think_mode_from_string(mode);
    else if (!mode.empty())
      throw TemplateError(where(i, "mode") + ": unknown mode \"" + mode + "\" (expected \"on\", \"off\" or empty)");
    if (msg.mode != ThinkMode::on && !reasoning.empty())
      throw TemplateError(where(i, "reasoning") + ": only a think-on turn (\"mode\":\"on\") carries reasoning; "
                          "it would be dropped when rendering");
    msg.judge = judge;
    msg.reasoning = reasoning;
    c.messages.push_back(std::move(msg));
  }
  return c;
}

nlohmann::json conversation_to_json(const Conversation& conversation) {
  nlohmann::json messages = nlohmann::json::array();
  for (const Message& m : conversation.messages) {
    nlohmann::json j = {{"role", m.role}, {"content", m.content}};
    if (m.role == "assistant") {
      if (!m.judge.empty()) j["judge"] = m.judge;
      if (m.mode != ThinkMode::unknown) j["mode"] = to_string(m.mode);
      if (!m.reasoning.empty()) j["reasoning"] = m.reasoning;
    }
    messages.push_back(std::move(j));
  }
  return {{"messages", std::move(messages)}};
}

}  // namespace autothink::format
