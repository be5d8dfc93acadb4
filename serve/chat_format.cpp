// ChatFormat: choosing the template family and rendering requests with it.
#include "serve/chat_format.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"

namespace autothink::serve {
namespace fs = std::filesystem;

namespace {

// tokenizer_config.json's chat_template: a string, or a list of {"name", "template"} (the
// "default" one is used).
std::string config_template(const nlohmann::json& config, const std::string& where) {
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array())
    for (const auto& t : *it)
      if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string())
        return t["template"].get<std::string>();
  throw Error("chat_template is neither a string nor a list holding a \"default\" template", where,
              "pass --chat-template NAME (" + format::chat_template_names() + ")");
}

std::string config_token(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return "";
}

}  // namespace

ChatTemplateChoice choose_chat_template(const std::string& model_dir, const std::string& option) {
  ChatTemplateChoice choice;
  const fs::path config_path = fs::path(model_dir) / "tokenizer_config.json";
  nlohmann::json config = nlohmann::json::object();
  if (fs::exists(config_path)) {
    std::ifstream in(config_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      config = nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("tokenizer_config.json is not valid JSON: ") + e.what(), config_path.string());
    }
    choice.bos_token = config_token(config, "bos_token");
  }
  if (!option.empty()) {
    auto name = format::chat_template_from_string(option);
    if (!name)
      throw Error("unknown chat template \"" + option + "\"", "--chat-template",
                  "use one of " + format::chat_template_names());
    choice.family = *name;
    choice.source = "--chat-template";
    return choice;
  }
  // transformers >= 4.43 saves the template beside the config as chat_template.jinja.
  std::string jinja = config_template(config, config_path.string());
  std::string source = "tokenizer_config.json";
  const fs::path jinja_path = fs::path(model_dir) / "chat_template.jinja";
  if (jinja.empty() && fs::exists(jinja_path)) {
    std::ifstream in(jinja_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    jinja = ss.str();
    source = "chat_template.jinja";
  }
  if (jinja.empty()) {
    choice.source = "default: the folder has no chat template";
    return choice;
  }
  auto name = format::recognise_chat_template(jinja);
  if (!name)
    throw Error("the chat template in " + source + " is not one autothink renders", (fs::path(model_dir) / source).string(),
                "pass --chat-template NAME for the family it follows (" + format::chat_template_names() + ")");
  choice.family = *name;
  choice.source = source;
  return choice;
}

ChatFormat make_chat_format(const ChatTemplateChoice& choice, const data::Tokenizer& tokenizer,
                            const std::vector<int64_t>& eos_ids) {
  ChatFormat f;
  f.family = choice.family;
  f.bos_token = choice.bos_token;
  if (f.kat()) return f;
  f.stop_ids = eos_ids;
  for (const char* end : {"<|im_end|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"})
    if (auto id = tokenizer.token_id(end)) f.stop_ids.push_back(*id);
  f.think.end_of_turn = f.stop_ids;
  if (auto id = tokenizer.token_id("<think>")) f.think.think_open = *id;
  if (auto id = tokenizer.token_id("</think>")) f.think.think_close = *id;
  for (int id : tokenizer.encode_text("\n")) f.think.newline.push_back(id);
  return f;
}

ChatPrompt render_chat_prompt(const ChatFormat& f, const format::Conversation& conversation, format::PromptMode mode) {
  ChatPrompt p;
  if (f.kat()) {
    p.segments = format::render_prompt(conversation, mode);
    p.prefill = format::prompt_prefill(mode);
    return p;
  }
  format::ChatTemplateOptions options;
  options.bos_token = f.bos_token;
  if (mode != format::PromptMode::automatic) options.enable_thinking = mode == format::PromptMode::on;
  p.segments = format::render_chat(f.family, conversation, options);
  // What the generation prompt already wrote of the assistant turn (the templates' think switch).
  if (f.family == format::ChatTemplateName::qwen3 && mode == format::PromptMode::off) p.prefill = "<think>\n\n</think>\n\n";
  if (f.family == format::ChatTemplateName::deepseek_r1)
    p.prefill = mode == format::PromptMode::off ? "<think>\n</think>" : "<think>\n";
  return p;
}

}  // namespace autothink::serve
