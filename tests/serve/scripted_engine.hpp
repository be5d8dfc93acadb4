// A scripted stand-in for model::Engine behind serve::EngineBackend: it "generates" a fixed KAT
// continuation of whatever assistant part the prompt holds (auto, forced on, forced off, or none),
// the answer depending on the seed, one token per step for every active sequence (continuous
// batching with max_batch slots). Logits processors act on its logits, so forcing (thinking budget)
// works as with the real engine. Lets the serving layer be tested without model weights.
#pragma once
#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "data/tokenizer.hpp"
#include "serve/engine_backend.hpp"
#include "model/think_budget.hpp"

namespace autothink::serve::testing {

inline const char* kScriptReasoning = "Let me think about this step by step, adding the two numbers carefully.";
inline std::string scripted_answer(uint64_t seed) { return "The answer is " + std::to_string(seed % 1000) + "."; }

class ScriptedEngine : public EngineBackend {
 public:
  ScriptedEngine(const data::Tokenizer& tok, int64_t max_batch, int64_t context,
                 std::chrono::milliseconds step_delay = std::chrono::milliseconds(0))
      : tok_(tok), max_batch_(max_batch), context_(context), delay_(step_delay) {}

  uint64_t add(model::SequenceRequest request) override {
    if (static_cast<int64_t>(request.prompt.size()) >= context_) throw Error("prompt too long", "ScriptedEngine::add");
    auto seq = std::make_unique<Seq>();
    seq->id = next_id_++;
    seq->script = script_for(request.prompt, request.seed);
    seq->request = std::move(request);
    const uint64_t id = seq->id;
    waiting_.push_back(std::move(seq));
    return id;
  }
  void cancel(uint64_t id) override { cancelled_.push_back(id); }
  bool step() override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    for (uint64_t id : cancelled_) {
      for (auto& s : waiting_)
        if (s->id == id) finish(*s, "cancelled");
      if (auto it = active_.find(id); it != active_.end()) finish(*it->second, "cancelled");
    }
    cancelled_.clear();
    sweep();
    while (!waiting_.empty() && static_cast<int64_t>(active_.size()) < max_batch_) {
      auto s = std::move(waiting_.front());
      waiting_.pop_front();
      active_.emplace(s->id, std::move(s));
    }
    peak_active_ = std::max(peak_active_, active_.size());
    for (auto& [id, s] : active_) advance(*s);
    sweep();
    return !idle();
  }
  bool idle() const override { return waiting_.empty() && active_.empty(); }
  size_t active() const override { return active_.size(); }
  size_t waiting() const override { return waiting_.size(); }
  int64_t context_length() const override { return context_; }
  int64_t max_batch() const override { return max_batch_; }

  // Read from the test thread after the fact (coarse, test-only synchronisation).
  std::map<std::string, int> finish_counts() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    return finish_counts_;
  }
  size_t peak_active() const { return peak_active_; }

 private:
  struct Seq {
    uint64_t id = 0;
    model::SequenceRequest request;
    std::vector<int> script;
    size_t pos = 0;
    std::vector<int64_t> generated;
    std::vector<int64_t> forced;
    std::string text;
    bool done = false;
  };

  std::vector<int> script_for(const std::vector<int64_t>& prompt, uint64_t seed) const {
    model::ThinkTokens t{tok_.special_id(format::Special::think_open), tok_.special_id(format::Special::think_close), -1, {}, {}};
    const std::string answer = "<answer>\n" + scripted_answer(seed) + "\n</answer><|im_end|>";
    const int64_t last = prompt.back();
    std::string text;
    if (model::prompt_opens_think(prompt, t))
      text = std::string(kScriptReasoning) + "\n</think>\n" + answer;
    else if (last == tok_.special_id(format::Special::answer_open) ||
             (tok_.decode({static_cast<int>(last)}) == "\n" && prompt.size() > 1 &&
              prompt[prompt.size() - 2] == tok_.special_id(format::Special::answer_open)))
      text = answer.substr(std::string("<answer>\n").size());
    else if (tok_.decode({static_cast<int>(prompt.size() > 1 ? prompt[prompt.size() - 2] : last)}) == "<judge>")
      text = "Simple sum.\n</judge>\n<think_off>\n" + answer;
    else {
      for (int i = 0; i < 400; ++i) text += "tick ";
    }
    return tok_.encode_with_specials(text);
  }

  void advance(Seq& s) {
    if (s.done) return;
    const int64_t vocab = tok_.vocab_size();
    std::vector<float> logits(vocab, 0.0f);
    const int want = s.pos < s.script.size() ? s.script[s.pos] : tok_.stop_id();
    logits[want] = 1.0f;
    const model::SequenceView view{s.id, s.request.prompt, s.generated, s.text};
    int64_t token = -1;
    if (!s.forced.empty()) {  // as model::Engine: a rewriter's queued tokens, without sampling
      token = s.forced.front();
      s.forced.erase(s.forced.begin());
    } else {
      for (auto& p : s.request.logits_processors) p(view, logits.data(), vocab);
      token = std::max_element(logits.begin(), logits.end()) - logits.begin();
      if (s.request.rewrite) {
        auto replacement = s.request.rewrite(view, token);
        if (!replacement.empty()) {
          token = replacement.front();
          s.forced.assign(replacement.begin() + 1, replacement.end());
        }
      }
    }
    if (token == want) {
      ++s.pos;
    } else if (token == tok_.special_id(format::Special::answer_open)) {  // forced: resume at the answer
      auto it = std::find(s.script.begin(), s.script.end(), static_cast<int>(token));
      if (it != s.script.end()) s.pos = static_cast<size_t>(it - s.script.begin()) + 1;
    }
    s.generated.push_back(token);
    const auto& stops = s.request.stop_ids;
    const bool is_stop = std::find(stops.begin(), stops.end(), token) != stops.end();
    std::string piece = is_stop ? std::string() : tok_.decode_token_bytes(static_cast<int>(token));
    const size_t before = s.text.size();
    s.text += piece;
    for (const auto& stop : s.request.stop_strings) {
      size_t at = s.text.find(stop);
      if (at != std::string::npos) {
        piece = at > before ? s.text.substr(before, at - before) : std::string();
        s.text.resize(at);
        if (s.request.on_token && !piece.empty()) s.request.on_token(view, token, piece);
        return finish(s, "stop");
      }
    }
    if (s.request.on_token && !s.request.on_token(view, token, piece)) return finish(s, "cancelled");
    if (is_stop) return finish(s, "stop");
    if (static_cast<int>(s.generated.size()) >= s.request.max_tokens) return finish(s, "length");
    if (static_cast<int64_t>(s.request.prompt.size() + s.generated.size()) >= context_) return finish(s, "length");
  }

  void finish(Seq& s, const std::string& reason) {
    if (s.done) return;
    s.done = true;
    {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++finish_counts_[reason];
    }
    model::SequenceResult r;
    r.id = s.id;
    r.tokens = s.generated;
    r.text = s.text;
    r.finish_reason = reason;
    r.prompt_tokens = static_cast<int>(s.request.prompt.size());
    if (s.request.on_finish) s.request.on_finish(r);
  }

  void sweep() {
    for (auto it = active_.begin(); it != active_.end();) it = it->second->done ? active_.erase(it) : std::next(it);
    waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [](const auto& s) { return s->done; }), waiting_.end());
  }

  const data::Tokenizer& tok_;
  int64_t max_batch_, context_;
  std::chrono::milliseconds delay_;
  uint64_t next_id_ = 1;
  std::deque<std::unique_ptr<Seq>> waiting_;
  std::map<uint64_t, std::unique_ptr<Seq>> active_;
  std::vector<uint64_t> cancelled_;
  size_t peak_active_ = 0;
  mutable std::mutex stats_mutex_;
  std::map<std::string, int> finish_counts_;
};

}  // namespace autothink::serve::testing
