// BpeModel: byte-level BPE as tokenizer.json's "BPE" model applies it, on raw bytes (the
// byte-to-unicode map is undone once at load). A word's symbols start as its bytes and the
// lowest-ranked adjacent pair merges first (leftmost among equals), as Hugging Face's Word::merge_all.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace autothink::data {

class BpeModel {
 public:
  struct Merge {
    int left = -1, right = -1;  // token ids
  };

  // `token_bytes[id]` is each token's raw bytes ("" for an id no BPE word can produce); `merges`
  // in rank order. `ignore_merges`: a word that is itself a token is taken whole (Llama-3).
  // Throws autothink::Error (naming `where`) when a byte has no token or a merge's result is
  // not in the vocabulary.
  BpeModel(const std::vector<std::string>& token_bytes, const std::vector<Merge>& merges, bool ignore_merges,
           const std::string& where);

  // Appends the ids of one pre-tokenized word (raw bytes) to `out`.
  void encode_word(std::string_view word, std::vector<int>& out) const;

 private:
  void merge_word(std::string_view word, std::vector<int>& out) const;

  std::array<int, 256> byte_ids_{};
  std::unordered_map<std::string, int> bytes_to_id_;
  std::unordered_map<uint64_t, std::pair<int, int>> merges_;  // (left, right) -> (rank, merged id)
  bool ignore_merges_ = false;

  // Words seen before (most text repeats words); bounded, and cleared when full.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

}  // namespace autothink::data
