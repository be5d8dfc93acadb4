// add_kat_tokens over nlohmann::ordered_json (keeps the file's key order).
#include "data/tokenizer_json_edit.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "data/format/special_tokens.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_json.hpp"

namespace autothink::data {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

std::vector<KatTokenEdit> add_kat_tokens(const std::string& in, const std::string& out) {
  const std::string in_path = resolve_tokenizer_path(in);
  if (fs::path(in_path).extension() != ".json")
    throw Error("not a tokenizer.json", in_path, "give a Hugging Face tokenizer.json or a folder holding one");
  JsonTokenizer check(in_path);  // refuses what the backend cannot read, naming the field
  std::ifstream file(in_path, std::ios::binary);
  std::stringstream ss;
  ss << file.rdbuf();
  ordered_json doc = ordered_json::parse(ss.str());
  ordered_json& added = doc["added_tokens"];
  if (added.is_null()) added = ordered_json::array();

  int next_id = check.size();
  std::vector<KatTokenEdit> edits;
  for (int i = 0; i < format::kSpecialCount; ++i) {
    KatTokenEdit edit;
    edit.literal = std::string(format::kSpecialLiterals[i]);
    bool found = false;
    for (auto& token : added)
      if (token.value("content", "") == edit.literal) {
        found = true;
        edit.id = token["id"].get<int>();
        if (!token.value("special", false)) {
          token["special"] = true;
          token["normalized"] = false;
          edit.kind = KatTokenEdit::Kind::made_special;
        }
      }
    if (!found) {
      // A vocabulary entry spelled like the literal keeps its id; otherwise a new one.
      const auto& vocab = doc["model"]["vocab"];
      edit.id = vocab.contains(edit.literal) ? vocab[edit.literal].get<int>() : next_id++;
      added.push_back({{"id", edit.id}, {"content", edit.literal}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", true}});
      edit.kind = KatTokenEdit::Kind::added;
    }
    edits.push_back(edit);
  }

  fs::path out_path = out;
  if (out_path.extension() != ".json") out_path /= "tokenizer.json";
  if (out_path.has_parent_path()) fs::create_directories(out_path.parent_path());
  const fs::path tmp = out_path.string() + ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary);
    o << doc.dump(2, ' ', false, ordered_json::error_handler_t::strict) << "\n";
    if (!o) throw Error("cannot write the tokenizer", tmp.string(), "check the folder and free space");
  }
  fs::rename(tmp, out_path);
  Tokenizer written(out_path.string());  // the result must load with all 11 KAT tokens
  return edits;
}

}  // namespace autothink::data
