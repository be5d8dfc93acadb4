#include "data/eval.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "data/format/parser.hpp"
#include "data/tokenizer.hpp"

namespace autothink::data {

ReasoningTokenCounter tokenizer_reasoning_counter(const Tokenizer& tokenizer) {
  const Tokenizer* tok = &tokenizer;
  return [tok](const std::string& prefill, const std::string& text) -> std::optional<int> {
    const int open = tok->special_id(format::Special::think_open);
    const int close = tok->special_id(format::Special::think_close);
    const std::string open_literal(format::literal(format::Special::think_open));
    const auto ids = tok->encode_with_specials(text);
    auto start = ids.begin();
    if (prefill.find(open_literal) == std::string::npos) {
      start = std::find(ids.begin(), ids.end(), open);
      if (start == ids.end()) return 0;
      ++start;
    }
    auto end = std::find(start, ids.end(), close);
    return static_cast<int>(end - start);
  };
}

EvalOutcome score_eval_completion(const Completion& completion, const Verifier& verifier, const std::string& truth,
                                  const ReasoningTokenCounter& counter) {
  format::Result parsed = format::parse(completion.prefill + completion.text);
  EvalOutcome o;
  o.correct = verifier.check(parsed.answer, truth);
  o.mode = parsed.mode;
  o.completion_tokens = completion.completion_tokens;
  if (counter) {
    o.reasoning_tokens = counter(completion.prefill, completion.text);
    // Re-encoding can split text the model produced in fewer tokens (over HTTP, bytes that were
    // not UTF-8 arrive as U+FFFD); a part of the generated tokens never outnumbers them.
    if (o.reasoning_tokens) o.reasoning_tokens = std::min(*o.reasoning_tokens, completion.completion_tokens);
  }
  return o;
}

std::vector<SynthRecord> select_per_difficulty(const std::vector<SynthRecord>& records, int64_t per_difficulty) {
  std::map<std::string, int64_t> taken;
  std::vector<SynthRecord> out;
  for (const auto& r : records)
    if (per_difficulty <= 0 || taken[r.difficulty]++ < per_difficulty) out.push_back(r);
  return out;
}

std::vector<EvalItem> run_eval(Generator& generator, const std::vector<SynthRecord>& queries, const EvalOptions& options,
                               const VerifierRegistry& verifiers, const ReasoningTokenCounter& counter,
                               const std::function<void(int64_t, int64_t)>& progress,
                               const std::vector<BudgetSetting>& extra) {
  if (options.batch_size < 1) throw Error("eval.batch_size must be at least 1", "eval.batch_size");
  for (const auto& q : queries) verifiers.for_family(q.family);  // fail before decoding
  static const format::PromptMode kModes[3] = {format::PromptMode::automatic, format::PromptMode::on,
                                               format::PromptMode::off};
  GenerationParams params;
  params.max_tokens = static_cast<int>(options.max_tokens);
  params.temperature = 0.0;  // greedy: the model's own best answer, reproducible
  params.n = 1;

  std::vector<EvalItem> items;
  items.reserve(queries.size());
  const size_t batch = static_cast<size_t>(options.batch_size);
  if (progress) progress(0, static_cast<int64_t>(queries.size()));
  for (size_t start = 0; start < queries.size(); start += batch) {
    const size_t end = std::min(queries.size(), start + batch);
    std::vector<GenerationInput> inputs;
    for (size_t i = start; i < end; ++i) {
      format::Conversation conv;
      format::Message user;
      user.role = "user";
      user.content = queries[i].question;
      conv.messages.push_back(std::move(user));
      for (auto mode : kModes) inputs.push_back({conv, mode, std::nullopt});
      for (const auto& setting : extra) inputs.push_back({conv, format::PromptMode::on, setting.budget(queries[i])});
    }
    auto outputs = generator.generate(inputs, params);
    if (outputs.size() != inputs.size())
      throw Error("the generator returned " + std::to_string(outputs.size()) + " results for " +
                  std::to_string(inputs.size()) + " prompts", "run_eval");
    for (size_t i = start; i < end; ++i) {
      const size_t per_query = 3 + extra.size();
      const size_t k = per_query * (i - start);
      for (size_t m = 0; m < per_query; ++m)
        if (outputs[k + m].empty())
          throw Error("the generator returned no completion", "run_eval, query " + queries[i].id);
      const Verifier& verifier = verifiers.for_family(queries[i].family);
      EvalItem item;
      item.query = queries[i];
      item.automatic = score_eval_completion(outputs[k][0], verifier, queries[i].answer, counter);
      item.forced_on = score_eval_completion(outputs[k + 1][0], verifier, queries[i].answer, counter);
      item.forced_off = score_eval_completion(outputs[k + 2][0], verifier, queries[i].answer, counter);
      for (size_t e = 0; e < extra.size(); ++e)
        item.extra.push_back(score_eval_completion(outputs[k + 3 + e][0], verifier, queries[i].answer, counter));
      items.push_back(std::move(item));
    }
    if (progress) progress(static_cast<int64_t>(end), static_cast<int64_t>(queries.size()));
  }
  return items;
}

namespace {

struct EvalSettingSums {
  int64_t n = 0, correct = 0, on = 0, reasoning_known = 0;
  double tokens = 0, reasoning = 0;
  void add(const EvalOutcome& o) {
    ++n;
    correct += o.correct;
    on += o.mode == format::ThinkMode::on;
    tokens += o.completion_tokens;
    if (o.reasoning_tokens) {
      ++reasoning_known;
      reasoning += *o.reasoning_tokens;
    }
  }
  SettingMetrics metrics() const {
    SettingMetrics m;
    m.n = n;
    if (n == 0) return m;
    const double d = static_cast<double>(n);
    m.accuracy = correct / d;
    m.think_on_rate = on / d;
    m.mean_completion_tokens = tokens / d;
    if (reasoning_known == n) m.mean_reasoning_tokens = reasoning / d;
    return m;
  }
};

GroupMetrics eval_group(const std::string& name, const std::vector<const EvalItem*>& items) {
  EvalSettingSums a, on, off;
  std::vector<EvalSettingSums> extra(items.empty() ? 0 : items.front()->extra.size());
  int64_t judge_right = 0;
  double oracle_tokens = 0;
  for (const EvalItem* item : items) {
    AUTOTHINK_CHECK(item->extra.size() == extra.size(), "eval items disagree on their extra settings");
    for (size_t e = 0; e < extra.size(); ++e) extra[e].add(item->extra[e]);
    a.add(item->automatic);
    on.add(item->forced_on);
    off.add(item->forced_off);
    const bool better_on = !item->forced_off.correct;
    judge_right += item->automatic.mode == format::think_mode_of(better_on);
    oracle_tokens += better_on ? item->forced_on.completion_tokens : item->forced_off.completion_tokens;
  }
  GroupMetrics g;
  g.name = name;
  g.queries = static_cast<int64_t>(items.size());
  g.automatic = a.metrics();
  g.forced_on = on.metrics();
  g.forced_off = off.metrics();
  for (auto& e : extra) g.extra.emplace_back("", e.metrics());
  if (!items.empty()) {
    g.judge_accuracy = static_cast<double>(judge_right) / static_cast<double>(items.size());
    g.oracle_mean_tokens = oracle_tokens / static_cast<double>(items.size());
  }
  return g;
}

nlohmann::json eval_setting_json(const SettingMetrics& m) {
  nlohmann::json j = {{"n", m.n},
                      {"accuracy", m.accuracy},
                      {"think_on_rate", m.think_on_rate},
                      {"mean_completion_tokens", m.mean_completion_tokens}};
  j["mean_reasoning_tokens"] = m.mean_reasoning_tokens ? nlohmann::json(*m.mean_reasoning_tokens) : nlohmann::json();
  return j;
}

nlohmann::json eval_extra_json(const std::vector<std::pair<std::string, SettingMetrics>>& extra) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, m] : extra) j[name] = eval_setting_json(m);
  return j;
}

nlohmann::json eval_outcome_json(const EvalOutcome& o) {
  nlohmann::json j = {{"correct", o.correct}, {"mode", to_string(o.mode)}, {"completion_tokens", o.completion_tokens}};
  j["reasoning_tokens"] = o.reasoning_tokens ? nlohmann::json(*o.reasoning_tokens) : nlohmann::json();
  return j;
}

}  // namespace

EvalReport compute_eval_metrics(const std::vector<EvalItem>& items, const std::vector<std::string>& extra_names) {
  std::map<std::string, std::vector<const EvalItem*>, bool (*)(const std::string&, const std::string&)> by_difficulty(
      difficulty_before);
  std::vector<const EvalItem*> all;
  for (const auto& item : items) {
    by_difficulty[item.query.difficulty].push_back(&item);
    all.push_back(&item);
  }
  EvalReport report;
  double auto_tokens = 0, on_tokens = 0, oracle_tokens = 0;
  for (const auto& [name, group] : by_difficulty) {
    report.groups.push_back(eval_group(name, group));
    const GroupMetrics& g = report.groups.back();
    auto_tokens += g.automatic.mean_completion_tokens;
    on_tokens += g.forced_on.mean_completion_tokens;
    oracle_tokens += g.oracle_mean_tokens;
    const double k = static_cast<double>(by_difficulty.size());
    report.mix_accuracy_auto += g.automatic.accuracy / k;
    report.mix_accuracy_on += g.forced_on.accuracy / k;
    report.mix_accuracy_off += g.forced_off.accuracy / k;
  }
  report.groups.push_back(eval_group("all", all));
  for (auto& g : report.groups) {
    AUTOTHINK_CHECK(g.extra.size() == extra_names.size(), "compute_eval_metrics: one name per extra setting");
    for (size_t e = 0; e < g.extra.size(); ++e) g.extra[e].first = extra_names[e];
  }
  if (on_tokens > 0) {
    report.mix_token_saving = 1.0 - auto_tokens / on_tokens;
    report.oracle_mix_token_saving = 1.0 - oracle_tokens / on_tokens;
  }
  return report;
}

nlohmann::json eval_report_to_json(const EvalReport& report) {
  nlohmann::json j;
  j["groups"] = nlohmann::json::array();
  for (const auto& g : report.groups) {
    j["groups"].push_back({{"name", g.name},
                           {"queries", g.queries},
                           {"auto", eval_setting_json(g.automatic)},
                           {"on", eval_setting_json(g.forced_on)},
                           {"off", eval_setting_json(g.forced_off)},
                           {"extra", eval_extra_json(g.extra)},
                           {"judge_accuracy", g.judge_accuracy},
                           {"oracle_mean_tokens", g.oracle_mean_tokens}});
  }
  j["mix"] = {{"token_saving_auto_vs_on", report.mix_token_saving},
              {"token_saving_oracle_vs_on", report.oracle_mix_token_saving},
              {"accuracy_auto", report.mix_accuracy_auto},
              {"accuracy_on", report.mix_accuracy_on},
              {"accuracy_off", report.mix_accuracy_off}};
  if (report.tag_forecast_mix_saving) j["mix"]["token_saving_tag_forecast"] = *report.tag_forecast_mix_saving;
  return j;
}

std::string eval_report_to_markdown(const EvalReport& report) {
  std::ostringstream out;
  char line[320];
  out << "| difficulty | setting | queries | accuracy | think-on | completion tokens | reasoning tokens | judge accuracy |\n"
      << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& g : report.groups) {
    std::vector<std::pair<std::string, const SettingMetrics*>> settings = {
        {"auto", &g.automatic}, {"forced on", &g.forced_on}, {"forced off", &g.forced_off}};
    for (const auto& [name, m] : g.extra) settings.emplace_back(name, &m);
    for (const auto& [name, m] : settings) {
      std::string reasoning = "n/a";
      if (m->mean_reasoning_tokens) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", *m->mean_reasoning_tokens);
        reasoning = buf;
      }
      std::string judge;
      if (m == &g.automatic) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f%%", 100 * g.judge_accuracy);
        judge = buf;
      }
      std::snprintf(line, sizeof line, "| %s | %s | %lld | %.1f%% | %.1f%% | %.1f | %s | %s |\n", g.name.c_str(), name.c_str(),
                    static_cast<long long>(m->n), 100 * m->accuracy, 100 * m->think_on_rate,
                    m->mean_completion_tokens, reasoning.c_str(), judge.c_str());
      out << line;
    }
  }
  std::snprintf(line, sizeof line,
                "\nOn an equal mix of the difficulties: accuracy auto %.1f%%, forced on %.1f%%, forced off %.1f%%; "
                "auto uses %.1f%% %s completion tokens than forced on (a perfect mode choice: %.1f%% fewer).\n",
                100 * report.mix_accuracy_auto, 100 * report.mix_accuracy_on, 100 * report.mix_accuracy_off,
                100 * std::abs(report.mix_token_saving), report.mix_token_saving >= 0 ? "fewer" : "more",
                100 * report.oracle_mix_token_saving);
  out << line;
  if (report.tag_forecast_mix_saving) {
    std::snprintf(line, sizeof line,
                  "The tag report's perfect-choice forecast for the same mix: %.1f%% fewer completion tokens than "
                  "always thinking.\n",
                  100 * *report.tag_forecast_mix_saving);
    out << line;
  }
  return out.str();
}

nlohmann::json eval_item_to_json(const EvalItem& item) {
  nlohmann::json extra = nlohmann::json::array();
  for (const auto& o : item.extra) extra.push_back(eval_outcome_json(o));
  return {{"id", item.query.id},
          {"family", item.query.family},
          {"difficulty", item.query.difficulty},
          {"auto", eval_outcome_json(item.automatic)},
          {"on", eval_outcome_json(item.forced_on)},
          {"off", eval_outcome_json(item.forced_off)},
          {"extra", extra}};
}

}  // namespace autothink::data
