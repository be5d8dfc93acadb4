#include "model/engine.hpp"

#include <algorithm>
#include <torch/torch.h>

#include "core/error.hpp"
#include "model/kv_cache.hpp"
#include "model/qwen2.hpp"
#include "model/steering.hpp"

namespace autothink::model {

namespace {
// Length of the longest suffix of `text` that is a proper prefix of a stop string.
size_t stop_prefix_suffix(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const auto& s : stops)
    for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), text.size()); n > best; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        best = n;
        break;
      }
  return best;
}
}  // namespace

struct Engine::Sequence {
  uint64_t id = 0;
  SequenceRequest request;
  std::vector<int64_t> generated;
  std::string text;
  std::mt19937_64 rng;
  std::deque<int64_t> forced;  // tokens a rewriter queued: appended without sampling
  int64_t slot = -1;
  int64_t length = 0;  // tokens whose k/v are in the cache
  size_t streamed = 0;  // bytes of text handed to on_token
  bool cancelled = false;
  bool done = false;
  std::string finish_reason;
  SequenceView view() const { return SequenceView{id, request.prompt, generated, text}; }
};

Engine::Engine(std::shared_ptr<Qwen2Model> model, EngineOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  if (!model_) throw Error("engine needs a model", "Engine");
  const auto& cfg = model_->config();
  vocab_ = cfg.vocab_size;
  if (options_.max_len <= 0) options_.max_len = cfg.max_position_embeddings;
  if (options_.max_len > cfg.max_position_embeddings)
    throw Error("engine context " + std::to_string(options_.max_len) + " exceeds the model's max_position_embeddings " +
                    std::to_string(cfg.max_position_embeddings),
                "EngineOptions.max_len");
  if (options_.max_batch < 1) throw Error("engine max_batch must be >= 1", "EngineOptions.max_batch");
  cache_ = std::make_unique<KVCache>(cfg, options_.max_batch, options_.max_len, model_->device(), model_->dtype());
  for (int64_t s = options_.max_batch - 1; s >= 0; --s) free_slots_.push_back(s);
}

Engine::~Engine() = default;

uint64_t Engine::add(SequenceRequest request) {
  validate(request.sampling);
  const auto n = static_cast<int64_t>(request.prompt.size());
  if (n == 0) throw Error("empty prompt", "Engine::add", "a prompt needs at least one token");
  if (n >= options_.max_len)
    throw Error("prompt of " + std::to_string(n) + " tokens leaves no room in a context of " +
                    std::to_string(options_.max_len),
                "Engine::add", "shorten the prompt or raise the context length");
  for (int64_t t : request.prompt)
    if (t < 0 || t >= vocab_)
      throw Error("prompt token id " + std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(vocab_) + ")",
                  "Engine::add");
  if (request.max_tokens < 1) throw Error("max_tokens must be >= 1", "Engine::add");
  if (!request.stop_strings.empty() && !options_.token_bytes)
    throw Error("stop strings need a detokenizer", "Engine::add", "construct the engine with token_bytes");
  auto seq = std::make_unique<Sequence>();
  seq->id = next_id_++;
  seq->rng.seed(request.seed);
  seq->request = std::move(request);
  uint64_t id = seq->id;
  waiting_.push_back(std::move(seq));
  return id;
}

void Engine::cancel(uint64_t id) {
  if (auto it = active_.find(id); it != active_.end()) it->second->cancelled = true;
  for (auto& seq : waiting_)
    if (seq->id == id) seq->cancelled = true;
}

bool Engine::step() {
  torch::NoGradGuard no_grad;
  // Cancelled sequences leave before any compute is spent on them.
  for (auto& [id, seq] : active_)
    if (seq->cancelled) finish(*seq, "cancelled");
  for (auto& seq : waiting_)
    if (seq->cancelled && !seq->done) finish(*seq, "cancelled");
  release_finished();
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [](const auto& s) { return s->done; }),
                 waiting_.end());

  decode_active();
  admit_and_prefill();
  release_finished();
  ++stats_.steps;
  return !idle();
}

void Engine::admit_and_prefill() {
  std::vector<Sequence*> batch;
  int64_t tokens = 0;
  while (!waiting_.empty() && !free_slots_.empty()) {
    auto& next = waiting_.front();
    const auto n = static_cast<int64_t>(next->request.prompt.size());
    if (!batch.empty() && tokens + n > options_.prefill_tokens) break;
    next->slot = free_slots_.back();
    free_slots_.pop_back();
    tokens += n;
    Sequence* seq = next.get();
    active_.emplace(seq->id, std::move(next));
    waiting_.pop_front();
    batch.push_back(seq);
  }
  if (batch.empty()) return;

  // Right-padded prompts; padding has position -1 so the model neither writes nor reads it.
  int64_t longest = 0;
  for (auto* s : batch) longest = std::max<int64_t>(longest, s->request.prompt.size());
  const auto B = static_cast<int64_t>(batch.size());
  auto ids = torch::zeros({B, longest}, torch::kLong);
  auto pos = torch::full({B, longest}, -1, torch::kLong);
  auto slots = torch::empty({B}, torch::kLong);
  auto last = torch::empty({B}, torch::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = batch[b]->request.prompt;
    const auto n = static_cast<int64_t>(p.size());
    std::copy(p.begin(), p.end(), ids[b].data_ptr<int64_t>());
    auto* pp = pos[b].data_ptr<int64_t>();
    for (int64_t t = 0; t < n; ++t) pp[t] = t;
    slots[b] = batch[b]->slot;
    last[b] = n - 1;
    batch[b]->length = n;
    stats_.prompt_tokens += n;
  }
  auto device = cache_->device();
  std::vector<int64_t> cols(B);
  for (int64_t b = 0; b < B; ++b) cols[b] = static_cast<int64_t>(batch[b]->request.prompt.size()) - 1;
  ResidualHooks hooks;
  steering_hooks(batch, cols, hooks);
  auto hidden = model_->forward_cached(ids.to(device), pos.to(device), slots.to(device), *cache_,
                                       hooks.add_layers.empty() ? nullptr : &hooks);
  auto last_hidden = hidden.index({torch::arange(B, torch::kLong).to(device), last.to(device)});  // [B,H]
  auto logits = model_->logits(last_hidden.unsqueeze(1)).squeeze(1).to(torch::kFloat).cpu().contiguous();
  for (int64_t b = 0; b < B; ++b) advance(*batch[b], logits[b].data_ptr<float>());
}

void Engine::decode_active() {
  std::vector<Sequence*> batch;
  for (auto& [id, seq] : active_)
    if (!seq->done && !seq->generated.empty()) batch.push_back(seq.get());
  if (batch.empty()) return;
  const auto B = static_cast<int64_t>(batch.size());
  auto ids = torch::empty({B, 1}, torch::kLong);
  auto pos = torch::empty({B, 1}, torch::kLong);
  auto slots = torch::empty({B}, torch::kLong);
  for (int64_t b = 0; b < B; ++b) {
    ids[b][0] = batch[b]->generated.back();
    pos[b][0] = batch[b]->length;
    slots[b] = batch[b]->slot;
    batch[b]->length += 1;
  }
  auto device = cache_->device();
  ResidualHooks hooks;
  steering_hooks(batch, std::vector<int64_t>(B, 0), hooks);
  auto hidden = model_->forward_cached(ids.to(device), pos.to(device), slots.to(device), *cache_,
                                       hooks.add_layers.empty() ? nullptr : &hooks);
  auto logits = model_->logits(hidden).squeeze(1).to(torch::kFloat).cpu().contiguous();
  for (int64_t b = 0; b < B; ++b) advance(*batch[b], logits[b].data_ptr<float>());
}

void Engine::steering_hooks(const std::vector<Sequence*>& batch, const std::vector<int64_t>& cols, ResidualHooks& hooks) {
  std::vector<const SteeringVector*> picked;
  for (size_t b = 0; b < batch.size(); ++b) {
    const auto& steer = batch[b]->request.steer;
    if (!steer) continue;
    const SteeringVector* v = steer(batch[b]->view());  // every row's matcher sees its context
    if (!v || (options_.steer_last_row_only && b + 1 != batch.size())) continue;
    AUTOTHINK_CHECK(static_cast<int64_t>(v->delta.size()) == model_->config().hidden_size,
                    "a steering vector's size differs from the model's hidden size");
    hooks.add_layers.push_back(v->layer);
    hooks.add_rows.push_back(static_cast<int64_t>(b));
    hooks.add_cols.push_back(cols[b]);
    picked.push_back(v);
  }
  if (picked.empty()) return;
  auto deltas = torch::empty({static_cast<int64_t>(picked.size()), model_->config().hidden_size}, torch::kFloat);
  for (size_t i = 0; i < picked.size(); ++i)
    std::copy(picked[i]->delta.begin(), picked[i]->delta.end(), deltas[static_cast<int64_t>(i)].data_ptr<float>());
  hooks.add_deltas = deltas;
}

void Engine::advance(Sequence& seq, float* logits) {
  const auto& req = seq.request;
  int64_t token = -1;
  if (!seq.forced.empty()) {
    token = seq.forced.front();
    seq.forced.pop_front();
  } else {
    for (const auto& processor : req.logits_processors) processor(seq.view(), logits, vocab_);
    token = sample_token(logits, vocab_, req.sampling, req.prompt, seq.generated, seq.rng);
    if (req.rewrite) {
      auto replacement = req.rewrite(seq.view(), token);
      if (!replacement.empty()) {
        token = replacement.front();
        seq.forced.assign(replacement.begin() + 1, replacement.end());
      }
    }
  }
  AUTOTHINK_CHECK(token >= 0 && token < vocab_, "a token rewriter returned id " + std::to_string(token) + " outside the vocabulary");
  seq.generated.push_back(token);
  ++stats_.generated_tokens;

  const bool is_stop_token = std::find(req.stop_ids.begin(), req.stop_ids.end(), token) != req.stop_ids.end();
  std::string piece;
  if (options_.token_bytes && !is_stop_token) {
    const size_t before = seq.text.size();
    seq.text += options_.token_bytes(token);
    // A stop string may straddle tokens: search from where a match could start.
    size_t longest = 0;
    for (const auto& s : req.stop_strings) longest = std::max(longest, s.size());
    size_t from = before >= longest ? before - longest + 1 : 0;
    size_t cut = std::string::npos;
    for (const auto& s : req.stop_strings) {
      if (s.empty()) continue;
      size_t at = seq.text.find(s, from);
      if (at != std::string::npos) cut = std::min(cut, at);
    }
    if (cut != std::string::npos) {
      seq.text.resize(cut);
      piece = seq.text.substr(std::min(seq.streamed, seq.text.size()));
      seq.streamed = seq.text.size();
      if (req.on_token && !piece.empty()) req.on_token(seq.view(), token, piece);
      finish(seq, "stop");
      return;
    }
    // Stream all but a tail that may still turn out to be the start of a stop string.
    const size_t hold = stop_prefix_suffix(seq.text, req.stop_strings);
    const size_t ready = seq.text.size() - hold;
    if (ready > seq.streamed) {
      piece = seq.text.substr(seq.streamed, ready - seq.streamed);
      seq.streamed = ready;
    }
  }
  if (req.on_token && !req.on_token(seq.view(), token, piece)) {
    finish(seq, "cancelled");
    return;
  }
  std::string reason;
  if (is_stop_token)
    reason = "stop";
  else if (static_cast<int>(seq.generated.size()) >= req.max_tokens)
    reason = "length";
  else if (seq.length + 1 > options_.max_len)  // the next decode would write position `length`
    reason = "length";
  if (reason.empty()) return;
  // Release the held-back tail: no stop string can complete any more.
  if (req.on_token && seq.streamed < seq.text.size()) {
    req.on_token(seq.view(), token, seq.text.substr(seq.streamed));
    seq.streamed = seq.text.size();
  }
  finish(seq, reason);
}

void Engine::finish(Sequence& seq, const std::string& reason) {
  if (seq.done) return;
  seq.done = true;
  seq.finish_reason = reason;
  SequenceResult result;
  result.id = seq.id;
  result.tokens = seq.generated;
  result.text = seq.text;
  result.finish_reason = reason;
  result.prompt_tokens = static_cast<int>(seq.request.prompt.size());
  if (seq.request.on_finish)
    seq.request.on_finish(result);
  else
    finished_.push_back(std::move(result));
}

void Engine::release_finished() {
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->second->done) {
      free_slots_.push_back(it->second->slot);
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<SequenceResult> Engine::take_finished() {
  std::vector<SequenceResult> out;
  out.swap(finished_);
  return out;
}

std::vector<SequenceResult> Engine::generate(std::vector<SequenceRequest> requests) {
  std::vector<uint64_t> ids;
  ids.reserve(requests.size());
  for (auto& r : requests) ids.push_back(add(std::move(r)));
  while (step()) {
  }
  auto results = take_finished();
  std::map<uint64_t, SequenceResult> by_id;
  for (auto& r : results) by_id.emplace(r.id, std::move(r));
  std::vector<SequenceResult> ordered;
  ordered.reserve(ids.size());
  for (auto id : ids) {
    auto it = by_id.find(id);
    AUTOTHINK_CHECK(it != by_id.end(), "sequence " + std::to_string(id) + " has no result");
    ordered.push_back(std::move(it->second));
  }
  return ordered;
}

}  // namespace autothink::model
