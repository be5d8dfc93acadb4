// autothink::data::Tokenizer — the one tokenizer (DESIGN.md §3) over either file kind the model
// folder holds (TokenizerBackend): our sentencepiece tokenizer.model, or a Hugging Face
// tokenizer.json (byte-level BPE: Qwen2 / Qwen3 / KAT-V1 / Llama-3). Either must have the 11 KAT
// special tokens as single special tokens. Plain text never turns into a special id (a literal
// "<think_off>" typed by a user stays text; HF's split_special_tokens=True); template segments
// and trusted raw prompts do. Decoding works token by token (decode_token_bytes) for streaming.
#pragma once
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/format/special_tokens.hpp"
#include "data/format/template.hpp"
#include "data/tokenizer_backend.hpp"

namespace autothink::data {

// What `Tokenizer::train` reads and writes.
struct TokenizerTrainOptions {
  // Corpus files: .jsonl (chat records, synth records, or {"text": ...}) or plain text (any other
  // extension; one document per file, read line by line).
  std::vector<std::string> inputs;
  // Extra in-memory documents (tests, generated corpora).
  std::vector<std::string> texts;
  // Where tokenizer.model goes: a file path ending in ".model", or a folder (created if needed)
  // that receives "tokenizer.model".
  std::string out;
  int vocab_size = 4096;     // an upper bound: a small corpus yields a smaller vocabulary
  std::string model_type = "bpe";  // "bpe" (default, deterministic merges like Qwen2) | "unigram"
  long max_sentences = 2000000;    // lines sampled for training (the trainer's input_sentence_size)
  int num_threads = 2;

  // The `tokenizer` config section (core/config_schema.hpp); `texts` is not a config key.
  template <class V> void fields(V& v) {
    v("inputs", inputs, "corpus files (.jsonl records or plain text)");
    v("out", out, "output folder (receives tokenizer.model) or a .model path");
    v("vocab_size", vocab_size, "largest vocabulary; 268 pieces are fixed (unk, 11 special tokens, 256 bytes)");
    v("model_type", model_type, "bpe or unigram");
    v("max_sentences", max_sentences, "lines sampled for training");
    v("num_threads", num_threads, "trainer threads");
  }
};

// Token ids together with the training-loss mask (1 = the assistant wrote this token).
struct EncodedSegments {
  std::vector<int> ids;
  std::vector<unsigned char> assistant_mask;
};

// A model family without the KAT tokens (a Qwen3 or DeepSeek-R1 checkpoint served with its own
// chat template) loads with require_kat_tokens = false; the KAT stages (train, rl, tag) keep the default.
struct TokenizerOptions {
  bool require_kat_tokens = true;
};

class Tokenizer {
 public:
  using TrainOptions = TokenizerTrainOptions;

  // Trains a model and writes it (atomically) where options.out says. Returns the written path.
  // Throws autothink::Error for a missing input, an unreadable record (file:line) or an empty corpus.
  static std::string train(const TrainOptions& options);

  // `model_path` is a tokenizer.model or tokenizer.json file, or a model folder holding one
  // (resolve_tokenizer_path). Throws autothink::Error when it is missing, unreadable, of a kind
  // not supported, or lacks a KAT special token.
  explicit Tokenizer(const std::string& model_path, TokenizerOptions options = {});
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  const std::string& model_path() const { return model_path_; }
  int vocab_size() const;
  // All 11 present (always so when require_kat_tokens).
  bool has_kat_tokens() const { return has_kat_tokens_; }
  // The id of a KAT special token; the tokenizer must have it (an internal error otherwise).
  int special_id(format::Special special) const;
  // The id of a special or added token spelled `literal` ("<think>", "<|im_end|>"), if any.
  std::optional<int> token_id(std::string_view literal) const { return backend_->added_token_id(literal); }
  // The special token an id stands for, if any.
  std::optional<format::Special> special_of(int id) const;
  bool is_special(int id) const { return special_of(id).has_value(); }
  int pad_id() const { return special_id(format::Special::endoftext); }
  int stop_id() const { return special_id(format::Special::im_end); }

  // Plain (untrusted) text: special-token literals in it are encoded as ordinary text (a
  // tokenizer.json's non-special added tokens still match, as in Hugging Face).
  std::vector<int> encode_text(std::string_view text) const;
  // Template output: special segments become their ids, text segments go through encode_text.
  std::vector<int> encode(const std::vector<format::Segment>& segments) const;
  EncodedSegments encode_with_mask(const std::vector<format::Segment>& segments) const;
  // Trusted raw prompt (/v1/completions): special-token literals in it ARE special ids.
  std::vector<int> encode_with_specials(std::string_view raw) const;

  // The bytes the ids stand for; special ids become their literals. Exact for sentencepiece; a
  // tokenizer.json encodes invalid UTF-8 as U+FFFD first (as Hugging Face's text input does). Throws autothink::Error for an id out of range.
  std::string decode(const std::vector<int>& ids) const;
  // The exact bytes one token contributes to `decode` (a byte piece gives one byte, possibly an
  // incomplete UTF-8 sequence: a streaming client buffers until the sequence completes).
  const std::string& decode_token_bytes(int id) const;
  // The token as its file spells it ("▁the", "Ġthe", "<0x0A>", "<think>"), for debugging.
  std::string id_to_piece(int id) const;
  // "sentencepiece" or "tokenizer.json".
  const char* kind() const { return backend_->kind(); }

 private:
  void check_id(int id) const;

  std::string model_path_;
  std::unique_ptr<TokenizerBackend> backend_;
  std::array<int, format::kSpecialCount> special_ids_{};  // -1 where missing
  bool has_kat_tokens_ = true;
};

// The tokenizer file for a path: a file as is; a folder's "tokenizer.json" when it has one (what
// Hugging Face checkpoints ship), else its "tokenizer.model" (what autothink writes).
std::string resolve_tokenizer_path(const std::string& path_or_folder);

}  // namespace autothink::data
