// The run of one request (see request_run.hpp). One RequestRun per request, shared by its
// sequences' callbacks; they run on the scheduler thread under its mutex, and the HTTP side only
// ever sees the Responder.
#include "serve/request_run.hpp"

#include <chrono>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "serve/choice_output.hpp"
#include "serve/openai_response.hpp"
#include "model/think_budget.hpp"

namespace autothink::serve {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* endpoint_label(Endpoint endpoint) {
  return endpoint == Endpoint::chat ? "/v1/chat/completions" : "/v1/completions";
}

struct ChoiceState {
  int index = 0;
  std::unique_ptr<ChatChoiceOutput> parsed;  // chat: the fields; completions: the reported think_mode
  Utf8Holdback raw;
  std::string text;  // completions: the returned text
  std::string finish_reason;
  int completion_tokens = 0, reasoning_tokens = 0;
  // think_mode "adaptive": the decision, what the budget did, the steering matcher (if any).
  std::optional<AutoThinkDecision> autothink;
  std::shared_ptr<model::ThinkBudgetReport> budget;
  std::shared_ptr<model::SteeringMatcher> matcher;
};

// choices[i].message.autothink (and the stream's delta.autothink): the decision when it is made,
// the thoughts and the steering pattern when the choice ends.
json autothink_decided_json(const AutoThinkDecision& d) {
  return {{"complexity", data::complexity_name(d.complexity.label)},
          {"complexity_score", d.complexity.score},
          {"classifier", d.complexity.classifier},
          {"min", d.budget.min},
          {"max", d.budget.max}};
}
json autothink_outcome_json(const ChoiceState& c) {
  const auto* steered = c.matcher ? c.matcher->active() : nullptr;
  return {{"thoughts", c.budget ? c.budget->thoughts : 0},
          {"steering_pattern", steered ? json(steered->pattern) : json(nullptr)}};
}

class RequestRun {
 public:
  RequestRun(const ServiceContext& context, Endpoint endpoint, const GenerationRequest& request,
             std::shared_ptr<Responder> responder)
      : context_(context),
        endpoint_(endpoint),
        id_(new_response_id(endpoint == Endpoint::chat ? "chatcmpl" : "cmpl")),
        created_(unix_now()),
        stream_(request.stream),
        include_usage_(request.include_usage),
        skip_special_(endpoint == Endpoint::completion && request.skip_special_tokens),
        responder_(std::move(responder)),
        start_(Clock::now()) {}

  std::mutex mutex;  // held by every callback below
  std::vector<ChoiceState> choices;
  int prompt_tokens = 0;

  bool client_gone() const { return responder_->closed(); }
  void on_token(ChoiceState& c, int64_t token, const std::string& piece);
  void on_finish(ChoiceState& c, const model::SequenceResult& result, const ThinkTokens& think, bool prompt_in_think);
  void on_engine_error(const std::string& message);
  // After the scheduler took the job: headers, and for chat a first chunk per choice (role and
  // whatever the prefill already held).
  void start(const std::vector<ChatDelta>& first_deltas);

 private:
  void emit(const json& chunk) { responder_->write(sse_event(chunk)); }
  json chunk(json choices) const {
    return chunk_envelope(id_, endpoint_ == Endpoint::chat ? "chat.completion.chunk" : "text_completion", created_,
                          context_.options.model_name, std::move(choices));
  }
  void complete();
  json whole_reply(const json& usage) const;

  const ServiceContext& context_;
  const Endpoint endpoint_;
  const std::string id_;
  const int64_t created_;
  const bool stream_, include_usage_, skip_special_;
  const std::shared_ptr<Responder> responder_;
  const Clock::time_point start_;
  bool first_token_ = false;
  int finished_ = 0;
};

void RequestRun::on_token(ChoiceState& c, int64_t token, const std::string& piece) {
  if (!first_token_) {
    first_token_ = true;
    context_.metrics.observe_ttft(std::chrono::duration<double>(Clock::now() - start_).count());
  }
  if (endpoint_ == Endpoint::chat) {
    ChatDelta d = c.parsed->feed(piece);
    if (stream_ && !d.empty()) emit(chunk(json::array({chat_choice_chunk(c.index, d.to_json())})));
    return;
  }
  c.parsed->feed(piece);
  if (skip_special_ && context_.tokenizer->is_special(static_cast<int>(token))) return;
  c.text += piece;
  if (stream_) {
    std::string ready = c.raw.feed(piece);
    if (!ready.empty()) emit(chunk(json::array({text_choice_chunk(c.index, ready)})));
  }
}

void RequestRun::on_finish(ChoiceState& c, const model::SequenceResult& result, const ThinkTokens& think,
                           bool prompt_in_think) {
  model::ReasoningCounter counter(think, prompt_in_think);
  for (int64_t t : result.tokens) counter.add(t);
  c.reasoning_tokens = counter.count();
  c.completion_tokens = static_cast<int>(result.tokens.size());
  c.finish_reason = finish_reason_name(result.finish_reason);
  ChatDelta tail = c.parsed->finish();
  if (stream_) {
    if (endpoint_ == Endpoint::chat) {
      if (!tail.empty()) emit(chunk(json::array({chat_choice_chunk(c.index, tail.to_json())})));
      emit(chunk(json::array({chat_choice_chunk(
          c.index, c.autothink ? json{{"autothink", autothink_outcome_json(c)}} : json::object(), c.finish_reason)})));
    } else {
      emit(chunk(json::array({text_choice_chunk(c.index, c.raw.finish(), c.finish_reason)})));
    }
  }
  if (++finished_ == static_cast<int>(choices.size())) complete();
}

void RequestRun::on_engine_error(const std::string& message) {
  if (stream_) {  // headers are out: report inside the stream
    emit(error_json(ApiError{400, message, "invalid_request_error", "engine_refused", "", 0}));
    responder_->write(std::string(kSseDone));
    responder_->end();
  } else {
    send_error(*responder_, context_.metrics, endpoint_label(endpoint_),
               invalid_request(message, "", "engine_refused").error());
  }
}

void RequestRun::start(const std::vector<ChatDelta>& first_deltas) {
  if (!stream_) return;
  responder_->start_stream(200, "text/event-stream");
  if (endpoint_ != Endpoint::chat) return;
  for (auto& c : choices) {
    json delta = first_deltas[c.index].to_json();
    delta["role"] = "assistant";
    if (!delta.contains("content")) delta["content"] = "";
    if (c.autothink) delta["autothink"] = autothink_decided_json(*c.autothink);
    emit(chunk(json::array({chat_choice_chunk(c.index, delta)})));
  }
}

// Everything after all choices finished: the whole reply, or the stream's tail.
void RequestRun::complete() {
  int completion = 0, reasoning = 0;
  for (auto& c : choices) {
    completion += c.completion_tokens;
    reasoning += c.reasoning_tokens;
    if (endpoint_ == Endpoint::chat) context_.metrics.count_think_mode(c.parsed->result().mode);
  }
  const json usage = usage_json(prompt_tokens, completion, reasoning);
  if (stream_) {
    if (include_usage_) {
      json last = chunk(json::array());
      last["usage"] = usage;
      emit(last);
    }
    responder_->write(std::string(kSseDone));
    responder_->end();
    return;
  }
  HttpResponse resp;
  resp.body = dump_json(whole_reply(usage));
  responder_->send(std::move(resp));
}

json RequestRun::whole_reply(const json& usage) const {
  json out = json::array();
  for (auto& c : choices) {
    const auto& result = c.parsed->result();
    if (endpoint_ == Endpoint::chat) {
      json message = {{"role", "assistant"},
                      {"content", result.answer},
                      {"reasoning_content", result.reasoning},
                      {"judge", result.judge},
                      {"think_mode", to_string(result.mode)}};
      if (c.autothink) {
        json at = autothink_decided_json(*c.autothink);
        at.update(autothink_outcome_json(c));
        message["autothink"] = std::move(at);
      }
      out.push_back({{"index", c.index}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", c.finish_reason}});
    } else {
      out.push_back({{"index", c.index},
                     {"text", c.text},
                     {"logprobs", nullptr},
                     {"finish_reason", c.finish_reason},
                     {"think_mode", to_string(result.mode)},
                     {"completion_tokens", c.completion_tokens}});
    }
  }
  return {{"id", id_},
          {"object", endpoint_ == Endpoint::chat ? "chat.completion" : "text_completion"},
          {"created", created_},
          {"model", context_.options.model_name},
          {"choices", std::move(out)},
          {"usage", usage}};
}

// max_tokens for every sequence: the request's, else the default capped by the context each prompt
// leaves. Throws when a prompt (or prompt + max_tokens) does not fit.
int checked_max_tokens(const ServiceContext& context, Endpoint endpoint, const GenerationRequest& req,
                       const std::vector<SequencePlan>& plans) {
  const int64_t window = context.scheduler.context_length();
  int max_tokens = req.max_tokens.value_or(context.options.default_max_tokens);
  for (const auto& p : plans) {
    const int64_t n = static_cast<int64_t>(p.prompt.size());
    if (n >= window)
      throw invalid_request("the prompt has " + std::to_string(n) + " tokens; the model's context is " +
                                std::to_string(window) + " tokens",
                            endpoint == Endpoint::chat ? "messages" : "prompt", "context_length_exceeded");
    if (req.max_tokens && n + *req.max_tokens > window)
      throw invalid_request("max_tokens " + std::to_string(*req.max_tokens) + " plus the prompt's " + std::to_string(n) +
                                " tokens exceed the model's context of " + std::to_string(window) + " tokens",
                            "max_tokens", "context_length_exceeded");
    if (!req.max_tokens) max_tokens = static_cast<int>(std::min<int64_t>(max_tokens, window - n));
  }
  return max_tokens;
}

uint64_t random_seed() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

// Choice `index`'s engine sequence: sampling, stops, logits processors, and callbacks into `run`.
// The think budget of a choice: an adaptive plan's classified range (with max_thoughts), else the
// request's thinking_budget {min, max}. Inactive (no rewriter) when neither sets anything.
model::ThinkBudgetSpec budget_spec(const SequencePlan& plan, const GenerationRequest& req, const AutoThinkOptions& options,
                                   const data::Tokenizer& tokenizer) {
  model::ThinkBudgetSpec spec;
  if (plan.autothink) {
    spec.min = plan.autothink->budget.min;
    spec.max = plan.autothink->budget.max;
    spec.max_thoughts = options.max_thoughts;
  } else {
    spec.min = req.thinking_min;
    if (req.thinking_budget > 0) spec.max = req.thinking_budget;
  }
  if (spec.min > 0) spec.cues = model::encode_cues(tokenizer, options.cues);
  return spec;
}

model::SequenceRequest make_sequence(const std::shared_ptr<RequestRun>& run, int index, const SequencePlan& plan,
                                     const GenerationRequest& req, const ServiceContext& context, int max_tokens,
                                     uint64_t seed, const ThinkTokens& think, bool in_think,
                                     const std::vector<int64_t>& stop_ids) {
  const data::Tokenizer& tokenizer = *context.tokenizer;
  model::SequenceRequest s;
  s.prompt = plan.prompt;
  s.sampling.temperature = static_cast<float>(req.temperature);
  s.sampling.top_p = static_cast<float>(req.top_p);
  s.sampling.top_k = req.top_k;
  s.seed = derive_seed(seed, index);
  s.max_tokens = max_tokens;
  s.stop_ids = stop_ids;
  s.stop_strings = req.stop;
  // A model whose vocabulary is padded beyond the tokenizer's must never pick a padding id.
  const int64_t tok_vocab = tokenizer.vocab_size();
  s.logits_processors.push_back([tok_vocab](const model::SequenceView&, float* logits, int64_t vocab) {
    for (int64_t i = tok_vocab; i < vocab; ++i) logits[i] = -std::numeric_limits<float>::infinity();
  });
  ChoiceState& choice = run->choices[index];
  choice.autothink = plan.autothink;
  const model::ThinkBudgetSpec spec = budget_spec(plan, req, context.options.autothink, tokenizer);
  if (spec.active()) {
    choice.budget = std::make_shared<model::ThinkBudgetReport>();
    s.rewrite = model::make_think_budget(think, spec, in_think, s.seed, choice.budget);
  }
  if (plan.autothink && context.options.autothink.steering) {
    auto matcher = context.options.autothink.steering->matcher();
    choice.matcher = matcher;
    s.steer = [matcher](const model::SequenceView& view) { return matcher->update(view); };
  }
  s.on_token = [run, index](const model::SequenceView&, int64_t token, const std::string& piece) {
    std::lock_guard<std::mutex> lock(run->mutex);
    if (run->client_gone()) return false;
    run->on_token(run->choices[index], token, piece);
    return true;
  };
  s.on_finish = [run, index, think, in_think](const model::SequenceResult& result) {
    std::lock_guard<std::mutex> lock(run->mutex);
    run->on_finish(run->choices[index], result, think, in_think);
  };
  return s;
}

ApiError refusal(Admission admission, const ServiceContext& context) {
  const bool busy = admission == Admission::overloaded;
  return ApiError{busy ? 429 : 503,
                  busy ? "the server is at capacity (" + std::to_string(context.scheduler.capacity()) +
                             " sequences running or queued); retry shortly"
                       : "the server is shutting down",
                  busy ? "rate_limit_error" : "server_error", busy ? "server_overloaded" : "server_shutting_down", "",
                  context.options.retry_after_s};
}

}  // namespace

void run_request(const ServiceContext& context, Endpoint endpoint, const GenerationRequest& request,
                 const std::vector<SequencePlan>& plans, const std::shared_ptr<Responder>& responder) {
  const int max_tokens = checked_max_tokens(context, endpoint, request, plans);
  auto run = std::make_shared<RequestRun>(context, endpoint, request, responder);
  const uint64_t seed = request.seed.value_or(random_seed());
  const std::vector<int64_t> stop_ids =
      context.options.chat.kat() ? std::vector<int64_t>{context.tokenizer->special_id(format::Special::im_end),
                                                        context.tokenizer->special_id(format::Special::endoftext)}
                                 : context.options.chat.stop_ids;
  ThinkTokens think = context.options.chat.kat() ? model::kat_think_tokens(*context.tokenizer) : context.options.chat.think;
  think.end_of_turn = stop_ids;

  Job job;
  std::vector<ChatDelta> first_deltas;
  run->choices.resize(plans.size() * request.n);
  for (size_t p = 0; p < plans.size(); ++p) {
    run->prompt_tokens += static_cast<int>(plans[p].prompt.size());
    const bool in_think = model::prompt_opens_think(plans[p].prompt, think);
    for (int j = 0; j < request.n; ++j) {
      const int index = static_cast<int>(p) * request.n + j;
      ChoiceState& c = run->choices[index];
      c.index = index;
      c.parsed = std::make_unique<ChatChoiceOutput>(context.options.chat.kat() ? OutputFormat::kat : OutputFormat::think_tags);
      first_deltas.push_back(c.parsed->feed(plans[p].prefill));
      job.sequences.push_back(
          make_sequence(run, index, plans[p], request, context, max_tokens, seed, think, in_think, stop_ids));
    }
  }
  job.on_error = [run](const std::string& message) {
    std::lock_guard<std::mutex> lock(run->mutex);
    run->on_engine_error(message);
  };

  // Hold the run's lock across submit + stream start so no token can overtake the headers.
  std::lock_guard<std::mutex> lock(run->mutex);
  uint64_t job_id = 0;
  const Admission admission = context.scheduler.submit(std::move(job), &job_id);
  const std::string label = endpoint_label(endpoint);
  if (admission != Admission::accepted) return send_error(*responder, context.metrics, label, refusal(admission, context));
  context.metrics.count_request(label, 200);
  context.metrics.add_prompt_tokens(run->prompt_tokens);
  Scheduler& scheduler = context.scheduler;
  responder->on_close([&scheduler, job_id] { scheduler.cancel(job_id); });
  run->start(first_deltas);
}

}  // namespace autothink::serve
