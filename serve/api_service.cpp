// The OpenAI endpoints (see api_service.hpp). One RequestState per request; its callbacks run on the
// scheduler thread under the state's mutex, and the HTTP side only ever sees the Responder.
#include "serve/api_service.hpp"

#include <atomic>
#include <limits>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "core/log.hpp"
#include "serve/choice_output.hpp"
#include "serve/openai_schema.hpp"
#include "serve/thinking_budget.hpp"

namespace autothink::serve {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

enum class Endpoint { chat, completion };

struct ChoiceState {
  int index = 0;
  std::unique_ptr<ChatChoiceOutput> parsed;  // chat: the fields; completions: the reported think_mode
  Utf8Holdback raw;
  std::string text;  // completions: the returned text
  std::string finish_reason;
  int completion_tokens = 0, reasoning_tokens = 0;
  bool done = false;
};

struct RequestState {
  std::mutex mutex;
  Endpoint endpoint = Endpoint::chat;
  std::string label;  // metrics endpoint label
  std::string id, model;
  int64_t created = 0;
  bool stream = false, include_usage = false, skip_special = false;
  std::vector<ChoiceState> choices;
  int prompt_tokens = 0, finished = 0;
  std::shared_ptr<Responder> responder;
  Clock::time_point start;
  bool first_token = false;
  Metrics* metrics = nullptr;
  std::shared_ptr<const data::Tokenizer> tokenizer;
};

// One sequence to generate: its prompt ids and the assistant text the prompt already holds.
struct SequencePlan {
  std::vector<int64_t> prompt;
  std::string prefill;
};

std::string api_new_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%012llx%08llx", prefix, static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFFull),
                static_cast<unsigned long long>(++counter));
  return buf;
}

uint64_t api_random_seed() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

int64_t api_unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void api_send_json(Responder& r, Metrics& m, const std::string& label, int status, const json& body,
                   HttpHeaders headers = {}) {
  m.count_request(label, status);
  HttpResponse resp;
  resp.status = status;
  resp.body = dump_json(body);
  resp.headers = std::move(headers);
  r.send(std::move(resp));
}

void api_send_error(Responder& r, Metrics& m, const std::string& label, const ApiError& e) {
  HttpHeaders headers;
  if (e.retry_after_s > 0) headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  api_send_json(r, m, label, e.status, error_json(e), std::move(headers));
}

json api_usage(int prompt, int completion, int reasoning) {
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion},
          {"completion_tokens_details", {{"reasoning_tokens", reasoning}}}};
}

std::string api_finish_reason(const std::string& engine_reason) {
  return engine_reason == "cancelled" ? "abort" : engine_reason;
}

void api_emit(RequestState& st, const json& chunk) { st.responder->write("data: " + dump_json(chunk) + "\n\n"); }

json api_chunk(const RequestState& st, json choices) {
  return {{"id", st.id},
          {"object", st.endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
          {"created", st.created},
          {"model", st.model},
          {"choices", std::move(choices)}};
}

json api_chat_choice_chunk(int index, json delta, const std::string& finish_reason = "") {
  return {{"index", index},
          {"delta", std::move(delta)},
          {"logprobs", nullptr},
          {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
}

json api_text_choice_chunk(int index, const std::string& text, const std::string& finish_reason = "") {
  return {{"index", index},
          {"text", text},
          {"logprobs", nullptr},
          {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
}

// Everything after all choices finished: the whole reply, or the stream's tail.
void api_complete(RequestState& st) {
  int completion = 0, reasoning = 0;
  for (auto& c : st.choices) {
    completion += c.completion_tokens;
    reasoning += c.reasoning_tokens;
    if (st.endpoint == Endpoint::chat) st.metrics->count_think_mode(c.parsed->result().mode);
  }
  const json usage = api_usage(st.prompt_tokens, completion, reasoning);
  if (st.stream) {
    if (st.include_usage) {
      json chunk = api_chunk(st, json::array());
      chunk["usage"] = usage;
      api_emit(st, chunk);
    }
    st.responder->write("data: [DONE]\n\n");
    st.responder->end();
    return;
  }
  json choices = json::array();
  for (auto& c : st.choices) {
    const auto& result = c.parsed->result();
    if (st.endpoint == Endpoint::chat) {
      choices.push_back({{"index", c.index},
                         {"message",
                          {{"role", "assistant"},
                           {"content", result.answer},
                           {"reasoning_content", result.reasoning},
                           {"judge", result.judge},
                           {"think_mode", result.mode}}},
                         {"logprobs", nullptr},
                         {"finish_reason", c.finish_reason}});
    } else {
      choices.push_back({{"index", c.index},
                         {"text", c.text},
                         {"logprobs", nullptr},
                         {"finish_reason", c.finish_reason},
                         {"think_mode", result.mode},
                         {"completion_tokens", c.completion_tokens}});
    }
  }
  json body = {{"id", st.id},
               {"object", st.endpoint == Endpoint::chat ? "chat.completion" : "text_completion"},
               {"created", st.created},
               {"model", st.model},
               {"choices", std::move(choices)},
               {"usage", usage}};
  HttpResponse resp;
  resp.body = dump_json(body);
  st.responder->send(std::move(resp));
}

void api_on_token(RequestState& st, ChoiceState& c, int64_t token, const std::string& piece) {
  if (!st.first_token) {
    st.first_token = true;
    st.metrics->observe_ttft(std::chrono::duration<double>(Clock::now() - st.start).count());
  }
  if (st.endpoint == Endpoint::chat) {
    ChatDelta d = c.parsed->feed(piece);
    if (st.stream && !d.empty()) api_emit(st, api_chunk(st, json::array({api_chat_choice_chunk(c.index, d.to_json())})));
    return;
  }
  c.parsed->feed(piece);
  if (st.skip_special && st.tokenizer->is_special(static_cast<int>(token))) return;
  c.text += piece;
  if (st.stream) {
    std::string ready = c.raw.feed(piece);
    if (!ready.empty()) api_emit(st, api_chunk(st, json::array({api_text_choice_chunk(c.index, ready)})));
  }
}

void api_on_finish(RequestState& st, ChoiceState& c, const model::SequenceResult& result, const ThinkTokens& think,
                   bool prompt_in_think) {
  ReasoningCounter counter(think, prompt_in_think);
  for (int64_t t : result.tokens) counter.add(t);
  c.reasoning_tokens = counter.count();
  c.completion_tokens = static_cast<int>(result.tokens.size());
  c.finish_reason = api_finish_reason(result.finish_reason);
  c.done = true;
  ChatDelta tail = c.parsed->finish();
  if (st.stream) {
    if (st.endpoint == Endpoint::chat) {
      if (!tail.empty()) api_emit(st, api_chunk(st, json::array({api_chat_choice_chunk(c.index, tail.to_json())})));
      api_emit(st, api_chunk(st, json::array({api_chat_choice_chunk(c.index, json::object(), c.finish_reason)})));
    } else {
      api_emit(st, api_chunk(st, json::array({api_text_choice_chunk(c.index, c.raw.finish(), c.finish_reason)})));
    }
  }
  if (++st.finished == static_cast<int>(st.choices.size())) api_complete(st);
}

ThinkTokens api_think_tokens(const data::Tokenizer& tok) {
  ThinkTokens t;
  t.think_open = tok.special_id(format::Special::think_open);
  t.think_close = tok.special_id(format::Special::think_close);
  t.answer_open = tok.special_id(format::Special::answer_open);
  for (int id : tok.encode_text("\n")) t.newline.push_back(id);
  return t;
}

// The assistant part a raw prompt already holds: what follows its last "<|im_start|>assistant\n".
std::string api_raw_prefill(const std::string& prompt) {
  const std::string opener = std::string(format::literal(format::Special::im_start)) + "assistant\n";
  size_t at = prompt.rfind(opener);
  return at == std::string::npos ? std::string() : prompt.substr(at + opener.size());
}

}  // namespace

ApiService::ApiService(ServiceOptions options, std::shared_ptr<const data::Tokenizer> tokenizer, Scheduler& scheduler,
                       Metrics& metrics)
    : options_(std::move(options)), tokenizer_(std::move(tokenizer)), scheduler_(scheduler), metrics_(metrics),
      started_at_(api_unix_now()) {}

void ApiService::handle(HttpRequest request, std::shared_ptr<Responder> responder) {
  const std::string path = request.path();
  const bool post = request.method == "POST", get = request.method == "GET";
  std::string label = path;
  try {
    if (path == "/v1/chat/completions" && post) return chat_completions(request, responder);
    if (path == "/v1/completions" && post) return completions(request, responder);
    if (path == "/v1/models" && get) {
      json model = {{"id", options_.model_name},
                    {"object", "model"},
                    {"created", started_at_},
                    {"owned_by", "autothink"},
                    {"max_model_len", scheduler_.context_length()}};
      return api_send_json(*responder, metrics_, label, 200, {{"object", "list"}, {"data", json::array({model})}});
    }
    if (path == "/health" && get) {
      const bool draining = scheduler_.draining();
      return api_send_json(*responder, metrics_, label, draining ? 503 : 200,
                           {{"status", draining ? "draining" : "ok"},
                            {"model", options_.model_name},
                            {"active_sequences", metrics_.active_sequences()},
                            {"queue_depth", metrics_.queue_depth()}});
    }
    if (path == "/metrics" && get) {
      metrics_.count_request(label, 200);
      HttpResponse resp;
      resp.content_type = "text/plain; version=0.0.4";
      resp.body = metrics_.prometheus();
      return responder->send(std::move(resp));
    }
    const bool known = path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/models" ||
                       path == "/health" || path == "/metrics";
    if (known)
      throw ApiException(ApiError{405, "method " + request.method + " is not allowed on " + path, "invalid_request_error",
                                  "method_not_allowed", "", 0});
    label = "other";
    throw ApiException(ApiError{404, "no such endpoint: " + request.method + " " + path +
                                         " (try POST /v1/chat/completions, POST /v1/completions, GET /v1/models)",
                                "invalid_request_error", "not_found", "", 0});
  } catch (const ApiException& e) {
    api_send_error(*responder, metrics_, label, e.error());
  } catch (const format::TemplateError& e) {
    api_send_error(*responder, metrics_, label, invalid_request(e.what(), "messages").error());
  } catch (const std::exception& e) {
    log::error("serve: ", request.method, " ", path, " failed: ", e.what());
    api_send_error(*responder, metrics_, label,
                   ApiError{500, std::string("internal error: ") + e.what(), "server_error", "internal_error", "", 0});
  }
}

namespace {

// Validates lengths, builds the Job and submits it; answers errors itself.
void api_run(ApiService& service, const ServiceOptions& options, Scheduler& scheduler, Metrics& metrics,
             std::shared_ptr<const data::Tokenizer> tokenizer, Endpoint endpoint, const std::string& label,
             const GenerationRequest& req, std::vector<SequencePlan> plans,
             const std::shared_ptr<Responder>& responder) {
  (void)service;
  const int64_t context = scheduler.context_length();
  int max_tokens = req.max_tokens.value_or(options.default_max_tokens);
  for (auto& p : plans) {
    const int64_t n = static_cast<int64_t>(p.prompt.size());
    if (n >= context)
      throw invalid_request("the prompt has " + std::to_string(n) + " tokens; the model's context is " +
                                std::to_string(context) + " tokens",
                            endpoint == Endpoint::chat ? "messages" : "prompt", "context_length_exceeded");
    if (req.max_tokens && n + *req.max_tokens > context)
      throw invalid_request("max_tokens " + std::to_string(*req.max_tokens) + " plus the prompt's " + std::to_string(n) +
                                " tokens exceed the model's context of " + std::to_string(context) + " tokens",
                            "max_tokens", "context_length_exceeded");
    if (!req.max_tokens) max_tokens = static_cast<int>(std::min<int64_t>(max_tokens, context - n));
  }

  auto st = std::make_shared<RequestState>();
  st->endpoint = endpoint;
  st->label = label;
  st->id = api_new_id(endpoint == Endpoint::chat ? "chatcmpl" : "cmpl");
  st->model = options.model_name;
  st->created = api_unix_now();
  st->stream = req.stream;
  st->include_usage = req.include_usage;
  st->skip_special = endpoint == Endpoint::completion && req.skip_special_tokens;
  st->responder = responder;
  st->start = Clock::now();
  st->metrics = &metrics;
  st->tokenizer = tokenizer;
  const ThinkTokens think = api_think_tokens(*tokenizer);
  const uint64_t seed = req.seed.value_or(api_random_seed());

  Job job;
  std::vector<ChatDelta> first_deltas;
  st->choices.resize(plans.size() * req.n);
  for (size_t p = 0; p < plans.size(); ++p) {
    st->prompt_tokens += static_cast<int>(plans[p].prompt.size());
    const bool in_think = prompt_opens_think(plans[p].prompt, think);
    for (int j = 0; j < req.n; ++j) {
      const int index = static_cast<int>(p) * req.n + j;
      ChoiceState& c = st->choices[index];
      c.index = index;
      c.parsed = std::make_unique<ChatChoiceOutput>();
      first_deltas.push_back(c.parsed->feed(plans[p].prefill));

      model::SequenceRequest s;
      s.prompt = plans[p].prompt;
      s.sampling.temperature = static_cast<float>(req.temperature);
      s.sampling.top_p = static_cast<float>(req.top_p);
      s.sampling.top_k = req.top_k;
      s.seed = derive_seed(seed, index);
      s.max_tokens = max_tokens;
      s.stop_ids = {tokenizer->special_id(format::Special::im_end), tokenizer->special_id(format::Special::endoftext)};
      s.stop_strings = req.stop;
      // A model whose vocabulary is padded beyond the tokenizer's must never pick a padding id.
      const int64_t tok_vocab = tokenizer->vocab_size();
      s.logits_processors.push_back([tok_vocab](const model::SequenceView&, float* logits, int64_t vocab) {
        for (int64_t i = tok_vocab; i < vocab; ++i) logits[i] = -std::numeric_limits<float>::infinity();
      });
      if (req.thinking_budget > 0) s.logits_processors.push_back(make_thinking_budget(think, req.thinking_budget, in_think));
      s.on_token = [st, index](const model::SequenceView&, int64_t token, const std::string& piece) {
        std::lock_guard<std::mutex> lock(st->mutex);
        if (st->responder->closed()) return false;
        api_on_token(*st, st->choices[index], token, piece);
        return true;
      };
      s.on_finish = [st, index, think, in_think](const model::SequenceResult& result) {
        std::lock_guard<std::mutex> lock(st->mutex);
        api_on_finish(*st, st->choices[index], result, think, in_think);
      };
      job.sequences.push_back(std::move(s));
    }
  }
  job.on_error = [st, &metrics](const std::string& message) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->stream) {  // headers are out: report inside the stream
      api_emit(*st, error_json(ApiError{400, message, "invalid_request_error", "engine_refused", "", 0}));
      st->responder->write("data: [DONE]\n\n");
      st->responder->end();
    } else {
      api_send_error(*st->responder, metrics, st->label, invalid_request(message, "", "engine_refused").error());
    }
  };

  // Hold the state's lock across submit + stream start so no token can overtake the headers.
  std::lock_guard<std::mutex> lock(st->mutex);
  uint64_t job_id = 0;
  const Admission admission = scheduler.submit(std::move(job), &job_id);
  if (admission != Admission::accepted) {
    const bool busy = admission == Admission::overloaded;
    ApiError e{busy ? 429 : 503,
               busy ? "the server is at capacity (" + std::to_string(scheduler.capacity()) +
                          " sequences running or queued); retry shortly"
                    : "the server is shutting down",
               busy ? "rate_limit_error" : "server_error", busy ? "server_overloaded" : "server_shutting_down", "",
               options.retry_after_s};
    api_send_error(*responder, metrics, label, e);
    return;
  }
  metrics.count_request(label, 200);
  metrics.add_prompt_tokens(st->prompt_tokens);
  responder->on_close([&scheduler, job_id] { scheduler.cancel(job_id); });
  if (st->stream) {
    responder->start_stream(200, "text/event-stream");
    if (endpoint == Endpoint::chat) {
      for (auto& c : st->choices) {
        json delta = first_deltas[c.index].to_json();
        delta["role"] = "assistant";
        if (!delta.contains("content")) delta["content"] = "";
        api_emit(*st, api_chunk(*st, json::array({api_chat_choice_chunk(c.index, delta)})));
      }
    }
  }
}

}  // namespace

void ApiService::chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
  SchemaLimits limits{options_.model_name, options_.max_n, 16};
  ChatRequest req = parse_chat_request(request.body, limits);
  SequencePlan plan;
  for (int id : tokenizer_->encode(format::render_prompt(req.conversation, req.think_mode))) plan.prompt.push_back(id);
  plan.prefill = format::prompt_prefill(req.think_mode);
  api_run(*this, options_, scheduler_, metrics_, tokenizer_, Endpoint::chat, "/v1/chat/completions", req, {plan},
          responder);
}

void ApiService::completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
  SchemaLimits limits{options_.model_name, options_.max_n, 16};
  CompletionRequest req = parse_completion_request(request.body, limits);
  std::vector<SequencePlan> plans;
  for (const auto& prompt : req.prompts) {
    SequencePlan plan;
    for (int id : tokenizer_->encode_with_specials(prompt)) plan.prompt.push_back(id);
    plan.prefill = api_raw_prefill(prompt);
    plans.push_back(std::move(plan));
  }
  api_run(*this, options_, scheduler_, metrics_, tokenizer_, Endpoint::completion, "/v1/completions", req,
          std::move(plans), responder);
}

}  // namespace autothink::serve
