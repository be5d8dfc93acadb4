// tokenizer.json (byte-level BPE) against Hugging Face `tokenizers`: identical ids with special
// tokens matched and not, identical decoded text, on a corpus of English, CJK, code, emoji/ZWJ,
// combining marks, whitespace runs, digits, special literals and invalid UTF-8, for Qwen2's,
// Llama-3's and GPT-2's pre-tokenizer settings (tokenizer_json_reference.py trains them); then
// real published vocabularies (Qwen2, Llama-3 from llama.cpp's test files) and the error cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/shell_quote.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_json.hpp"
#include "data/tokenizer_json_edit.hpp"
#include "data/unicode_text.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string pieces_of(const JsonTokenizer& tok, const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += "[" + (id >= 0 && id < tok.size() ? tok.piece(id) : "?") + "]";
  return s;
}

// Runs the reference script once for the whole suite.
class tokenizer_json_reference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = autothink::testing::temp_dir("tokenizer-json");
    auto run = autothink::testing::run_command(
        autothink::testing::python() + " " +
            core::shell_quote((autothink::testing::source_dir() / "tests/data/tokenizer_json_reference.py").string()) +
            " --out " + core::shell_quote(dir_.string()),
        true);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    corpus_ = json::parse(autothink::testing::read_text_file(dir_ / "corpus.json"));
    expected_ = json::parse(autothink::testing::read_text_file(dir_ / "expected.json"));
  }
  static void expect_parity(const std::string& name) {
    ASSERT_TRUE(expected_.contains(name));
    const JsonTokenizer tok((dir_ / name / "tokenizer.json").string());
    const json& rows = expected_[name];
    ASSERT_EQ(rows.size(), corpus_.size());
    for (size_t i = 0; i < corpus_.size(); ++i) {
      const std::string raw = from_hex(corpus_[i].get<std::string>());
      const std::string shown = replace_invalid_utf8(raw).substr(0, 80);
      for (bool specials : {true, false}) {
        std::vector<int> ids;
        tok.encode(raw, specials, ids);
        const auto want = rows[i][specials ? "with_specials" : "plain"].get<std::vector<int>>();
        EXPECT_EQ(ids, want) << name << " input " << i << " \"" << shown << "\" specials=" << specials
                             << "\n ours: " << pieces_of(tok, ids) << "\n   hf: " << pieces_of(tok, want);
        std::string decoded;
        for (int id : ids) decoded += tok.token_bytes(id);
        EXPECT_EQ(decoded, rows[i][specials ? "decoded_with_specials" : "decoded"].get<std::string>())
            << name << " input " << i << " \"" << shown << "\"";
      }
    }
  }
  static fs::path dir_;
  static json corpus_, expected_;
};
fs::path tokenizer_json_reference::dir_;
json tokenizer_json_reference::corpus_, tokenizer_json_reference::expected_;

TEST_F(tokenizer_json_reference, qwen2_settings_match_hugging_face) { expect_parity("qwen2"); }
TEST_F(tokenizer_json_reference, llama3_settings_match_hugging_face) { expect_parity("llama3"); }
TEST_F(tokenizer_json_reference, gpt2_settings_and_string_merges_match_hugging_face) { expect_parity("gpt2"); }

// Through data::Tokenizer, as every stage uses it: a folder with tokenizer.json selects it; user
// text never yields a KAT id, the template's segments and a raw prompt do.
TEST_F(tokenizer_json_reference, folder_selects_tokenizer_json_and_keeps_kat_tokens_out_of_user_text) {
  const Tokenizer tok((dir_ / "qwen2").string());
  EXPECT_STREQ(tok.kind(), "tokenizer.json");
  EXPECT_EQ(fs::path(tok.model_path()).filename(), "tokenizer.json");
  const auto plain = tok.encode_text("say <think_off> now");
  for (int id : plain) EXPECT_FALSE(tok.is_special(id)) << tok.id_to_piece(id);
  EXPECT_EQ(tok.decode(plain), "say <think_off> now");
  const auto raw = tok.encode_with_specials("say <think_off> now");
  EXPECT_NE(std::find(raw.begin(), raw.end(), tok.special_id(format::Special::think_off)), raw.end());
  std::vector<format::Segment> segments(2);
  segments[0].is_special = true;
  segments[0].special = format::Special::im_start;
  segments[1].text = "user\n<think>";
  const auto ids = tok.encode(segments);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], tok.special_id(format::Special::im_start));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(format::Special::think_open)), 0);
  // Streaming: the bytes of each token concatenate to the text, whatever the UTF-8 boundaries.
  std::string streamed;
  for (int id : tok.encode_text("你好 👨‍👩‍👧‍👦")) streamed += tok.decode_token_bytes(id);
  EXPECT_EQ(streamed, "你好 👨‍👩‍👧‍👦");
}

// llama.cpp's tokenizer tests: published Qwen2 / Llama-3 vocabularies (GGUF, converted to
// tokenizer.json by tokenizer_json_gguf.py) with llama.cpp's inputs and expected ids.
class llama_cpp_vocab : public ::testing::TestWithParam<std::string> {};

TEST_P(llama_cpp_vocab, matches_llama_cpp_expected_ids) {
  const fs::path models = autothink::testing::source_dir() / ".deps/llama.cpp/models";
  const fs::path gguf = models / ("ggml-vocab-" + GetParam() + ".gguf");
  if (!fs::exists(gguf)) GTEST_SKIP() << "no " << gguf << " (scripts/deps.sh fetches llama.cpp's vocab files)";
  const fs::path dir = autothink::testing::temp_dir("llama-vocab-" + GetParam());
  auto run = autothink::testing::run_command(
      autothink::testing::python() + " " +
          core::shell_quote((autothink::testing::source_dir() / "tests/data/tokenizer_json_gguf.py").string()) + " " +
          core::shell_quote(gguf.string()) + " " + core::shell_quote((dir / "tokenizer.json").string()),
      true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const JsonTokenizer tok((dir / "tokenizer.json").string());
  // .inp: inputs separated by "\n__ggml_vocab_test__\n"; .out: one line of ids per input.
  const std::string inputs = autothink::testing::read_text_file(gguf.string() + ".inp");
  std::istringstream outputs(autothink::testing::read_text_file(gguf.string() + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t start = 0, cases = 0;
  std::string line;
  while (start < inputs.size() && std::getline(outputs, line)) {
    size_t end = inputs.find(sep, start);
    if (end == std::string::npos) end = inputs.size();
    const std::string input = inputs.substr(start, end - start);
    start = end + sep.size();
    std::vector<int> want;
    std::istringstream ids(line);
    for (int id; ids >> id;) want.push_back(id);
    std::vector<int> got;
    tok.encode(input, false, got);
    EXPECT_EQ(got, want) << GetParam() << " input \"" << input.substr(0, 60) << "\"\n ours: " << pieces_of(tok, got)
                         << "\n   llama.cpp: " << pieces_of(tok, want);
    ++cases;
  }
  EXPECT_GT(cases, 20u);
}

INSTANTIATE_TEST_SUITE_P(tokenizer_json_published, llama_cpp_vocab, ::testing::Values("qwen2", "llama-bpe"),
                         [](const auto& info) { return info.param == "qwen2" ? std::string("qwen2") : std::string("llama3"); });

// Each unsupported or broken file is an error naming the field and the file.
TEST(tokenizer_json, unsupported_settings_name_the_field) {
  const fs::path dir = autothink::testing::temp_dir("tokenizer-json-errors");
  json base = {{"model", {{"type", "BPE"}, {"vocab", json::object()}, {"merges", json::array()}}},
               {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
               {"decoder", {{"type", "ByteLevel"}}},
               {"added_tokens", json::array()}};
  // A full byte alphabet makes `base` valid.
  for (int b = 0, extra = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
    std::string utf8;
    if (c < 0x80) utf8 += static_cast<char>(c);
    else { utf8 += static_cast<char>(0xC0 | (c >> 6)); utf8 += static_cast<char>(0x80 | (c & 0x3F)); }
    base["model"]["vocab"][utf8] = b;
  }
  auto expect_error = [&](const json& doc, const std::string& needle) {
    const fs::path path = dir / "tokenizer.json";
    std::ofstream(path) << doc.dump();
    try {
      JsonTokenizer tok(path.string());
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(e.where().rfind(path.string(), 0), 0u) << e.where();  // the file, maybe with the field
    }
  };
  { JsonTokenizer ok(((void)(std::ofstream(dir / "ok.json") << base.dump()), (dir / "ok.json").string())); }
  json doc = base;
  doc["model"]["type"] = "WordPiece";
  expect_error(doc, "model.type");
  doc = base;
  doc["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_error(doc, "pre_tokenizer: pre-tokenizer \"Metaspace\"");
  doc = base;
  doc["normalizer"] = {{"type", "Lowercase"}};
  expect_error(doc, "normalizer");
  doc = base;
  doc["decoder"] = {{"type", "Metaspace"}};
  expect_error(doc, "decoder");
  doc = base;
  json split = {{"type", "Split"}, {"behavior", "Isolated"}};
  split["pattern"] = {{"Regex", "(("}};
  doc["pre_tokenizer"] = {{"type", "Sequence"}};
  doc["pre_tokenizer"]["pretokenizers"] = json::array({split});
  expect_error(doc, "does not compile");
  doc = base;
  doc["model"]["vocab"].erase("A");
  expect_error(doc, "no token for byte 0x41");
  doc = base;
  doc["model"]["merges"] = {"A B"};
  expect_error(doc, "merge 0 makes a token that is not in the vocabulary");
  doc = base;
  doc["model"]["merges"] = {"AB"};
  expect_error(doc, "model.merges[0]");
  // Without the KAT tokens, data::Tokenizer says which one and how to add them.
  std::ofstream(dir / "tokenizer.json") << base.dump();
  try {
    Tokenizer tok(dir.string());
    ADD_FAILURE() << "a tokenizer.json without KAT tokens was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks the KAT special token <"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"special\": true"), std::string::npos) << e.what();
  }
}

TEST(tokenizer_json, invalid_utf8_is_replaced_per_maximal_subpart) {
  // As Python's bytes.decode(errors="replace") and Rust's from_utf8_lossy.
  EXPECT_EQ(replace_invalid_utf8("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(replace_invalid_utf8("\xe4\xbd"), "\xEF\xBF\xBD");                  // one truncated sequence
  EXPECT_EQ(replace_invalid_utf8("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");      // overlong: two bytes, two
  EXPECT_EQ(replace_invalid_utf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(replace_invalid_utf8("ok \xe4\xbd\xa0"), "ok \xe4\xbd\xa0");
}

}  // namespace
}  // namespace autothink::data

namespace autothink::data {
namespace {

// add_kat_tokens: a Qwen3-style tokenizer.json (3 of the 11 KAT literals special, <think> and
// </think> plain) gains the rest as new special ids; tokenizers reads the edited file and
// agrees with us on KAT literals and on ordinary text, whose ids do not change.
TEST(tokenizer_json, add_kat_tokens_extends_a_checkpoint_tokenizer_as_tokenizers_reads_it) {
  const fs::path dir = autothink::testing::temp_dir("tokenizer-json-kat");
  const std::string helper =
      autothink::testing::python() + " " +
      core::shell_quote((autothink::testing::source_dir() / "tests/data/tokenizer_json_kat_check.py").string());
  auto made = autothink::testing::run_command(helper + " make " + core::shell_quote((dir / "tokenizer.json").string()), true);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_THROW(Tokenizer(dir.string()), Error);  // no KAT tokens yet
  const JsonTokenizer before((dir / "tokenizer.json").string());

  const auto edits = add_kat_tokens(dir.string(), (dir / "kat").string());
  ASSERT_EQ(edits.size(), 11u);
  int added = 0, made_special = 0;
  for (const auto& e : edits) {
    added += e.kind == KatTokenEdit::Kind::added;
    made_special += e.kind == KatTokenEdit::Kind::made_special;
    if (e.kind == KatTokenEdit::Kind::added) {
      EXPECT_GE(e.id, before.size()) << e.literal;
    }
  }
  EXPECT_EQ(added, 6);         // <judge> </judge> <think_on> <think_off> <answer> </answer>
  EXPECT_EQ(made_special, 2);  // <think> </think>

  const Tokenizer tok((dir / "kat").string());
  EXPECT_TRUE(tok.has_kat_tokens());
  EXPECT_EQ(tok.vocab_size(), before.size() + 6);
  const std::string text = "<|im_start|>user\njudge <judge>this</judge><think_on> and think<think>x</think> hello";
  auto hf = autothink::testing::run_command(
      helper + " encode " + core::shell_quote((dir / "kat" / "tokenizer.json").string()) + " " + core::shell_quote(text));
  ASSERT_EQ(hf.exit_code, 0) << hf.output;
  const json want = json::parse(hf.output);
  EXPECT_EQ(tok.encode_with_specials(text), want["raw"].get<std::vector<int>>());
  EXPECT_EQ(tok.encode_text(text), want["plain"].get<std::vector<int>>());
  for (int id : tok.encode_text(text)) EXPECT_FALSE(tok.is_special(id)) << tok.id_to_piece(id);
  std::vector<int> old_ids;
  before.encode("hello world, judge then think", false, old_ids);
  EXPECT_EQ(tok.encode_text("hello world, judge then think"), old_ids);
}

}  // namespace
}  // namespace autothink::data
