// Drawing the task suite into splits and writing the synth outputs (see synth.hpp).
#include "data/synth.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/hash.hpp"
#include "data/task_suite.hpp"

namespace autothink::data {
namespace {

uint64_t synth_family_seed(int64_t seed, const std::string& name) {
  // FNV-1a from 1469598103934665603, not FNV's basis (a digit short): kept, as every synthetic
  // data set ever written was drawn from these seeds.
  const uint64_t h = core::fnv1a(name, 1469598103934665603ULL);
  return core::splitmix64(static_cast<uint64_t>(seed) ^ core::splitmix64(h));
}

// `count` distinct queries of a family: a shuffled prefix of its enumeration, or fresh samples.
std::vector<SynthRecord> synth_draw(const TaskFamily& family, size_t count, std::mt19937_64& rng) {
  if (family.enumerate) {
    std::vector<SynthRecord> all = family.enumerate();
    if (count > all.size())
      throw Error("task family " + family.name + " has " + std::to_string(all.size()) + " distinct queries, " +
                      std::to_string(count) + " were asked for (train + dev + test)",
                  "data.synth", "lower data.synth." + family.difficulty + "_train/_dev/_test");
    stable_shuffle(all, rng);
    all.resize(count);
    return all;
  }
  std::vector<SynthRecord> drawn;
  std::set<std::string> seen;
  const size_t max_attempts = count * 50 + 1000;
  for (size_t attempt = 0; drawn.size() < count; ++attempt) {
    if (attempt >= max_attempts)
      throw Error("task family " + family.name + " repeats itself: only " + std::to_string(drawn.size()) +
                      " distinct queries after " + std::to_string(attempt) + " draws",
                  "data.synth", "ask for fewer queries");
    SynthRecord r = family.sample(rng);
    if (seen.insert(r.id).second) drawn.push_back(std::move(r));
  }
  return drawn;
}

size_t synth_count(int64_t value, const std::string& key) {
  if (value < 0) throw Error("data.synth." + key + " must not be negative, got " + std::to_string(value), "data.synth." + key);
  return static_cast<size_t>(value);
}

struct SplitCounts {
  size_t train = 0, dev = 0, test = 0;
};

// The per-family counts of a difficulty: data.synth.<difficulty>_train/_dev/_test.
SplitCounts synth_counts(const SynthOptions& o, const std::string& difficulty) {
  std::array<int64_t, 3> c{};
  if (difficulty == "easy") c = {o.easy_train, o.easy_dev, o.easy_test};
  else if (difficulty == "medium") c = {o.medium_train, o.medium_dev, o.medium_test};
  else if (difficulty == "hard") c = {o.hard_train, o.hard_dev, o.hard_test};
  else AUTOTHINK_CHECK(false, "task family of unknown difficulty " + difficulty);
  return {synth_count(c[0], difficulty + "_train"), synth_count(c[1], difficulty + "_dev"),
          synth_count(c[2], difficulty + "_test")};
}

ChatRecord synth_chat(const SynthRecord& r, bool think) {
  ChatRecord chat;
  chat.conversation.messages.push_back({"user", r.question, "", format::ThinkMode::unknown, ""});
  format::Message turn{"assistant", r.answer, "", think ? format::ThinkMode::on : format::ThinkMode::off, ""};
  turn.judge = std::string(think ? format::kForcedOnJudge : format::kForcedOffJudge);
  if (think) turn.reasoning = r.cot;
  chat.conversation.messages.push_back(std::move(turn));
  chat.meta.id = r.id;
  chat.meta.family = r.family;
  chat.meta.difficulty = r.difficulty;
  chat.meta.truth = r.answer;
  return chat;
}

// Characters the assistant writes for this record in one mode (the rendered turn, tags as literals).
size_t synth_assistant_chars(const SynthRecord& r, bool think) {
  size_t chars = 0;
  for (const auto& segment : format::render(synth_chat(r, think).conversation))
    if (segment.assistant) chars += segment.is_special ? 1 : segment.text.size();
  return chars;
}

}  // namespace

SynthSplits synthesize(const SynthOptions& options) {
  if (options.families.empty())
    throw Error("no task families to draw", "data.synth.families", "name at least one, e.g. [add_easy, add_hard]");
  std::set<std::string> used;
  SynthSplits splits;
  for (const std::string& name : options.families) {
    const TaskFamily& family = find_family(name);
    if (!used.insert(name).second) throw Error("task family " + name + " is listed twice", "data.synth.families");
    const auto [n_train, n_dev, n_test] = synth_counts(options, family.difficulty);
    std::mt19937_64 rng(synth_family_seed(options.seed, name));
    std::vector<SynthRecord> drawn = synth_draw(family, n_test + n_dev + n_train, rng);
    auto it = drawn.begin();
    splits.test.insert(splits.test.end(), it, it + n_test);
    it += n_test;
    splits.dev.insert(splits.dev.end(), it, it + n_dev);
    it += n_dev;
    splits.train.insert(splits.train.end(), it, drawn.end());
  }
  // Mix the families in train, so a reader that does not shuffle still sees both kinds.
  std::mt19937_64 mix(core::splitmix64(static_cast<uint64_t>(options.seed)));
  stable_shuffle(splits.train, mix);
  return splits;
}

std::vector<ChatRecord> dual_mode_records(const std::vector<SynthRecord>& train) {
  std::vector<ChatRecord> out;
  out.reserve(train.size() * 2);
  for (const auto& r : train) {
    out.push_back(synth_chat(r, true));
    out.push_back(synth_chat(r, false));
  }
  return out;
}

std::string synth_summary(const SynthSplits& splits) {
  std::ostringstream out;
  // split -> (family, difficulty) -> count, in first-seen family order.
  std::vector<std::pair<std::string, std::string>> kinds;
  std::map<std::string, std::map<std::pair<std::string, std::string>, size_t>> counts;
  const std::vector<std::pair<std::string, const std::vector<SynthRecord>*>> named = {
      {"train", &splits.train}, {"dev", &splits.dev}, {"test", &splits.test}};
  for (const auto& [split, records] : named)
    for (const auto& r : *records) {
      auto kind = std::make_pair(r.family, r.difficulty);
      if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
      ++counts[split][kind];
    }
  std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? difficulty_before(a.second, b.second) : a.first < b.first;
  });
  char line[160];
  std::snprintf(line, sizeof line, "%-16s %-10s %8s %8s %8s\n", "family", "difficulty", "train", "dev", "test");
  out << line;
  std::map<std::string, std::map<std::string, size_t>, bool (*)(const std::string&, const std::string&)> by_difficulty(
      difficulty_before);
  for (const auto& kind : kinds) {
    std::snprintf(line, sizeof line, "%-16s %-10s %8zu %8zu %8zu\n", kind.first.c_str(), kind.second.c_str(),
                  counts["train"][kind], counts["dev"][kind], counts["test"][kind]);
    out << line;
    for (const char* split : {"train", "dev", "test"}) by_difficulty[kind.second][split] += counts[split][kind];
  }
  for (const auto& [difficulty, per_split] : by_difficulty) {
    std::snprintf(line, sizeof line, "%-16s %-10s %8zu %8zu %8zu\n", "(all)", difficulty.c_str(),
                  per_split.at("train"), per_split.at("dev"), per_split.at("test"));
    out << line;
  }
  out << "dual_mode records: " << splits.train.size() * 2 << " (every train query forced on and forced off)\n";

  // What perfect mode choice would save over always thinking, in assistant characters (the
  // tokenizer is not trained yet): think-off for easy queries, think-on for hard ones.
  struct Chars {
    size_t records = 0, cot = 0, forced_on = 0, perfect = 0;
  };
  std::map<std::string, Chars> chars;  // by difficulty
  Chars all;
  for (const auto& r : splits.train) {
    const size_t on = synth_assistant_chars(r, true);
    // Medium counts as on: which of its queries a direct answer gets right is the trained model's.
    const size_t best = r.difficulty == "easy" ? synth_assistant_chars(r, false) : on;
    for (Chars* c : {&chars[r.difficulty], &all}) {
      c->records += 1;
      c->cot += r.cot.size();
      c->forced_on += on;
      c->perfect += best;
    }
  }
  out << "assistant characters on train (the tokenizer is not trained yet), forced on vs perfect mode choice "
         "(off for easy, on for medium and hard):\n";
  chars["all"] = all;
  for (const auto& [difficulty, c] : chars) {
    if (c.forced_on == 0) continue;
    std::snprintf(line, sizeof line, "  %-5s mean cot %3zu, mean turn forced on %4zu, perfect %4zu: %5.1f%% saved\n",
                  difficulty.c_str(), c.cot / c.records, c.forced_on / c.records, c.perfect / c.records,
                  100.0 * (1.0 - static_cast<double>(c.perfect) / static_cast<double>(c.forced_on)));
    out << line;
  }
  return out.str();
}

std::string write_synth_outputs(const std::string& dir, const SynthSplits& splits) {
  core::ensure_dir(dir);
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  write_synth_records(base + "train.jsonl", splits.train);
  write_synth_records(base + "dev.jsonl", splits.dev);
  write_synth_records(base + "test.jsonl", splits.test);
  write_chat_records(base + "dual_mode.jsonl", dual_mode_records(splits.train));
  return synth_summary(splits);
}

}  // namespace autothink::data
