#include "rl/rewards.hpp"

#include <algorithm>

#include "data/format/parser.hpp"
#include "data/verifier.hpp"

namespace autothink::rl {

Outcome score_completion(std::string_view prefill, std::string_view text, int tokens, const std::string& truth,
                         const data::Verifier& verifier, format::PromptMode prompt_mode) {
  format::Parser parser;
  parser.feed(prefill);
  parser.feed(text);
  parser.finish();
  const format::Result& r = parser.result();
  Outcome o;
  o.prompt_mode = prompt_mode;
  o.mode = r.mode;
  o.format_ok = r.complete && r.problems.empty();
  o.correct = !r.answer.empty() && verifier.check(r.answer, truth);
  o.tokens = tokens;
  o.answer = r.answer;
  return o;
}

ModeEvidence mode_evidence(const std::vector<Outcome>& group, double margin) {
  ModeEvidence e;
  int on_right = 0, off_right = 0;
  for (const auto& o : group) {
    if (o.mode == format::ThinkMode::on) ++e.on_count, on_right += o.correct;
    if (o.mode == format::ThinkMode::off) ++e.off_count, off_right += o.correct;
  }
  if (e.on_count) e.acc_on = static_cast<double>(on_right) / e.on_count;
  if (e.off_count) e.acc_off = static_cast<double>(off_right) / e.off_count;
  e.verdict = e.on_count > 0 && e.off_count > 0 && on_right + off_right > 0;
  e.on_needed = e.verdict && e.acc_on > e.acc_off + margin;
  return e;
}

std::vector<RewardTerms> group_rewards(const std::vector<Outcome>& group, const RewardOptions& options) {
  const ModeEvidence evidence = mode_evidence(group, options.mode_margin);
  std::vector<RewardTerms> out(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    const Outcome& o = group[i];
    RewardTerms& t = out[i];
    t.correct = options.correct * (o.correct ? 1.0 : 0.0);
    t.format = options.format * (o.format_ok ? 1.0 : 0.0);
    t.tokens = -options.token_cost * static_cast<double>(o.tokens) / std::max(1, options.max_tokens);
    if (o.prompt_mode == format::PromptMode::automatic && o.mode != format::ThinkMode::unknown) {
      if (!evidence.verdict) t.mode_score = 0.5;
      else t.mode_score = (o.mode == format::ThinkMode::on) == evidence.on_needed ? 1.0 : 0.0;
    }
    t.mode = options.mode * t.mode_score;
    t.answer = t.correct + t.format + t.tokens;
    t.total = t.answer + t.mode;
  }
  return out;
}

}  // namespace autothink::rl
