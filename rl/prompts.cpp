#include "rl/prompts.hpp"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/jsonl.hpp"
#include "data/records.hpp"
#include "data/verifier.hpp"

namespace autothink::rl {
namespace {

// True when the file's first record is a chat record ({"messages": ...}).
bool prompts_file_is_chat(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read prompt file", path, "check rl.prompts");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r\xEF\xBB\xBF") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    return !j.is_discarded() && j.is_object() && j.contains("messages");
  }
  return false;
}

}  // namespace

std::string verifier_name_for(const data::VerifierRegistry& registry, const std::string& family,
                              const std::string& default_verifier) {
  if (!family.empty()) {
    try {
      return registry.family_verifier_name(family);
    } catch (const Error&) {
      if (default_verifier.empty()) throw;
    }
  }
  if (default_verifier.empty())
    throw Error("a prompt has no task family and no default verifier is set", "rl.default_verifier",
                "set rl.default_verifier: numeric (or exact)");
  registry.get(default_verifier);  // throws listing the known names
  return default_verifier;
}

std::vector<RlPrompt> load_rl_prompts(const std::vector<std::string>& files, const data::VerifierRegistry& registry,
                                      const std::string& default_verifier) {
  std::vector<RlPrompt> out;
  for (const auto& path : files) {
    const size_t first = out.size();
    if (prompts_file_is_chat(path)) {
      int64_t line = 0;
      for (auto& rec : data::read_chat_records(path)) {
        ++line;
        RlPrompt p;
        auto& msgs = rec.conversation.messages;
        while (!msgs.empty() && msgs.back().role != "user") msgs.pop_back();
        if (msgs.empty())
          throw Error("chat record has no user turn", path + " (record " + std::to_string(line) + ")");
        if (rec.meta.truth.empty())
          throw Error("chat record has no meta.truth to verify answers against",
                      path + " (record " + std::to_string(line) + ")", "RL needs verifiable prompts");
        p.id = rec.meta.id;
        p.family = rec.meta.family;
        p.difficulty = rec.meta.difficulty.empty() ? "unknown" : rec.meta.difficulty;
        p.truth = rec.meta.truth;
        p.conversation = std::move(rec.conversation);
        out.push_back(std::move(p));
      }
    } else {
      for (auto& rec : data::read_synth_records(path)) {
        RlPrompt p;
        p.id = rec.id;
        p.family = rec.family;
        p.difficulty = rec.difficulty.empty() ? "unknown" : rec.difficulty;
        p.truth = rec.answer;
        p.conversation.messages.push_back(format::Message{"user", rec.question, "", format::ThinkMode::unknown, ""});
        out.push_back(std::move(p));
      }
    }
    // Fail now, not mid-run: every family verifiable, every truth acceptable to its verifier.
    for (size_t i = first; i < out.size(); ++i) {
      try {
        registry.get(verifier_name_for(registry, out[i].family, default_verifier)).check("", out[i].truth);
      } catch (const Error& e) {
        throw Error(e.message() + " (prompt " + out[i].id + ")", path, e.hint());
      }
    }
    if (out.size() == first) throw Error("prompt file holds no records", path);
  }
  return out;
}

int64_t prompt_index_at(int64_t n, int64_t step, int64_t slot, int64_t per_step, uint64_t seed) {
  const int64_t global = step * per_step + slot;
  const int64_t epoch = global / n, pos = global % n;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  std::shuffle(order.begin(), order.end(), rng);
  return order[static_cast<size_t>(pos)];
}

}  // namespace autothink::rl
