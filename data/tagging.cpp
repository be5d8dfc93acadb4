#include "data/tagging.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/hash.hpp"
#include "core/jsonl.hpp"
#include "core/log.hpp"
#include "data/format/parser.hpp"
#include "data/format/special_tokens.hpp"

namespace autothink::data {
namespace {

format::Conversation tag_user_turn(const std::string& question) {
  format::Conversation conv;
  format::Message user;
  user.role = "user";
  user.content = question;
  conv.messages.push_back(std::move(user));
  return conv;
}

double tag_mean_tokens(const std::vector<ScoredSample>& samples) {
  if (samples.empty()) return 0;
  double sum = 0;
  for (const auto& s : samples) sum += s.completion_tokens;
  return sum / static_cast<double>(samples.size());
}

}  // namespace

ModeDecision decide_mode(int64_t on_correct, int64_t on_total, int64_t off_correct, int64_t off_total, double delta) {
  if (on_total <= 0 || off_total <= 0)
    throw Error("tagging needs at least one sample per mode", "decide_mode", "set tag.samples_per_mode >= 1");
  ModeDecision d;
  d.p_on = static_cast<double>(on_correct) / static_cast<double>(on_total);
  d.p_off = static_cast<double>(off_correct) / static_cast<double>(off_total);
  if (on_correct == 0 && off_correct == 0) {
    d.mode = format::ThinkMode::on;
    d.reason = kTagNoCorrect;
  } else if (d.p_off > d.p_on) {
    d.reason = kTagOffBetter;
  } else if (d.p_on == d.p_off) {
    d.reason = kTagTie;
  } else if (d.p_on - d.p_off < delta - 1e-12) {  // the epsilon keeps 0.75 − 0.5 vs δ = 0.25 on
    d.reason = kTagWithinDelta;
  } else {
    d.mode = format::ThinkMode::on;
    d.reason = kTagOnBetter;
  }
  return d;
}

ScoredSample score_sample(const Completion& completion, format::ThinkMode mode, const Verifier& verifier,
                          const std::string& truth) {
  format::Result parsed = format::parse(completion.prefill + completion.text);
  ScoredSample s;
  s.completion_tokens = completion.completion_tokens;
  s.reasoning = parsed.reasoning;
  s.answer = parsed.answer;
  // Only a whole turn in the forced mode counts: a kept sample must read back without a gap.
  s.correct = parsed.complete && parsed.mode == mode && verifier.check(parsed.answer, truth);
  return s;
}

int shortest_correct(const std::vector<ScoredSample>& samples) {
  int best = -1;
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].correct && (best < 0 || samples[i].completion_tokens < samples[best].completion_tokens))
      best = static_cast<int>(i);
  return best;
}

ForcedDraw forced_draw(uint64_t seed, const std::string& id, double fraction) {
  const uint64_t h = core::splitmix64(core::splitmix64(seed) ^ core::fnv1a(id));
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  ForcedDraw draw;
  draw.forced = u < fraction;
  draw.mode = format::think_mode_of((core::splitmix64(h) & 1) != 0);
  return draw;
}

ChatRecord tag_query(const SynthRecord& query, const std::vector<Completion>& on_samples,
                     const std::vector<Completion>& off_samples, const Verifier& verifier, const TagOptions& options) {
  std::vector<ScoredSample> on, off;
  for (const auto& c : on_samples) on.push_back(score_sample(c, format::ThinkMode::on, verifier, query.answer));
  for (const auto& c : off_samples) off.push_back(score_sample(c, format::ThinkMode::off, verifier, query.answer));
  const auto count = [](const std::vector<ScoredSample>& v) {
    return static_cast<int64_t>(std::count_if(v.begin(), v.end(), [](const ScoredSample& s) { return s.correct; }));
  };
  ModeDecision decision = decide_mode(count(on), static_cast<int64_t>(on.size()), count(off),
                                      static_cast<int64_t>(off.size()), options.delta);

  const ForcedDraw draw = forced_draw(static_cast<uint64_t>(options.seed), query.id, options.forced_fraction);
  const format::ThinkMode mode = draw.forced ? draw.mode : decision.mode;
  const bool think_on = mode == format::ThinkMode::on;
  const std::vector<ScoredSample>& pool = think_on ? on : off;
  const int kept = decision.reason == kTagNoCorrect && !draw.forced ? -1 : shortest_correct(pool);

  format::Message reply;
  reply.role = "assistant";
  reply.mode = mode;
  if (draw.forced) reply.judge = std::string(think_on ? format::kForcedOnJudge : format::kForcedOffJudge);
  else reply.judge = think_on ? options.judge_on : options.judge_off;
  if (kept >= 0) {
    reply.content = pool[kept].answer;
    if (think_on) reply.reasoning = pool[kept].reasoning;
  } else {
    // The solver's text: the no-correct fallback, or a mode with no correct sample of its own
    // (forced, or off by a margin below δ over an off pass rate of 0).
    reply.content = query.answer;
    if (think_on) reply.reasoning = query.cot;
  }

  ChatRecord record;
  record.conversation = tag_user_turn(query.question);
  record.conversation.messages.push_back(std::move(reply));
  record.meta.id = query.id;
  record.meta.family = query.family;
  record.meta.difficulty = query.difficulty;
  record.meta.truth = query.answer;
  auto& extra = record.meta.extra;
  extra["p_on"] = decision.p_on;
  extra["p_off"] = decision.p_off;
  extra["tag_reason"] = draw.forced ? (think_on ? kTagForcedOn : kTagForcedOff) : decision.reason;
  extra["decided_mode"] = to_string(decision.mode);
  extra["decision"] = decision.reason;
  extra["source"] = kept >= 0 ? "model" : "solver";
  extra["tokens"] = kept >= 0 ? pool[kept].completion_tokens : 0;
  extra["tokens_on"] = tag_mean_tokens(on);
  extra["tokens_off"] = tag_mean_tokens(off);
  return record;
}

std::vector<ChatRecord> tag_batch(Generator& generator, const std::vector<SynthRecord>& queries,
                                  const TagOptions& options, const VerifierRegistry& verifiers, uint64_t batch_seed) {
  if (options.samples_per_mode < 1)
    throw Error("tag.samples_per_mode must be at least 1", "tag.samples_per_mode");
  std::vector<GenerationInput> inputs;
  inputs.reserve(queries.size() * 2);
  for (const auto& q : queries) {
    inputs.push_back({tag_user_turn(q.question), format::PromptMode::on, std::nullopt});
    inputs.push_back({tag_user_turn(q.question), format::PromptMode::off, std::nullopt});
  }
  GenerationParams params;
  params.max_tokens = static_cast<int>(options.max_tokens);
  params.temperature = options.temperature;
  params.top_p = options.top_p;
  params.seed = batch_seed;
  params.n = static_cast<int>(options.samples_per_mode);
  auto outputs = generator.generate(inputs, params);
  if (outputs.size() != inputs.size())
    throw Error("the generator returned " + std::to_string(outputs.size()) + " results for " +
                std::to_string(inputs.size()) + " prompts", "tag_batch");
  std::vector<ChatRecord> records;
  records.reserve(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto& on = outputs[2 * i];
    const auto& off = outputs[2 * i + 1];
    if (on.size() != static_cast<size_t>(params.n) || off.size() != static_cast<size_t>(params.n))
      throw Error("the generator returned " + std::to_string(on.size()) + "/" + std::to_string(off.size()) +
                      " samples where " + std::to_string(params.n) + " were asked for",
                  "tag_batch, query " + queries[i].id, "does the server support `n`?");
    records.push_back(tag_query(queries[i], on, off, verifiers.for_family(queries[i].family), options));
  }
  return records;
}

TagRunResult tag_file(Generator& generator, const std::vector<SynthRecord>& queries, const std::string& out_path,
                      const TagOptions& options, const VerifierRegistry& verifiers, bool fresh,
                      const std::function<void(int64_t, int64_t)>& progress) {
  if (options.batch_size < 1) throw Error("tag.batch_size must be at least 1", "tag.batch_size");
  TagRunResult result;
  result.queries = static_cast<int64_t>(queries.size());
  std::set<std::string> input_ids;
  for (const auto& q : queries) {
    verifiers.for_family(q.family);  // an unmapped family fails now, not after an hour of sampling
    if (!input_ids.insert(q.id).second)
      throw Error("duplicate query id '" + q.id + "' in the input", "tag input", "query ids must be unique");
  }

  std::set<std::string> done;
  if (!fresh && std::filesystem::exists(out_path)) {
    size_t bad = 0;
    result.records = read_chat_records(out_path, /*skip_bad=*/true, &bad);
    const std::string bytes = core::read_file(out_path);
    if (bad > 0 || (!bytes.empty() && bytes.back() != '\n')) {
      // An interrupted run can leave a torn last line; keep every whole record (and end the file
      // with a newline, so appended records start on a line of their own).
      if (bad > 0) log::warn("dropping ", bad, " unreadable line(s) of ", out_path, " (an interrupted run?)");
      write_chat_records(out_path, result.records);
      result.dropped_bad_lines = static_cast<int64_t>(bad);
    }
    for (const auto& r : result.records) done.insert(r.meta.id);
  }
  if (fresh || !std::filesystem::exists(out_path)) {
    result.records.clear();
    core::JsonlWriter(out_path, core::JsonlWriter::Mode::truncate).close();
  }
  for (const auto& q : queries) result.resumed += done.count(q.id);

  core::JsonlWriter writer(out_path, core::JsonlWriter::Mode::append);
  const size_t batch = static_cast<size_t>(options.batch_size);
  int64_t finished = result.resumed;
  if (progress) progress(finished, result.queries);
  for (size_t start = 0, b = 0; start < queries.size(); start += batch, ++b) {
    std::vector<SynthRecord> pending;
    for (size_t i = start; i < std::min(queries.size(), start + batch); ++i)
      if (!done.count(queries[i].id)) pending.push_back(queries[i]);
    if (pending.empty()) continue;
    const uint64_t seed = core::splitmix64(static_cast<uint64_t>(options.seed) ^ core::splitmix64(b + 1));
    for (auto& record : tag_batch(generator, pending, options, verifiers, seed)) {
      writer.write(chat_record_to_json(record));
      result.records.push_back(std::move(record));
    }
    writer.flush();  // a whole batch is on disk before the next one starts
    result.tagged += static_cast<int64_t>(pending.size());
    finished += static_cast<int64_t>(pending.size());
    if (progress) progress(finished, result.queries);
  }
  writer.close();
  return result;
}

namespace {

struct TagGroup {
  int64_t queries = 0, decided_on = 0, written_on = 0, no_correct = 0, forced = 0, kept = 0;
  double p_on = 0, p_off = 0, tokens_on = 0, tokens_off = 0, kept_tokens = 0, decided_tokens = 0;

  void add(const ChatRecord& r) {
    const auto& m = r.meta.extra;
    ++queries;
    p_on += m.value("p_on", 0.0);
    p_off += m.value("p_off", 0.0);
    const bool on = m.value("decided_mode", "") == to_string(format::ThinkMode::on);
    decided_on += on;
    const auto& msgs = r.conversation.messages;
    written_on += !msgs.empty() && msgs.back().mode == format::ThinkMode::on;
    no_correct += m.value("decision", "") == kTagNoCorrect;
    const std::string reason = m.value("tag_reason", "");
    forced += reason == kTagForcedOn || reason == kTagForcedOff;
    const double t_on = m.value("tokens_on", 0.0), t_off = m.value("tokens_off", 0.0);
    tokens_on += t_on;
    tokens_off += t_off;
    decided_tokens += on ? t_on : t_off;
    if (m.value("source", "") == "model") {
      ++kept;
      kept_tokens += m.value("tokens", 0.0);
    }
  }

  nlohmann::json to_json() const {
    const double n = queries > 0 ? static_cast<double>(queries) : 1.0;
    nlohmann::json j;
    j["queries"] = queries;
    j["p_on"] = p_on / n;
    j["p_off"] = p_off / n;
    j["think_on_rate"] = decided_on / n;
    j["written_think_on_rate"] = written_on / n;
    j["no_correct"] = no_correct;
    j["forced"] = forced;
    j["mean_tokens_on"] = tokens_on / n;
    j["mean_tokens_off"] = tokens_off / n;
    j["kept_from_model"] = kept;
    j["mean_kept_tokens"] = kept > 0 ? kept_tokens / static_cast<double>(kept) : 0.0;
    // What the decided modes would cost against always thinking, by the sample means.
    j["token_saving_vs_on"] = tokens_on > 0 ? 1.0 - decided_tokens / tokens_on : 0.0;
    return j;
  }
};

}  // namespace

nlohmann::json tag_summary(const std::vector<ChatRecord>& records) {
  TagGroup overall;
  std::map<std::string, TagGroup> by_difficulty;
  std::map<std::pair<std::string, std::string>, TagGroup> by_family;
  for (const auto& r : records) {
    overall.add(r);
    by_difficulty[r.meta.difficulty].add(r);
    by_family[{r.meta.family, r.meta.difficulty}].add(r);
  }
  nlohmann::json j;
  j["overall"] = overall.to_json();
  j["by_difficulty"] = nlohmann::json::object();
  for (const auto& [d, g] : by_difficulty) j["by_difficulty"][d] = g.to_json();
  j["mix_token_saving_vs_on"] = by_difficulty.empty() ? 0.0 : tag_summary_mix_saving(j);
  j["by_family"] = nlohmann::json::array();
  for (const auto& [key, g] : by_family) {
    auto row = g.to_json();
    row["family"] = key.first;
    row["difficulty"] = key.second;
    j["by_family"].push_back(row);
  }
  return j;
}

double tag_summary_mix_saving(const nlohmann::json& summary, const std::string& where) {
  const nlohmann::json groups = summary.value("by_difficulty", nlohmann::json::object());
  if (!groups.is_object() || groups.empty())
    throw Error("the tag summary has no by_difficulty groups", where, "give the .summary.json `autothink data tag` wrote");
  double on = 0, decided = 0;
  for (const auto& [name, g] : groups.items()) {
    const double tokens_on = g.value("mean_tokens_on", 0.0);
    on += tokens_on;
    decided += (1.0 - g.value("token_saving_vs_on", 0.0)) * tokens_on;
  }
  return on > 0 ? 1.0 - decided / on : 0.0;
}

std::string tag_summary_text(const nlohmann::json& summary) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %7s %6s %6s %8s %8s %10s %6s %7s %7s %7s\n", "group", "queries", "p_on",
                "p_off", "think_on", "written", "no_correct", "forced", "tok_on", "tok_off", "kept");
  out << line;
  const auto row = [&](const std::string& name, const nlohmann::json& g) {
    std::snprintf(line, sizeof line, "%-20s %7lld %6.2f %6.2f %7.1f%% %7.1f%% %10lld %6lld %7.1f %7.1f %7.1f\n",
                  name.c_str(), g.value("queries", 0LL), g.value("p_on", 0.0), g.value("p_off", 0.0),
                  100 * g.value("think_on_rate", 0.0), 100 * g.value("written_think_on_rate", 0.0),
                  g.value("no_correct", 0LL), g.value("forced", 0LL), g.value("mean_tokens_on", 0.0),
                  g.value("mean_tokens_off", 0.0), g.value("mean_kept_tokens", 0.0));
    out << line;
  };
  const nlohmann::json families = summary.value("by_family", nlohmann::json::array());
  const nlohmann::json difficulties = summary.value("by_difficulty", nlohmann::json::object());
  const nlohmann::json all = summary.value("overall", nlohmann::json::object());
  for (const auto& g : families) row(g.value("family", "") + "/" + g.value("difficulty", ""), g);
  for (const auto& [d, g] : difficulties.items()) row(d, g);
  row("all", all);
  std::snprintf(line, sizeof line,
                "think_on = decided mode (written = after forced records); %lld no-correct fallback(s) tagged on with "
                "the solver's CoT; decided modes save %.1f%% of sampled completion tokens vs always thinking\n",
                all.value("no_correct", 0LL), 100 * all.value("token_saving_vs_on", 0.0));
  out << line;
  return out.str();
}

std::string tag_summary_path(const std::string& out) {
  const std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + ".summary.json")).string();
}

}  // namespace autothink::data
