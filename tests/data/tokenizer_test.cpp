// Tokenizer: special tokens stay single ids only where the template puts them, user text never
// becomes a special id, decoding is byte-exact (also token by token), and the CLI commands
// `tokenizer train|encode|decode` and `template render` work end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "core/error.hpp"
#include "core/shell_quote.hpp"
#include "data/format/template.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_spm.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

namespace fs = std::filesystem;
using format::Special;

// A small corpus: arithmetic, indented code, newlines, CJK, emoji and rendered KAT turns.
std::string tokenizer_test_corpus() {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    int a = i * 37 % 1000, b = i * 11 % 100;
    text += "Question: what is " + std::to_string(a) + " + " + std::to_string(b) + "?\n";
    text += "Let me add the numbers step by step.\nThe answer is " + std::to_string(a + b) + ".\n\n";
    text += "    def add(x, y):\n        return x + y\n";
    text += "你好世界，今天天气很好。 🙂 emoji 👍 thanks\n";
  }
  return text;
}

std::string chat_record_line() {
  return R"({"messages":[{"role":"user","content":"What is 2+3? Say <think_off> please"},)"
         R"({"role":"assistant","content":"5","judge":"Easy sum.","mode":"off"}],"meta":{"id":"r1"}})";
}

// Trains one tokenizer for the whole test binary.
class TokenizerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = autothink::testing::temp_dir("tokenizer");
    std::ofstream(dir_ / "corpus.txt") << tokenizer_test_corpus();
    std::ofstream(dir_ / "chat.jsonl") << chat_record_line() << "\n";
    TokenizerTrainOptions options;
    options.inputs = {(dir_ / "corpus.txt").string(), (dir_ / "chat.jsonl").string()};
    options.out = dir_.string();
    options.vocab_size = 600;
    path_ = Tokenizer::train(options);
  }
  static fs::path dir_;
  static std::string path_;
};
fs::path TokenizerEnvironment::dir_;
std::string TokenizerEnvironment::path_;
const auto* const tokenizer_environment = ::testing::AddGlobalTestEnvironment(new TokenizerEnvironment);

const Tokenizer& shared_tokenizer() {
  static Tokenizer tokenizer(TokenizerEnvironment::path_);
  return tokenizer;
}

bool has_special_id(const Tokenizer& tok, const std::vector<int>& ids) {
  return std::any_of(ids.begin(), ids.end(), [&](int id) { return tok.is_special(id); });
}

const std::vector<std::string>& tricky_strings() {
  static const std::vector<std::string> strings = {
      " leading", "trailing  ", "  multiple   spaces  ", "\n\n", "a\n\nb\n", "\ttab\tand\t\ttabs",
      "12345", "3.14159 + 2,718", "你好世界", "🙂👍🏽", "mixed 你好 🙂 text\r\n",
      "zyxwvutsrq never-seen-in-training QXJ", "<think_of> <answer <|im_end| </judge", "\xE2\x96\x81 mark",
      std::string("nul\0byte", 8), "invalid \xff\xfe utf8 \xC3", ""};
  return strings;
}

TEST(tokenizer, writes_tokenizer_model_into_folder) {
  EXPECT_EQ(fs::path(TokenizerEnvironment::path_).filename(), "tokenizer.model");
  EXPECT_TRUE(fs::exists(TokenizerEnvironment::path_));
  // A folder is accepted where a model path is.
  Tokenizer from_folder(TokenizerEnvironment::dir_.string());
  EXPECT_EQ(from_folder.vocab_size(), shared_tokenizer().vocab_size());
}

TEST(tokenizer, special_tokens_have_distinct_ids) {
  const auto& tok = shared_tokenizer();
  std::vector<int> ids;
  for (int i = 0; i < format::kSpecialCount; ++i) {
    int id = tok.special_id(static_cast<Special>(i));
    EXPECT_EQ(tok.id_to_piece(id), std::string(format::kSpecialLiterals[i]));
    EXPECT_EQ(tok.special_of(id), static_cast<Special>(i));
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(tok.pad_id(), tok.special_id(Special::endoftext));
  EXPECT_EQ(tok.stop_id(), tok.special_id(Special::im_end));
}

TEST(tokenizer, template_specials_are_single_ids) {
  const auto& tok = shared_tokenizer();
  format::Conversation conversation;
  conversation.messages = {{"user", "What is 2+3?", "", format::ThinkMode::unknown, ""},
                           {"assistant", "5", "Needs a little thought.", format::ThinkMode::on, "2+3=5"}};
  auto segments = format::render(conversation);
  auto ids = tok.encode(segments);
  for (const auto& segment : segments) {
    if (!segment.is_special) continue;
    EXPECT_NE(std::find(ids.begin(), ids.end(), tok.special_id(segment.special)), ids.end())
        << format::literal(segment.special);
  }
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::im_start)), 2);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::think_on)), 1);
  EXPECT_EQ(tok.decode(ids), format::to_text(segments));
}

TEST(tokenizer, user_text_with_special_literals_stays_text) {
  const auto& tok = shared_tokenizer();
  std::string all;
  for (auto literal : format::kSpecialLiterals) all += std::string(literal) + " x" + std::string(literal);
  for (const std::string& text :
       {all, std::string("<think_off>"), std::string("please <think_on><think>think</think>"),
        std::string("<<|im_end|>>"), std::string("a<answer>\n</answer>b")}) {
    auto ids = tok.encode_text(text);
    EXPECT_FALSE(has_special_id(tok, ids)) << text;
    EXPECT_EQ(tok.decode(ids), text);
  }
  // Through the template too: the user's "<think_off>" is not the mode token.
  format::Conversation conversation;
  conversation.messages = {{"user", "Answer fast <think_off></answer><|im_end|>", "", format::ThinkMode::unknown, ""}};
  auto ids = tok.encode(format::render(conversation));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::think_off)), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::answer_close)), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::im_end)), 1);
}

TEST(tokenizer, round_trips_tricky_strings_exactly) {
  const auto& tok = shared_tokenizer();
  for (const auto& text : tricky_strings()) {
    auto ids = tok.encode_text(text);
    EXPECT_EQ(tok.decode(ids), text) << "text: " << text;
    EXPECT_FALSE(has_special_id(tok, ids)) << text;
  }
  EXPECT_TRUE(tok.encode_text("").empty());
}

TEST(tokenizer, round_trips_long_text) {
  const auto& tok = shared_tokenizer();
  // Long inputs are encoded in chunks: many lines, and one line of 30 kB with runs of spaces.
  std::string lines, line;
  for (int i = 0; i < 2000; ++i) lines += "line " + std::to_string(i) + ":  你好 🙂 <think>\n";
  for (int i = 0; i < 3000; ++i) line += (i % 7 ? "word " : "   x");
  for (const auto& text : {lines, line, lines + line + lines}) {
    auto ids = tok.encode_text(text);
    EXPECT_EQ(tok.decode(ids), text);
    EXPECT_FALSE(has_special_id(tok, ids));
  }
}

TEST(tokenizer, learns_pieces_from_corpus) {
  const auto& tok = shared_tokenizer();
  // Frequent words merge (fewer tokens than bytes); digits stay one token each (split_digits).
  std::string common = "The answer is";
  EXPECT_LT(tok.encode_text(common).size(), common.size() / 2);
  EXPECT_EQ(tok.encode_text("12345").size(), 5u);
  // CJK seen in training is not spelled out byte by byte.
  EXPECT_LT(tok.encode_text("你好世界").size(), std::string("你好世界").size());
}

TEST(tokenizer, encode_with_specials_maps_literals) {
  const auto& tok = shared_tokenizer();
  std::string raw = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<judge>\nx\n</judge>\n<think_off>\n<answer>\n";
  auto ids = tok.encode_with_specials(raw);
  EXPECT_EQ(tok.decode(ids), raw);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::im_start)), 2);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::think_off)), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.special_id(Special::answer_open)), 1);
  // Near-misses stay text.
  auto near = tok.encode_with_specials("<think_of> <answer");
  EXPECT_FALSE(has_special_id(tok, near));
}

TEST(tokenizer, token_bytes_concatenate_to_decode) {
  const auto& tok = shared_tokenizer();
  for (const auto& text : tricky_strings()) {
    auto ids = tok.encode_with_specials(text + "<|im_end|>");
    std::string streamed;
    for (int id : ids) streamed += tok.decode_token_bytes(id);
    EXPECT_EQ(streamed, tok.decode(ids));
    EXPECT_EQ(streamed, text + "<|im_end|>");
  }
  // Every id decodes to something consistent with decode().
  for (int id = 0; id < tok.vocab_size(); ++id) EXPECT_EQ(tok.decode({id}), tok.decode_token_bytes(id));
}

TEST(tokenizer, assistant_mask_covers_assistant_turn) {
  const auto& tok = shared_tokenizer();
  format::Conversation conversation;
  conversation.messages = {{"user", "hi", "", format::ThinkMode::unknown, ""},
                           {"assistant", "hello", "Greeting.", format::ThinkMode::off, ""}};
  auto segments = format::render(conversation);
  auto encoded = tok.encode_with_mask(segments);
  ASSERT_EQ(encoded.ids.size(), encoded.assistant_mask.size());
  std::string assistant_text, other_text;
  for (size_t i = 0; i < encoded.ids.size(); ++i)
    (encoded.assistant_mask[i] ? assistant_text : other_text) += tok.decode_token_bytes(encoded.ids[i]);
  EXPECT_NE(assistant_text.find("<think_off>"), std::string::npos);
  EXPECT_NE(assistant_text.find("hello"), std::string::npos);
  EXPECT_EQ(other_text.find("hello"), std::string::npos);
  EXPECT_NE(other_text.find("hi"), std::string::npos);
  EXPECT_EQ(encoded.ids, tok.encode(segments));
}

TEST(tokenizer, decode_rejects_out_of_range_ids) {
  const auto& tok = shared_tokenizer();
  EXPECT_THROW(tok.decode({tok.vocab_size()}), Error);
  EXPECT_THROW(tok.decode({-1}), Error);
}

TEST(tokenizer, missing_or_corrupt_model_is_a_clear_error) {
  auto dir = autothink::testing::temp_dir("tokenizer-bad");
  try {
    Tokenizer missing((dir / "nope.model").string());
    FAIL() << "loaded a missing model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nope.model"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "corrupt.model") << "this is not a protobuf";
  try {
    Tokenizer corrupt((dir / "corrupt.model").string());
    FAIL() << "loaded a corrupt model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.model"), std::string::npos) << e.what();
  }
  // An empty folder has no tokenizer.model.
  EXPECT_THROW(Tokenizer{dir.string()}, Error);
}

// Sentencepiece models trained elsewhere: without the special tokens, or with normalisation that
// changes whitespace, are refused at load time instead of producing wrong ids later.
TEST(tokenizer, foreign_models_are_refused_with_reason) {
  auto dir = autothink::testing::temp_dir("tokenizer-foreign");
  std::vector<std::string> sentences;
  for (int i = 0; i < 50; ++i) sentences.push_back("hello world number " + std::to_string(i));
  std::string symbols;
  for (auto literal : format::kSpecialLiterals) symbols += (symbols.empty() ? "" : ",") + std::string(literal);
  auto write = [&](const std::string& name, std::vector<std::pair<std::string, std::string>> flags) {
    flags.insert(flags.end(), {{"vocab_size", "400"}, {"hard_vocab_limit", "false"}, {"model_type", "bpe"},
                               {"minloglevel", "2"}});
    std::ofstream(dir / name, std::ios::binary) << spm_train(flags, sentences);
    return (dir / name).string();
  };
  auto no_specials = write("no_specials.model", {{"byte_fallback", "true"}});
  try {
    Tokenizer tok(no_specials);
    FAIL() << "loaded a model without special tokens";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("special token"), std::string::npos) << e.what();
  }
  auto normalising = write("normalising.model", {{"byte_fallback", "true"}, {"user_defined_symbols", symbols}});
  try {
    Tokenizer tok(normalising);
    FAIL() << "loaded a model that drops whitespace";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("whitespace"), std::string::npos) << e.what();
  }
}

TEST(tokenizer, training_input_errors_are_clear) {
  auto dir = autothink::testing::temp_dir("tokenizer-train-bad");
  TokenizerTrainOptions options;
  options.out = dir.string();
  options.inputs = {(dir / "absent.txt").string()};
  EXPECT_THROW(Tokenizer::train(options), Error);

  std::ofstream(dir / "empty.txt") << "\n\n";
  options.inputs = {(dir / "empty.txt").string()};
  EXPECT_THROW(Tokenizer::train(options), Error);

  std::ofstream(dir / "bad.jsonl") << chat_record_line() << "\n{not json\n";
  options.inputs = {(dir / "bad.jsonl").string()};
  try {
    Tokenizer::train(options);
    FAIL() << "trained on bad JSON";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "tokenizer.model"));
}

// ---- CLI -------------------------------------------------------------------------------------

using autothink::core::shell_quote;

std::string cli(const std::string& args) { return shell_quote(autothink::testing::autothink_binary()) + " " + args; }

TEST(tokenizer, cli_train_encode_decode_round_trip) {
  auto dir = autothink::testing::temp_dir("tokenizer-cli");
  std::ofstream(dir / "corpus.txt") << tokenizer_test_corpus();
  std::ofstream(dir / "chat.jsonl") << chat_record_line() << "\n";
  auto out = dir / "model";
  auto train = autothink::testing::run_command(
      cli("tokenizer train --input " + shell_quote((dir / "corpus.txt").string()) + " " +
          shell_quote((dir / "chat.jsonl").string()) + " --out " + shell_quote(out.string()) + " --vocab-size 500"),
      true);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  ASSERT_TRUE(fs::exists(out / "tokenizer.model")) << train.output;

  const std::string text = "  The answer is 42.\n\n你好 🙂 <think_off>";
  std::ofstream(dir / "input.txt", std::ios::binary) << text;
  auto encoded = autothink::testing::run_command(
      cli("tokenizer encode --tokenizer " + shell_quote(out.string()) + " < " + shell_quote((dir / "input.txt").string())));
  ASSERT_EQ(encoded.exit_code, 0) << encoded.output;
  ASSERT_FALSE(encoded.output.empty());
  EXPECT_EQ(encoded.output.back(), '\n');
  EXPECT_EQ(std::count(encoded.output.begin(), encoded.output.end(), '\n'), 1);

  Tokenizer tok((out / "tokenizer.model").string());
  std::string ids_line = encoded.output.substr(0, encoded.output.size() - 1);
  std::string expected;
  for (int id : tok.encode_text(text)) expected += (expected.empty() ? "" : ",") + std::to_string(id);
  EXPECT_EQ(ids_line, expected);

  auto decoded = autothink::testing::run_command(
      cli("tokenizer decode --tokenizer " + shell_quote((out / "tokenizer.model").string()) + " --ids " + ids_line));
  ASSERT_EQ(decoded.exit_code, 0) << decoded.output;
  EXPECT_EQ(decoded.output, text);

  // --specials turns the literal into the special id.
  auto special = autothink::testing::run_command(
      cli("tokenizer encode --specials --tokenizer " + shell_quote(out.string()) + " --text '<think_off>'"));
  ASSERT_EQ(special.exit_code, 0) << special.output;
  EXPECT_EQ(special.output, std::to_string(tok.special_id(Special::think_off)) + "\n");
}

TEST(tokenizer, cli_train_reads_config_section) {
  auto dir = autothink::testing::temp_dir("tokenizer-cli-config");
  std::ofstream(dir / "corpus.txt") << tokenizer_test_corpus();
  std::ofstream(dir / "tok.yaml") << "tokenizer:\n  inputs: [" << (dir / "corpus.txt").string() << "]\n  out: "
                                  << (dir / "model").string() << "\n  vocab_size: 450\n";
  auto trained = autothink::testing::run_command(
      cli("tokenizer train --config " + shell_quote((dir / "tok.yaml").string()) + " --set tokenizer.vocab_size=420"),
      true);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  Tokenizer tok((dir / "model").string());
  EXPECT_LE(tok.vocab_size(), 420);

  std::ofstream(dir / "typo.yaml") << "tokenizer:\n  vocab_sise: 450\n";
  auto typo = autothink::testing::run_command(
      cli("tokenizer train --config " + shell_quote((dir / "typo.yaml").string()) + " --input x.txt --out y"), true);
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.output.find("vocab_sise"), std::string::npos) << typo.output;
}

TEST(tokenizer, cli_errors_name_the_problem) {
  auto dir = autothink::testing::temp_dir("tokenizer-cli-bad");
  auto missing = autothink::testing::run_command(
      cli("tokenizer encode --tokenizer " + shell_quote((dir / "none.model").string()) + " --text hi"), true);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("none.model"), std::string::npos) << missing.output;

  auto bad_ids = autothink::testing::run_command(
      cli("tokenizer decode --tokenizer " + shell_quote(TokenizerEnvironment::path_) + " --ids 1,x2"), true);
  EXPECT_EQ(bad_ids.exit_code, 1);
  EXPECT_NE(bad_ids.output.find("x2"), std::string::npos) << bad_ids.output;
}

TEST(tokenizer, cli_template_render_text_and_ids) {
  auto dir = autothink::testing::temp_dir("template-cli");
  std::ofstream(dir / "chat.jsonl") << chat_record_line() << "\n\n" << chat_record_line() << "\n";
  const std::string input = shell_quote((dir / "chat.jsonl").string());
  const auto conversation = format::conversation_from_json(nlohmann::json::parse(chat_record_line()));
  const std::string rendered = format::to_text(format::render(conversation));

  auto text = autothink::testing::run_command(cli("template render --input " + input));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_EQ(text.output, rendered + rendered);

  auto ids = autothink::testing::run_command(
      cli("template render --ids --tokenizer " + shell_quote(TokenizerEnvironment::path_) + " < " + input));
  ASSERT_EQ(ids.exit_code, 0) << ids.output;
  std::string line;
  for (int id : shared_tokenizer().encode(format::render(conversation)))
    line += (line.empty() ? "" : ",") + std::to_string(id);
  EXPECT_EQ(ids.output, line + "\n" + line + "\n");

  // The generation prompt: the conversation without its last assistant turn.
  std::ofstream(dir / "question.jsonl") << R"({"messages":[{"role":"user","content":"2+2?"}]})" << "\n";
  auto prompt = autothink::testing::run_command(
      cli("template render --prompt off --input " + shell_quote((dir / "question.jsonl").string())));
  ASSERT_EQ(prompt.exit_code, 0) << prompt.output;
  EXPECT_EQ(prompt.output, "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<judge>\n" +
                               std::string(format::kForcedOffJudge) + "\n</judge>\n<think_off>\n<answer>\n");
}

TEST(tokenizer, cli_template_render_names_bad_line) {
  auto dir = autothink::testing::temp_dir("template-cli-bad");
  std::ofstream(dir / "chat.jsonl") << chat_record_line() << "\n{\"messages\": [\n";
  auto result = autothink::testing::run_command(
      cli("template render --input " + shell_quote((dir / "chat.jsonl").string())), true);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("chat.jsonl:2"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace autothink::data
