// Record files (DESIGN.md §3), one JSON object a line: synth records
// {"id","family","difficulty":"easy|medium|hard","question","answer","cot"} and chat records
// {"messages":[...],"meta":{"id","family","difficulty","truth",...}}. Readers name file:line and
// what is wrong for a bad record; writers replace the file atomically (temp file + rename).
// Line handling (blank lines, BOM, CRLF) is core/jsonl.hpp's.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/format/template.hpp"

namespace autothink::data {

// The difficulties a synth record may have, easiest first: thinking is wasted on easy queries,
// pays on hard ones, and on medium ones depends on the query.
inline constexpr const char* kDifficulties[] = {"easy", "medium", "hard"};
bool is_difficulty(const std::string& name);
// Orders difficulty names easiest first (easy < medium < hard < any other, then by name).
bool difficulty_before(const std::string& a, const std::string& b);

struct SynthRecord {
  std::string id;          // unique per query, stable across runs: "add_hard/38+47+19+26"
  std::string family;      // "add_hard"
  std::string difficulty;  // one of kDifficulties
  std::string question;
  std::string answer;      // the direct answer (also the truth verifiers compare with)
  std::string cot;         // the solver's chain of thought
};

struct ChatMeta {
  std::string id, family, difficulty, truth;
  nlohmann::json extra = nlohmann::json::object();  // any other meta keys, kept on round trip
};

struct ChatRecord {
  format::Conversation conversation;
  ChatMeta meta;  // all empty when the record has no "meta"
};

nlohmann::json synth_record_to_json(const SynthRecord& record);
// Throws autothink::Error naming `where` and the field for a missing/mistyped field or a
// difficulty other than easy|medium|hard.
SynthRecord synth_record_from_json(const nlohmann::json& json, const std::string& where = "");

nlohmann::json chat_record_to_json(const ChatRecord& record);
// Throws autothink::Error naming `where` and the field (messages[i].role, meta.id, ...).
ChatRecord chat_record_from_json(const nlohmann::json& json, const std::string& where = "");

// Blank lines are skipped. A bad line throws autothink::Error at "path:line".
std::vector<SynthRecord> read_synth_records(const std::string& path);
// With skip_bad, a bad line is logged (file:line, what) and counted in *skipped instead of thrown.
std::vector<ChatRecord> read_chat_records(const std::string& path, bool skip_bad = false, size_t* skipped = nullptr);

// One compact JSON object per line; atomic replace (core::write_jsonl). Invalid UTF-8 is an Error.
void write_synth_records(const std::string& path, const std::vector<SynthRecord>& records);
void write_chat_records(const std::string& path, const std::vector<ChatRecord>& records);

}  // namespace autothink::data
