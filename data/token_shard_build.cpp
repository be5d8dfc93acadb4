// Rendering records for training (dual-mode or own mode), tokenizing them and caching the shard.
#include "data/token_shard_build.hpp"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "data/records.hpp"
#include "data/token_shard.hpp"
#include "data/tokenizer.hpp"

namespace autothink::data {
namespace fs = std::filesystem;

namespace {

format::Conversation shard_synth_conversation(const SynthRecord& record) {
  format::Conversation c;
  format::Message user;
  user.role = "user";
  user.content = record.question;
  format::Message assistant;
  assistant.role = "assistant";
  assistant.content = record.answer;
  assistant.reasoning = record.cot;
  assistant.mode = record.cot.empty() ? format::ThinkMode::off : format::ThinkMode::on;
  c.messages = {user, assistant};
  return c;
}

bool shard_is_fixed_judge(const std::string& judge) {
  return judge == format::kForcedOnJudge || judge == format::kForcedOffJudge;
}

uint64_t shard_fnv(uint64_t h, const std::string& s) {
  return (core::fnv1a(s, h) ^ 0xff) * core::kFnvPrime;  // 0xff ends the field: "ab"+"c" differs from "a"+"bc"
}

// The forced turns a record stands for: as it is when it carries a fixed judge, else (dual-mode
// style) a forced-on turn when it has reasoning and a forced-off turn.
std::vector<format::Conversation> shard_forced_turns(const format::Conversation& conv) {
  const format::Message& last = conv.messages.back();
  if (shard_is_fixed_judge(last.judge)) {
    format::Conversation as_is = conv;
    if (as_is.messages.back().mode == format::ThinkMode::unknown)
      as_is.messages.back().mode = last.judge == format::kForcedOnJudge ? format::ThinkMode::on : format::ThinkMode::off;
    return {as_is};
  }
  std::vector<format::Conversation> out;
  if (!last.reasoning.empty()) {
    format::Conversation on = conv;
    on.messages.back().judge = std::string(format::kForcedOnJudge);
    on.messages.back().mode = format::ThinkMode::on;
    out.push_back(std::move(on));
  }
  format::Conversation off = conv;
  off.messages.back().judge = std::string(format::kForcedOffJudge);
  off.messages.back().mode = format::ThinkMode::off;
  off.messages.back().reasoning.clear();
  out.push_back(std::move(off));
  return out;
}

}  // namespace

std::vector<TrainingTurn> training_turns(const nlohmann::json& record, RenderStyle style, const AutoJudges& judges,
                                         const std::string& where) {
  if (!record.is_object()) throw Error("a record must be a JSON object", where);
  format::Conversation conv;
  if (record.contains("messages")) conv = chat_record_from_json(record, where).conversation;
  else if (record.contains("question")) conv = shard_synth_conversation(synth_record_from_json(record, where));
  else throw Error("a record needs \"messages\" (chat record) or \"question\" (synth record)", where);
  if (conv.messages.empty() || conv.messages.back().role != "assistant")
    throw Error("the last message must be the assistant turn to train on", where);
  // sft: a turn with its own (auto) judge trains all of it, the judge included.
  if (style == RenderStyle::own && !shard_is_fixed_judge(conv.messages.back().judge)) return {{conv, false}};
  const bool context = style == RenderStyle::own;
  std::vector<TrainingTurn> out;
  for (format::Conversation& forced : shard_forced_turns(conv)) {
    const format::ThinkMode mode = forced.messages.back().mode;
    const std::string& auto_judge = mode == format::ThinkMode::on ? judges.on : judges.off;
    format::Conversation under_auto = forced;
    out.push_back({std::move(forced), context});
    if (auto_judge.empty()) continue;
    under_auto.messages.back().judge = auto_judge;
    out.push_back({std::move(under_auto), context});
  }
  return out;
}

std::vector<format::Conversation> training_conversations(const nlohmann::json& record, RenderStyle style,
                                                         const std::string& where, const AutoJudges& judges) {
  std::vector<format::Conversation> out;
  for (TrainingTurn& t : training_turns(record, style, judges, where)) out.push_back(std::move(t.conversation));
  return out;
}

// A turn whose judge is context trains only what the model writes after the prompt prefilled
// with that judge and mode: learning the judge would teach the auto judge to copy the forced
// texts, or to write an auto judge for every query. Returns false (mask unchanged) when the
// prompt's tokens are not a prefix of the turn's.
bool shard_mask_judge_context(const format::Conversation& conv, EncodedSegments& enc, const Tokenizer& tokenizer) {
  const format::Message& last = conv.messages.back();
  format::Conversation prompt = conv;
  prompt.messages.pop_back();
  const std::vector<int> prefix =
      tokenizer.encode_with_mask(format::render_prefilled_prompt(prompt, last.judge, last.mode)).ids;
  if (prefix.size() > enc.ids.size() || !std::equal(prefix.begin(), prefix.end(), enc.ids.begin())) return false;
  std::fill(enc.assistant_mask.begin(), enc.assistant_mask.begin() + static_cast<std::ptrdiff_t>(prefix.size()), 0);
  return true;
}

ShardBuildResult build_token_shard(const ShardBuildOptions& options, const Tokenizer& tokenizer) {
  if (options.inputs.empty()) throw Error("no input files for the " + options.name + " data", "data", "set data.train (a JSONL file)");
  // Cache key: everything that changes the shard's content.
  uint64_t key = 1469598103934665603ull;
  key = shard_fnv(key, "v3");  // v2: sft masks the forced prefill; v3: turns under the auto judges
  key = shard_fnv(key, options.auto_judges.on + "\x1f" + options.auto_judges.off);
  key = shard_fnv(key, std::to_string(static_cast<int>(options.style)) + "/" + std::to_string(options.max_tokens));
  for (const auto& in : options.inputs) {
    std::error_code ec;
    if (!fs::is_regular_file(in, ec)) throw Error("training data file not found", in, "check data.train / data.dev");
    key = shard_fnv(key, fs::absolute(in).string());
    key = shard_fnv(key, std::to_string(fs::file_size(in)));
    key = shard_fnv(key, std::to_string(fs::last_write_time(in).time_since_epoch().count()));
  }
  {
    std::ifstream tok(tokenizer.model_path(), std::ios::binary);
    std::stringstream buf;
    buf << tok.rdbuf();
    key = shard_fnv(key, buf.str());
  }
  std::ostringstream name;
  name << options.name << "-" << std::hex << std::setw(16) << std::setfill('0') << key << ".shard";
  ShardBuildResult result;
  result.path = options.cache_dir / name.str();
  if (fs::exists(result.path)) {
    TokenShard shard(result.path);  // validates
    result.cached = true;
    result.documents = shard.doc_count();
    result.tokens = shard.token_count();
    std::ifstream stats_file(result.path.string() + ".json");
    if (stats_file) {
      nlohmann::json stats = nlohmann::json::parse(stats_file, nullptr, false);
      if (stats.is_object()) {
        result.records = stats.value("records", std::size_t{0});
        result.masked_tokens = stats.value("masked_tokens", std::size_t{0});
        result.skipped = stats.value("skipped", std::size_t{0});
        result.truncated = stats.value("truncated", std::size_t{0});
      }
    }
    log::info("token shard ", result.path.string(), " (cached): ", result.documents, " documents, ", result.tokens,
              " tokens", result.skipped ? ", skipped " + std::to_string(result.skipped) + " bad records" : std::string());
    return result;
  }

  TokenShardWriter writer;
  for (const auto& in : options.inputs) {
    std::ifstream file(in);
    if (!file) throw Error("cannot read training data", in);
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(file, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      std::vector<TrainingTurn> turns;
      const std::string where = in + ":" + std::to_string(line_no);
      std::string problem;
      try {
        turns = training_turns(nlohmann::json::parse(line), options.style, options.auto_judges, where);
      } catch (const Error& e) {
        problem = e.message();
      } catch (const std::exception& e) {
        problem = e.what();
      }
      if (!problem.empty()) {
        if (!options.skip_bad) throw Error("bad record: " + problem, where, "fix the record or set data.skip_bad: true");
        ++result.skipped;
        log::warn("skipping bad record at ", where, ": ", problem);
        continue;
      }
      ++result.records;
      for (const TrainingTurn& turn : turns) {
        EncodedSegments enc = tokenizer.encode_with_mask(format::render(turn.conversation));
        if (turn.judge_is_context && !shard_mask_judge_context(turn.conversation, enc, tokenizer))
          throw Error("the forced prompt does not tokenize as a prefix of its turn", where,
                      "this is a template/tokenizer bug; please report it with the record");
        if (options.max_tokens > 0 && enc.ids.size() > options.max_tokens) {
          enc.ids.resize(options.max_tokens);
          enc.assistant_mask.resize(options.max_tokens);
          ++result.truncated;
        }
        for (unsigned char m : enc.assistant_mask) result.masked_tokens += m != 0;
        writer.add(enc.ids, enc.assistant_mask);
      }
    }
  }
  if (writer.doc_count() == 0)
    throw Error("no usable record in the " + options.name + " data", options.inputs.front(),
                result.skipped ? "every record was bad (skipped " + std::to_string(result.skipped) + ")" : "the file is empty");
  writer.write(result.path);
  {
    nlohmann::json stats = {{"inputs", options.inputs}, {"records", result.records},
                            {"masked_tokens", result.masked_tokens}, {"skipped", result.skipped},
                            {"truncated", result.truncated}, {"tokenizer", tokenizer.model_path()}};
    std::ofstream(result.path.string() + ".json") << stats.dump(2) << "\n";
  }
  result.documents = writer.doc_count();
  result.tokens = writer.token_count();
  log::info("token shard ", result.path.string(), ": ", result.records, " records -> ", result.documents, " documents, ",
            result.tokens, " tokens (", result.masked_tokens, " in the loss)",
            result.skipped ? ", skipped " + std::to_string(result.skipped) + " bad records" : std::string(),
            result.truncated ? ", truncated " + std::to_string(result.truncated) + " documents" : std::string());
  return result;
}

}  // namespace autothink::data
