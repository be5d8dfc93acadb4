// Token shards: a binary, memory-mapped file of tokenized documents (ids + assistant loss mask +
// document offsets), written once and read by every rank without copying. Layout (little-endian):
//   "ATSHARD1" | u64 doc_count | u64 token_count | u64 offsets[doc_count + 1]
//   | i32 ids[token_count] | u8 mask[token_count]
// Document d is tokens [offsets[d], offsets[d+1]).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace autothink::data {

// Collects documents in memory, then writes one shard atomically (temp file + rename).
class TokenShardWriter {
 public:
  // ids and mask must have the same length (mask 1 = assistant token, in the loss).
  void add(const std::vector<int>& ids, const std::vector<unsigned char>& mask);
  std::size_t doc_count() const { return offsets_.size() - 1; }
  std::size_t token_count() const { return ids_.size(); }
  // Throws autothink::Error naming the path when it cannot be written.
  void write(const std::filesystem::path& path) const;

 private:
  std::vector<uint64_t> offsets_{0};
  std::vector<int32_t> ids_;
  std::vector<uint8_t> mask_;
};

// One document of a shard: views into the mapped file.
struct DocView {
  const int32_t* ids = nullptr;
  const uint8_t* mask = nullptr;
  std::size_t size = 0;
};

// A shard mapped read-only. Throws autothink::Error naming the file for a missing, truncated or
// foreign file (bad magic, offsets out of range).
class TokenShard {
 public:
  explicit TokenShard(const std::filesystem::path& path);
  std::size_t doc_count() const { return doc_count_; }
  std::size_t token_count() const { return token_count_; }
  DocView doc(std::size_t index) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::shared_ptr<const void> mapping_;
  std::size_t doc_count_ = 0, token_count_ = 0;
  const uint64_t* offsets_ = nullptr;
  const int32_t* ids_ = nullptr;
  const uint8_t* mask_ = nullptr;
};

}  // namespace autothink::data
