// Parsing and validation of OpenAI request bodies (see openai_schema.hpp).
#include "serve/openai_schema.hpp"

#include <nlohmann/json.hpp>

namespace autothink::serve {
namespace {

using nlohmann::json;

const char* schema_type_name(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

ApiException schema_wrong_type(const std::string& param, const std::string& expected, const json& v) {
  return invalid_request("'" + param + "' must be " + expected + ", got " + schema_type_name(v), param, "invalid_type");
}

// The value of `key`, or nullptr when absent or null (OpenAI treats null as "not given").
const json* schema_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<bool> schema_bool(const json& obj, const char* key, const std::string& param) {
  const json* v = schema_field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw schema_wrong_type(param, "a boolean", *v);
  return v->get<bool>();
}

std::optional<double> schema_number(const json& obj, const char* key) {
  const json* v = schema_field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw schema_wrong_type(key, "a number", *v);
  return v->get<double>();
}

std::optional<int64_t> schema_int(const json& obj, const char* key) {
  const json* v = schema_field(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) {
    auto u = v->get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  }
  if (!v->is_number_integer()) throw schema_wrong_type(key, "an integer", *v);
  return v->get<int64_t>();
}

std::optional<std::string> schema_string(const json& obj, const char* key) {
  const json* v = schema_field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw schema_wrong_type(key, "a string", *v);
  return v->get<std::string>();
}

json schema_parse_object(std::string_view body) {
  json doc;
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    throw invalid_request(std::string("request body is not valid JSON: ") + e.what(), "", "invalid_json");
  }
  if (!doc.is_object())
    throw invalid_request(std::string("request body must be a JSON object, got ") + schema_type_name(doc), "",
                          "invalid_json");
  return doc;
}

std::vector<std::string> schema_string_or_list(const json& v, const std::string& param, size_t max_items) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        throw schema_wrong_type(param + "[" + std::to_string(i) + "]", "a string", v[i]);
      out.push_back(v[i].get<std::string>());
    }
  } else {
    throw schema_wrong_type(param, "a string or a list of strings", v);
  }
  if (out.size() > max_items)
    throw invalid_request("'" + param + "' has " + std::to_string(out.size()) + " items; at most " +
                              std::to_string(max_items) + " are allowed",
                          param);
  return out;
}

void parse_common(const json& doc, const SchemaLimits& limits, GenerationRequest& r) {
  if (auto model = schema_string(doc, "model")) {
    if (!model->empty() && *model != limits.model_name)
      throw ApiException(ApiError{404, "The model '" + *model + "' does not exist; this server serves '" +
                                           limits.model_name + "' (see GET /v1/models)",
                                  "invalid_request_error", "model_not_found", "model", 0});
    r.model = *model;
  }
  std::optional<int64_t> max_tokens = schema_int(doc, "max_completion_tokens");
  if (!max_tokens) max_tokens = schema_int(doc, "max_tokens");
  if (max_tokens) {
    if (*max_tokens < 1) throw invalid_request("'max_tokens' must be at least 1", "max_tokens");
    r.max_tokens = static_cast<int>(std::min<int64_t>(*max_tokens, INT32_MAX));
  }
  if (auto t = schema_number(doc, "temperature")) {
    if (*t < 0 || *t > 2) throw invalid_request("'temperature' must be between 0 and 2", "temperature");
    r.temperature = *t;
  }
  if (auto p = schema_number(doc, "top_p")) {
    if (*p <= 0 || *p > 1) throw invalid_request("'top_p' must be in (0, 1]", "top_p");
    r.top_p = *p;
  }
  if (auto k = schema_int(doc, "top_k")) {
    if (*k < -1) throw invalid_request("'top_k' must be -1 or 0 (off) or a positive integer", "top_k");
    r.top_k = *k <= 0 ? 0 : static_cast<int>(std::min<int64_t>(*k, INT32_MAX));
  }
  if (auto s = schema_int(doc, "seed")) r.seed = static_cast<uint64_t>(*s);
  if (const json* stop = schema_field(doc, "stop")) {
    for (auto& s : schema_string_or_list(*stop, "stop", static_cast<size_t>(limits.max_stop)))
      if (!s.empty()) r.stop.push_back(s);
  }
  if (auto n = schema_int(doc, "n")) {
    if (*n < 1 || *n > limits.max_n)
      throw invalid_request("'n' must be between 1 and " + std::to_string(limits.max_n), "n");
    r.n = static_cast<int>(*n);
  }
  if (auto s = schema_bool(doc, "stream", "stream")) r.stream = *s;
  if (const json* so = schema_field(doc, "stream_options")) {
    if (!so->is_object()) throw schema_wrong_type("stream_options", "an object", *so);
    if (auto u = schema_bool(*so, "include_usage", "stream_options.include_usage")) r.include_usage = *u;
  }
  if (const json* tb = schema_field(doc, "thinking_budget"); tb && tb->is_object()) {
    for (const auto& [key, value] : tb->items())
      if (key != "min" && key != "max")
        throw invalid_request("'thinking_budget' takes \"min\" and \"max\", not \"" + key + "\"", "thinking_budget." + key);
    auto min = schema_int(*tb, "min"), max = schema_int(*tb, "max");
    if ((min && *min < 0) || (max && *max < 0))
      throw invalid_request("'thinking_budget' min and max must be >= 0", "thinking_budget");
    if (min && max && *max > 0 && *min > *max)
      throw invalid_request("'thinking_budget.min' (" + std::to_string(*min) + ") exceeds 'thinking_budget.max' (" +
                                std::to_string(*max) + ")",
                            "thinking_budget.min");
    if (min) r.thinking_min = static_cast<int>(std::min<int64_t>(*min, INT32_MAX));
    if (max) r.thinking_budget = static_cast<int>(std::min<int64_t>(*max, INT32_MAX));
  } else if (auto b = schema_int(doc, "thinking_budget")) {
    if (*b < 0) throw invalid_request("'thinking_budget' must be >= 0 (0 = unlimited)", "thinking_budget");
    r.thinking_budget = static_cast<int>(std::min<int64_t>(*b, INT32_MAX));
  }
  if (auto s = schema_bool(doc, "skip_special_tokens", "skip_special_tokens")) r.skip_special_tokens = *s;
}

std::string message_content(const json& m, size_t i, const std::string& role) {
  const std::string param = "messages[" + std::to_string(i) + "].content";
  const json* c = schema_field(m, "content");
  if (!c) {
    if (role == "assistant") return "";
    throw invalid_request("'" + param + "' is missing", param);
  }
  if (c->is_string()) return c->get<std::string>();
  if (c->is_array()) {  // content parts: only text parts are understood
    std::string text;
    for (size_t p = 0; p < c->size(); ++p) {
      const json& part = (*c)[p];
      const std::string pp = param + "[" + std::to_string(p) + "]";
      if (!part.is_object()) throw schema_wrong_type(pp, "an object", part);
      auto type = schema_string(part, "type");
      if (!type || *type != "text")
        throw invalid_request("'" + pp + ".type' must be \"text\" (this model reads text only)", pp + ".type");
      auto t = schema_string(part, "text");
      if (!t) throw invalid_request("'" + pp + ".text' is missing", pp + ".text");
      text += *t;
    }
    return text;
  }
  throw schema_wrong_type(param, "a string or a list of content parts", *c);
}

format::Conversation parse_messages(const json& doc) {
  const json* msgs = schema_field(doc, "messages");
  if (!msgs) throw invalid_request("'messages' is required", "messages");
  if (!msgs->is_array()) throw schema_wrong_type("messages", "an array", *msgs);
  if (msgs->empty()) throw invalid_request("'messages' must not be empty", "messages");
  format::Conversation conv;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw schema_wrong_type(param, "an object", m);
    const json* role_v = schema_field(m, "role");
    if (!role_v) throw invalid_request("'" + param + ".role' is missing", param + ".role");
    if (!role_v->is_string()) throw schema_wrong_type(param + ".role", "a string", *role_v);
    std::string role = role_v->get<std::string>();
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant")
      throw invalid_request("'" + param + ".role' must be system, user or assistant, got \"" + role + "\"",
                            param + ".role");
    format::Message msg;
    msg.role = role;
    msg.content = message_content(m, i, role);
    conv.messages.push_back(std::move(msg));
  }
  if (conv.messages.back().role != "user")
    throw invalid_request("the last message must be a user message (the model answers it), got " +
                              conv.messages.back().role,
                          "messages");
  return conv;
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body, const SchemaLimits& limits) {
  json doc = schema_parse_object(body);
  ChatRequest r;
  parse_common(doc, limits, r);
  r.conversation = parse_messages(doc);
  if (const json* kw = schema_field(doc, "chat_template_kwargs")) {
    if (!kw->is_object()) throw schema_wrong_type("chat_template_kwargs", "an object", *kw);
    if (auto on = schema_bool(*kw, "enable_thinking", "chat_template_kwargs.enable_thinking"))
      r.think_mode = *on ? format::PromptMode::on : format::PromptMode::off;
  }
  if (auto mode = schema_string(doc, "think_mode")) {  // wins over chat_template_kwargs
    if (*mode == "adaptive") {  // optillm's AutoThink: forced thinking within a classified budget
      r.adaptive = true;
      r.think_mode = format::PromptMode::on;
    } else if (auto parsed = format::prompt_mode_from_string(*mode)) {
      r.think_mode = *parsed;
    } else {
      throw invalid_request("'think_mode' must be \"auto\", \"on\", \"off\" or \"adaptive\", got \"" + *mode + "\"",
                            "think_mode");
    }
  }
  return r;
}

CompletionRequest parse_completion_request(std::string_view body, const SchemaLimits& limits) {
  json doc = schema_parse_object(body);
  CompletionRequest r;
  r.skip_special_tokens = false;  // raw prompts are for trusted clients that want the tags back
  parse_common(doc, limits, r);
  const json* prompt = schema_field(doc, "prompt");
  if (!prompt) throw invalid_request("'prompt' is required", "prompt");
  r.prompts = schema_string_or_list(*prompt, "prompt", 64);
  if (r.prompts.empty()) throw invalid_request("'prompt' must not be empty", "prompt");
  for (size_t i = 0; i < r.prompts.size(); ++i)
    if (r.prompts[i].empty())
      throw invalid_request("'prompt' " + (r.prompts.size() > 1 ? "[" + std::to_string(i) + "] " : std::string()) +
                                "is an empty string",
                            "prompt");
  if (r.prompts.size() * static_cast<size_t>(r.n) > static_cast<size_t>(limits.max_n) * 4)
    throw invalid_request("too many sequences in one request (prompts x n = " +
                              std::to_string(r.prompts.size() * r.n) + ")",
                          "n");
  return r;
}

uint64_t derive_seed(uint64_t seed, uint64_t j) {
  if (j == 0) return seed;
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (j + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace autothink::serve
