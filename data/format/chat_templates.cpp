// Native renderers of the families' published templates (no tools). Each follows its Jinja
// source line by line; where a branch is named below it is the template's own condition.
#include "data/format/chat_templates.hpp"

namespace autothink::format {
namespace {

constexpr std::string_view kQwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

class Writer {
 public:
  void markup(std::string_view text) { append(text, true); }
  void text(std::string_view text) { append(text, false); }
  std::vector<Segment> take() { return std::move(segments_); }

 private:
  void append(std::string_view text, bool raw) {
    if (text.empty()) return;
    if (!segments_.empty() && segments_.back().raw == raw && !segments_.back().is_special) {
      segments_.back().text += text;
      return;
    }
    Segment s;
    s.text = std::string(text);
    s.raw = raw;
    segments_.push_back(std::move(s));
  }
  std::vector<Segment> segments_;
};

// "<|im_start|>{role}\n{content}<|im_end|>\n": a ChatML turn, markup around plain content.
void chatml_turn(Writer& w, const std::string& role, std::string_view content) {
  w.markup("<|im_start|>" + role + "\n");
  w.text(content);
  w.markup("<|im_end|>\n");
}

// Python's str.strip / lstrip / rstrip with a character set.
std::string_view lstrip(std::string_view s, std::string_view chars) {
  const size_t i = s.find_first_not_of(chars);
  return i == std::string_view::npos ? std::string_view() : s.substr(i);
}
std::string_view rstrip(std::string_view s, std::string_view chars) {
  const size_t i = s.find_last_not_of(chars);
  return i == std::string_view::npos ? std::string_view() : s.substr(0, i + 1);
}
std::string_view strip(std::string_view s, std::string_view chars) { return rstrip(lstrip(s, chars), chars); }
// s.split(sep)[-1] and s.split(sep)[0]
std::string_view after_last(std::string_view s, std::string_view sep) {
  const size_t i = s.rfind(sep);
  return i == std::string_view::npos ? s : s.substr(i + sep.size());
}
std::string_view before_first(std::string_view s, std::string_view sep) { return s.substr(0, s.find(sep)); }

void check_roles(const Conversation& c, ChatTemplateName name) {
  for (size_t i = 0; i < c.messages.size(); ++i) {
    const std::string& role = c.messages[i].role;
    if (role != "system" && role != "user" && role != "assistant")
      throw TemplateError("messages[" + std::to_string(i) + "].role: \"" + role + "\" is not rendered by the " +
                          std::string(to_string(name)) + " template here (system, user and assistant are)");
  }
}

// Qwen2.5-Instruct: ChatML with a default system turn.
std::vector<Segment> render_qwen2_5(const Conversation& c, const ChatTemplateOptions& o) {
  Writer w;
  const auto& m = c.messages;
  const bool system_first = !m.empty() && m[0].role == "system";
  chatml_turn(w, "system", system_first ? std::string_view(m[0].content) : kQwenDefaultSystem);
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i].role == "system" && i == 0) continue;  // (message.role == "system" and not loop.first)
    chatml_turn(w, m[i].role, m[i].content);
  }
  if (o.add_generation_prompt) w.markup("<|im_start|>assistant\n");
  return w.take();
}

// Qwen3: reasoning of assistant turns after the last user query is kept in <think>; earlier
// turns lose it; enable_thinking=false prefills an empty think.
std::vector<Segment> render_qwen3(const Conversation& c, const ChatTemplateOptions& o) {
  Writer w;
  const auto& m = c.messages;
  if (!m.empty() && m[0].role == "system") chatml_turn(w, "system", m[0].content);
  size_t last_query = m.empty() ? 0 : m.size() - 1;
  for (size_t k = m.size(); k-- > 0;)
    if (m[k].role == "user") {
      last_query = k;
      break;
    }
  for (size_t i = 0; i < m.size(); ++i) {
    const Message& msg = m[i];
    if (msg.role == "user" || (msg.role == "system" && i != 0)) {
      chatml_turn(w, msg.role, msg.content);
    } else if (msg.role == "assistant") {
      std::string_view content = msg.content;
      std::string_view reasoning = msg.reasoning;  // reasoning_content, when given
      if (msg.reasoning.empty() && content.find("</think>") != std::string_view::npos) {
        reasoning = lstrip(after_last(rstrip(before_first(content, "</think>"), "\n"), "<think>"), "\n");
        content = lstrip(after_last(content, "</think>"), "\n");
      }
      const bool last = i + 1 == m.size();
      if (i > last_query && (last || !reasoning.empty())) {
        w.markup("<|im_start|>assistant\n<think>\n");
        w.text(strip(reasoning, "\n"));
        w.markup("\n</think>\n\n");
        w.text(lstrip(content, "\n"));
      } else {
        w.markup("<|im_start|>assistant\n");
        w.text(content);
      }
      w.markup("<|im_end|>\n");
    }
  }
  if (o.add_generation_prompt) {
    w.markup("<|im_start|>assistant\n");
    if (o.enable_thinking == false) w.markup("<think>\n\n</think>\n\n");
  }
  return w.take();
}

// DeepSeek-R1 (the Distill models' template): system text after BOS, reasoning dropped from
// history, the answer opened with "<think>\n" (and closed at once when thinking is off).
std::vector<Segment> render_deepseek_r1(const Conversation& c, const ChatTemplateOptions& o) {
  Writer w;
  std::string_view system;
  for (const Message& msg : c.messages)
    if (msg.role == "system") system = msg.content;  // the last system message wins
  w.markup(o.bos_token);
  w.text(system);
  for (const Message& msg : c.messages) {
    if (msg.role == "user") {
      w.markup("<｜User｜>");
      w.text(msg.content);
    } else if (msg.role == "assistant") {
      w.markup("<｜Assistant｜>");
      w.text(after_last(msg.content, "</think>"));
      w.markup("<｜end▁of▁sentence｜>");
    }
  }
  if (o.add_generation_prompt) {
    w.markup("<｜Assistant｜><think>\n");
    if (o.enable_thinking == false) w.markup("</think>");
  }
  return w.take();
}

}  // namespace

std::string_view to_string(ChatTemplateName name) {
  switch (name) {
    case ChatTemplateName::kat: return "kat";
    case ChatTemplateName::qwen2_5: return "qwen2.5";
    case ChatTemplateName::qwen3: return "qwen3";
    case ChatTemplateName::deepseek_r1: return "deepseek-r1";
  }
  return "kat";
}

std::optional<ChatTemplateName> chat_template_from_string(std::string_view name) {
  for (auto n : {ChatTemplateName::kat, ChatTemplateName::qwen2_5, ChatTemplateName::qwen3, ChatTemplateName::deepseek_r1})
    if (to_string(n) == name) return n;
  return std::nullopt;
}

std::string chat_template_names() { return "kat, qwen2.5, qwen3, deepseek-r1"; }

std::optional<ChatTemplateName> recognise_chat_template(std::string_view jinja) {
  auto has = [&](std::string_view s) { return jinja.find(s) != std::string_view::npos; };
  if (has("<judge>") && has("<think_on>")) return ChatTemplateName::kat;
  if (has("<｜User｜>") && has("<｜Assistant｜>") && has("</think>")) return ChatTemplateName::deepseek_r1;
  if (has("<|im_start|>") && has("reasoning_content") && has("<think>")) return ChatTemplateName::qwen3;
  if (has("<|im_start|>") && has(kQwenDefaultSystem)) return ChatTemplateName::qwen2_5;
  return std::nullopt;
}

std::vector<Segment> render_chat(ChatTemplateName name, const Conversation& conversation,
                                 const ChatTemplateOptions& options) {
  check_roles(conversation, name);
  switch (name) {
    case ChatTemplateName::kat: {
      if (!options.add_generation_prompt) return render(conversation);
      const PromptMode mode = !options.enable_thinking ? PromptMode::automatic
                              : *options.enable_thinking ? PromptMode::on
                                                         : PromptMode::off;
      return render_prompt(conversation, mode);
    }
    case ChatTemplateName::qwen2_5: return render_qwen2_5(conversation, options);
    case ChatTemplateName::qwen3: return render_qwen3(conversation, options);
    case ChatTemplateName::deepseek_r1: return render_deepseek_r1(conversation, options);
  }
  return {};
}

}  // namespace autothink::format
