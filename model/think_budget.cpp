// The thinking-budget state machine and reasoning-token counter (see think_budget.hpp).
#include "model/think_budget.hpp"

#include <algorithm>
#include <memory>
#include <random>

#include "core/error.hpp"
#include "data/tokenizer.hpp"

namespace autothink::model {

const std::vector<std::string>& default_continuation_cues() {
  static const std::vector<std::string> cues = {"Wait,",    "Alternatively,",     "However,",
                                                "Additionally,", "Let's consider,", "On second thought,",
                                                "Actually,", "Furthermore,",      "Looking at it differently,",
                                                "To be thorough,"};
  return cues;
}

ThinkTokens kat_think_tokens(const data::Tokenizer& tok) {
  ThinkTokens t;
  t.think_open = tok.special_id(format::Special::think_open);
  t.think_close = tok.special_id(format::Special::think_close);
  t.answer_open = tok.special_id(format::Special::answer_open);
  for (int id : tok.encode_text("\n")) t.newline.push_back(id);
  t.end_of_turn = {tok.special_id(format::Special::im_end), tok.special_id(format::Special::endoftext)};
  return t;
}

std::vector<std::vector<int64_t>> encode_cues(const data::Tokenizer& tokenizer, const std::vector<std::string>& cues) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& cue : cues) {
    auto ids = tokenizer.encode_text(cue);
    if (!ids.empty()) out.emplace_back(ids.begin(), ids.end());
  }
  return out;
}

bool prompt_opens_think(const std::vector<int64_t>& prompt, const ThinkTokens& tokens) {
  for (auto it = prompt.rbegin(); it != prompt.rend(); ++it) {
    if (*it == tokens.think_close) return false;
    if (*it == tokens.think_open) return true;
  }
  return false;
}

void ReasoningCounter::add(int64_t token) {
  if (token == tokens_.think_open) {
    in_think_ = true;
  } else if (token == tokens_.think_close) {
    in_think_ = false;
  } else if (in_think_) {
    ++count_;
  }
}

namespace {

bool ends_with(const std::vector<int64_t>& seq, const std::vector<int64_t>& tail) {
  return !tail.empty() && tail.size() <= seq.size() && std::equal(tail.rbegin(), tail.rend(), seq.rbegin());
}

class ThinkBudget {
 public:
  ThinkBudget(const ThinkTokens& tokens, ThinkBudgetSpec spec, bool in_think, uint64_t seed,
              std::shared_ptr<ThinkBudgetReport> report)
      : tokens_(tokens), spec_(std::move(spec)), counter_(tokens, in_think), rng_(seed ^ 0x9e3779b97f4a7c15ULL),
        report_(report ? std::move(report) : std::make_shared<ThinkBudgetReport>()) {
    close_.push_back(tokens.think_close);
    close_.insert(close_.end(), tokens.newline.begin(), tokens.newline.end());
    if (tokens.answer_open >= 0) close_.push_back(tokens.answer_open);  // KAT; <think>-only models: "</think>\n\n"
    close_.insert(close_.end(), tokens.newline.begin(), tokens.newline.end());
    for (const auto& c : spec_.cues) longest_cue_ = std::max(longest_cue_, c.size());
  }

  std::vector<int64_t> rewrite(int64_t sampled) {
    if (!counter_.in_think()) {
      counter_.add(sampled);
      return {};
    }
    const bool is_close = sampled == tokens_.think_close;
    const bool is_end = std::find(tokens_.end_of_turn.begin(), tokens_.end_of_turn.end(), sampled) != tokens_.end_of_turn.end();
    if (counter_.count() >= spec_.max || report_->thoughts >= spec_.max_thoughts) {
      if (is_close) return accept(sampled);
      report_->forced_close = true;
      return inject(close_);
    }
    if ((is_close || is_end) && counter_.count() < spec_.min) {
      std::uniform_int_distribution<size_t> pick(0, spec_.cues.size() - 1);
      ++report_->thoughts;
      ++report_->cues_inserted;
      tail_.clear();
      return inject(spec_.cues[pick(rng_)]);
    }
    if (is_end) {  // the turn ends inside <think>: close it so that an answer follows
      report_->forced_close = true;
      return inject(close_);
    }
    accept(sampled);
    if (!is_close) {
      tail_.push_back(sampled);
      if (tail_.size() > longest_cue_) tail_.erase(tail_.begin());
      for (const auto& cue : spec_.cues)
        if (ends_with(tail_, cue)) {
          ++report_->thoughts;
          tail_.clear();
          break;
        }
    }
    return {};
  }

 private:
  std::vector<int64_t> accept(int64_t token) {
    counter_.add(token);
    report_->reasoning_tokens = counter_.count();
    return {};
  }
  std::vector<int64_t> inject(const std::vector<int64_t>& tokens) {
    for (int64_t t : tokens) counter_.add(t);
    report_->reasoning_tokens = counter_.count();
    return tokens;
  }

  ThinkTokens tokens_;
  ThinkBudgetSpec spec_;
  ReasoningCounter counter_;
  std::mt19937_64 rng_;
  std::shared_ptr<ThinkBudgetReport> report_;
  std::vector<int64_t> close_;
  std::vector<int64_t> tail_;  // the latest thinking tokens, for cue detection
  size_t longest_cue_ = 0;
};

}  // namespace

TokenRewriter make_think_budget(const ThinkTokens& tokens, const ThinkBudgetSpec& spec, bool prompt_in_think,
                                uint64_t seed, std::shared_ptr<ThinkBudgetReport> report) {
  if (spec.min < 0 || spec.max < 0) throw Error("thinking budget min and max must be >= 0", "thinking_budget");
  if (spec.min > spec.max)
    throw Error("thinking budget min " + std::to_string(spec.min) + " exceeds max " + std::to_string(spec.max),
                "thinking_budget", "give min <= max");
  if (spec.min > 0 && spec.cues.empty())
    throw Error("a thinking budget with a minimum needs continuation cues", "thinking_budget");
  for (const auto& c : spec.cues)
    if (c.empty()) throw Error("a continuation cue encodes to no tokens", "thinking_budget.cues");
  auto budget = std::make_shared<ThinkBudget>(tokens, spec, prompt_in_think, seed, std::move(report));
  return [budget](const SequenceView&, int64_t sampled) { return budget->rewrite(sampled); };
}

}  // namespace autothink::model
