// Beast (synchronous) implementation of serve::OpenAIClient.
#include "serve/openai_client.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "data/format/template.hpp"
#include "serve/openai_schema.hpp"

namespace autothink::serve {

namespace cnet = boost::asio;
namespace cbeast = boost::beast;
namespace chttp = cbeast::http;

OpenAIClient::OpenAIClient(OpenAIClientOptions options) : options_(std::move(options)) {
  std::string url = options_.base_url;
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    throw Error("https is not supported by the built-in client", "base_url " + url, "use http:// (e.g. behind a local proxy)");
  if (url.rfind(scheme, 0) != 0)
    throw Error("base_url must start with http://", "base_url " + url, "e.g. http://127.0.0.1:8000");
  url = url.substr(scheme.size());
  size_t slash = url.find('/');
  std::string hostport = url.substr(0, slash);
  base_path_ = slash == std::string::npos ? "" : url.substr(slash);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  if (base_path_.size() >= 3 && base_path_.compare(base_path_.size() - 3, 3, "/v1") == 0)
    base_path_.resize(base_path_.size() - 3);
  size_t colon = hostport.rfind(':');
  host_ = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  if (host_.empty()) throw Error("base_url has no host", "base_url " + options_.base_url);
  if (options_.concurrency < 1) options_.concurrency = 1;
  if (options_.api != "completions" && options_.api != "chat")
    throw Error("unknown api \"" + options_.api + "\"", "OpenAIClient", "use completions or chat");
}

namespace {

// The chat request of one input: the conversation's messages and its think_mode.
nlohmann::json client_chat_body(const data::GenerationInput& input) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : input.conversation.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  return {{"messages", messages}, {"think_mode", format::to_string(input.mode)}};
}

// The KAT text of a chat choice (after the prompt's "<|im_start|>assistant\n"), rebuilt with the
// one template from the fields the server parsed; a choice without a mode keeps just its answer.
std::string client_chat_text(const nlohmann::json& message) {
  auto field = [&](const char* key) {
    return message.contains(key) && message[key].is_string() ? message[key].get<std::string>() : std::string();
  };
  const format::ThinkMode mode = format::think_mode_from_string(field("think_mode")).value_or(format::ThinkMode::unknown);
  format::Conversation turn;
  turn.messages.push_back({"assistant", field("content"), field("judge"), mode, field("reasoning_content")});
  std::string text;
  bool opened = false;  // skip "<|im_start|>assistant\n": the parser reads the turn's body
  for (const auto& segment : format::render(turn)) {
    if (!segment.assistant) continue;
    if (!opened && !segment.is_special && segment.text == "\n") continue;
    opened = true;
    text += segment.is_special ? std::string(format::literal(segment.special)) : segment.text;
    if (segment.is_special && segment.special == format::Special::im_end) break;  // as a completion ends
  }
  return text;
}

}  // namespace

std::string OpenAIClient::request(const std::string& method, const std::string& path, const std::string& body) const {
  const std::string url = "http://" + host_ + ":" + port_ + base_path_ + path;
  cnet::io_context ioc;
  cnet::ip::tcp::resolver resolver(ioc);
  cbeast::tcp_stream stream(ioc);
  cbeast::error_code ec;
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) throw Error("cannot resolve " + host_ + ": " + ec.message(), url);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(endpoints, ec);
  if (ec)
    throw Error("cannot connect to " + url + ": " + ec.message(), "OpenAIClient",
                "is the server running? start one with `autothink serve --model DIR` or fix the base URL");
  chttp::request<chttp::string_body> req{chttp::string_to_verb(method), base_path_ + path, 11};
  req.set(chttp::field::host, host_ + ":" + port_);
  req.set(chttp::field::user_agent, "autothink-openai-client");
  if (!options_.api_key.empty()) req.set(chttp::field::authorization, "Bearer " + options_.api_key);
  if (!body.empty()) {
    req.set(chttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  stream.expires_after(std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_s * 1000)));
  chttp::write(stream, req, ec);
  if (ec) throw Error("sending the request to " + url + " failed: " + ec.message(), "OpenAIClient");
  cbeast::flat_buffer buffer;
  chttp::response_parser<chttp::string_body> parser;
  parser.body_limit(1ull << 30);
  chttp::read(stream, buffer, parser, ec);
  if (ec) throw Error("reading the answer of " + url + " failed: " + ec.message(), "OpenAIClient");
  auto& res = parser.get();
  cbeast::error_code ignored;
  stream.socket().shutdown(cnet::ip::tcp::socket::shutdown_both, ignored);
  if (res.result_int() != 200) {
    std::string text = res.body();
    if (text.size() > 2000) text = text.substr(0, 2000) + "...";
    throw Error("server answered HTTP " + std::to_string(res.result_int()) + ": " + text, method + " " + url);
  }
  return res.body();
}

std::vector<std::vector<data::Completion>> OpenAIClient::generate(const std::vector<data::GenerationInput>& inputs,
                                                                  const data::GenerationParams& params) {
  std::vector<std::vector<data::Completion>> out(inputs.size());
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    for (;;) {
      const size_t i = next++;
      if (i >= inputs.size()) return;
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (error) return;
      }
      try {
        const auto& input = inputs[i];
        const bool chat = options_.api == "chat";
        nlohmann::json body = chat ? client_chat_body(input)
                                   : nlohmann::json{{"prompt", format::to_text(format::render_prompt(input.conversation, input.mode))},
                                                    {"skip_special_tokens", false}};
        body.update({{"max_tokens", params.max_tokens},
                     {"temperature", params.temperature},
                     {"top_p", params.top_p},
                     {"seed", derive_seed(params.seed, i * 1000003ull)},
                     {"n", params.n},
                     {"stream", false}});
        if (input.budget) {  // the server's thinking_budget {min, max}; steering only exists in-process
          if (input.budget->steer)
            throw Error("steering vectors apply in-process only", "OpenAIClient", "evaluate with --model DIR");
          nlohmann::json budget = {{"min", input.budget->min}};
          if (input.budget->max > 0) budget["max"] = input.budget->max;
          body["thinking_budget"] = budget;
        }
        if (params.top_k > 0) body["top_k"] = params.top_k;
        if (!params.stop.empty()) body["stop"] = params.stop;
        if (!options_.model.empty()) body["model"] = options_.model;
        const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
        const std::string url = base_path_ + path;
        nlohmann::json reply;
        const std::string text = request("POST", path, body.dump());
        try {
          reply = nlohmann::json::parse(text);
        } catch (const std::exception& e) {
          throw Error(std::string("the server's answer is not JSON: ") + e.what(), "POST " + url);
        }
        const auto& choices = reply.at("choices");
        std::vector<data::Completion> completions(params.n);
        const int total_tokens = reply.contains("usage") ? reply["usage"].value("completion_tokens", 0) : 0;
        for (const auto& c : choices) {
          const int index = c.value("index", 0);
          if (index < 0 || index >= params.n) throw Error("choice index " + std::to_string(index) + " out of range", "POST " + url);
          auto& comp = completions[index];
          if (chat) {
            comp.text = client_chat_text(c.at("message"));  // the whole turn: its judge too
          } else {
            comp.prefill = format::prompt_prefill(input.mode);
            comp.text = c.value("text", "");
          }
          comp.finish_reason = c.contains("finish_reason") && c["finish_reason"].is_string() ? c["finish_reason"].get<std::string>() : "";
          // Our server reports tokens per choice; elsewhere share the total out.
          comp.completion_tokens = c.contains("completion_tokens") ? c["completion_tokens"].get<int>()
                                                                   : total_tokens / std::max(1, params.n);
        }
        out[i] = std::move(completions);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  const int threads = std::min<int>(options_.concurrency, static_cast<int>(inputs.size()));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace autothink::serve
