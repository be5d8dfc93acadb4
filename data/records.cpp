// Reading and writing synth and chat records (see records.hpp).
#include "data/records.hpp"

#include "core/error.hpp"
#include "core/jsonl.hpp"
#include "core/log.hpp"

namespace autothink::data {
namespace {

// A required string field; a missing or non-string one is an Error naming it.
std::string records_string(const nlohmann::json& obj, const char* key, const std::string& where,
                           const std::string& prefix = "") {
  auto it = obj.find(key);
  if (it == obj.end())
    throw Error("missing field \"" + prefix + key + "\"", where);
  if (!it->is_string())
    throw Error("field \"" + prefix + key + "\" must be a string, got " + std::string(it->type_name()), where);
  return it->get<std::string>();
}

std::string records_optional_string(const nlohmann::json& obj, const char* key, const std::string& where,
                                    const std::string& prefix) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string())
    throw Error("field \"" + prefix + key + "\" must be a string, got " + std::string(it->type_name()), where);
  return it->get<std::string>();
}

}  // namespace

nlohmann::json synth_record_to_json(const SynthRecord& r) {
  return {{"id", r.id},       {"family", r.family}, {"difficulty", r.difficulty},
          {"question", r.question}, {"answer", r.answer}, {"cot", r.cot}};
}

bool is_difficulty(const std::string& name) {
  for (const char* d : kDifficulties)
    if (name == d) return true;
  return false;
}

bool difficulty_before(const std::string& a, const std::string& b) {
  auto rank = [](const std::string& d) {
    size_t i = 0;
    while (i < std::size(kDifficulties) && d != kDifficulties[i]) ++i;
    return i;
  };
  return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
}

SynthRecord synth_record_from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) throw Error("synth record is not a JSON object", where);
  SynthRecord r;
  r.id = records_string(json, "id", where);
  r.family = records_string(json, "family", where);
  r.difficulty = records_string(json, "difficulty", where);
  r.question = records_string(json, "question", where);
  r.answer = records_string(json, "answer", where);
  r.cot = records_string(json, "cot", where);
  if (!is_difficulty(r.difficulty))
    throw Error("field \"difficulty\" must be \"easy\", \"medium\" or \"hard\", got \"" + r.difficulty + "\"", where);
  if (r.id.empty()) throw Error("field \"id\" is empty", where);
  if (r.question.empty()) throw Error("field \"question\" is empty", where);
  return r;
}

nlohmann::json chat_record_to_json(const ChatRecord& record) {
  nlohmann::json json = format::conversation_to_json(record.conversation);
  const ChatMeta& m = record.meta;
  bool has_meta = !m.id.empty() || !m.family.empty() || !m.difficulty.empty() || !m.truth.empty() ||
                  (m.extra.is_object() && !m.extra.empty());
  if (has_meta) {
    nlohmann::json meta = m.extra.is_object() ? m.extra : nlohmann::json::object();
    meta["id"] = m.id;
    meta["family"] = m.family;
    meta["difficulty"] = m.difficulty;
    meta["truth"] = m.truth;
    json["meta"] = std::move(meta);
  }
  return json;
}

ChatRecord chat_record_from_json(const nlohmann::json& json, const std::string& where) {
  ChatRecord record;
  try {
    record.conversation = format::conversation_from_json(json);
  } catch (const format::TemplateError& e) {
    throw Error(std::string("bad chat record: ") + e.what(), where);
  }
  if (record.conversation.messages.empty()) throw Error("chat record has no messages", where);
  auto it = json.find("meta");
  if (it != json.end() && !it->is_null()) {
    if (!it->is_object()) throw Error("field \"meta\" must be an object, got " + std::string(it->type_name()), where);
    ChatMeta& m = record.meta;
    m.id = records_optional_string(*it, "id", where, "meta.");
    m.family = records_optional_string(*it, "family", where, "meta.");
    m.difficulty = records_optional_string(*it, "difficulty", where, "meta.");
    m.truth = records_optional_string(*it, "truth", where, "meta.");
    m.extra = *it;
    for (const char* key : {"id", "family", "difficulty", "truth"}) m.extra.erase(key);
  }
  return record;
}

std::vector<SynthRecord> read_synth_records(const std::string& path) {
  std::vector<SynthRecord> records;
  core::read_jsonl(path, [&](const nlohmann::json& json, int64_t line) {
    records.push_back(synth_record_from_json(json, path + ":" + std::to_string(line)));
  });
  return records;
}

std::vector<ChatRecord> read_chat_records(const std::string& path, bool skip_bad, size_t* skipped) {
  std::vector<ChatRecord> records;
  size_t bad = 0;
  auto skip = [&](const std::string& what) {
    if (++bad <= 5) log::warn("skipping bad chat record: ", what);
  };
  core::JsonlOptions options;
  options.skip_bad_lines = skip_bad;
  core::JsonlStats stats = core::read_jsonl(
      path,
      [&](const nlohmann::json& json, int64_t line) {
        try {
          records.push_back(chat_record_from_json(json, path + ":" + std::to_string(line)));
        } catch (const Error& e) {
          if (!skip_bad) throw;
          skip(e.what());
        }
      },
      options);
  if (stats.bad > 0) {
    if (bad < 5) log::warn("skipping lines that are not JSON, first: ", stats.first_bad);
    bad += static_cast<size_t>(stats.bad);
  }
  if (bad > 5) log::warn("skipped ", bad, " bad chat records in ", path, " (first ones shown)");
  if (skipped) *skipped = bad;
  return records;
}

void write_synth_records(const std::string& path, const std::vector<SynthRecord>& records) {
  std::vector<nlohmann::json> lines;
  lines.reserve(records.size());
  for (const auto& r : records) lines.push_back(synth_record_to_json(r));
  core::write_jsonl(path, lines);
}

void write_chat_records(const std::string& path, const std::vector<ChatRecord>& records) {
  std::vector<nlohmann::json> lines;
  lines.reserve(records.size());
  for (const auto& r : records) lines.push_back(chat_record_to_json(r));
  core::write_jsonl(path, lines);
}

}  // namespace autothink::data
