// Packed batches from a token shard, one document per row: each row holds one document padded
// with <|endoftext|> (mask 0) to the longest document of its micro-batch (at most max_len).
// Why pad per document rather than concatenate: a row never mixes documents, so causal attention
// never crosses a document boundary without needing a block-diagonal mask, and a document's loss
// does not depend on which documents share its batch — the 1-rank and N-rank runs see exactly the
// same per-document computation. When lengths differ a lot (think-on records are 3-4x think-off
// ones), group_by_length keeps the padding down (as Hugging Face's group_by_length does) — but
// where length tracks the kind of record, every step then holds one kind, which stalled the tiny
// teacher (docs/DESIGN.md §8).
//
// Order: every epoch is a permutation of the shard's documents drawn from (seed, epoch). One
// optimizer step consumes `global_batch = world × rows × accumulation` consecutive documents of
// that permutation; slot j of the step goes to micro-batch j / (world × rows), rank
// (j / rows) % world — so ranks read disjoint documents and the step's documents are the same for
// any world size. With group_by_length, each window of 32 global batches of the permutation is
// sorted by length and the epoch's global batches are then shuffled again, so one step holds
// documents of similar length while steps stay in random order (still the same for any world
// size). A partial global batch at an epoch's end is dropped. The position (epoch, index)
// is what a checkpoint stores.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/token_shard.hpp"

namespace autothink::data {

struct DataPosition {
  int64_t epoch = 0;
  int64_t index = 0;  // documents of this epoch's permutation already consumed
};

// Token ids and loss mask, row-major [rows, cols]. The model reads ids[:, :-1] and predicts
// ids[:, 1:]; mask[:, 1:] says which targets are in the loss.
struct Batch {
  int64_t rows = 0, cols = 0;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  int64_t tokens = 0;          // real (non-pad) tokens
  int64_t masked_targets = 0;  // targets in the loss: mask[:, 1:] summed
};

struct BatcherOptions {
  int64_t rows = 1;          // documents per micro-batch (per rank)
  int64_t accumulation = 1;  // micro-batches per optimizer step
  int rank = 0, world = 1;
  uint64_t seed = 0;
  int32_t pad_id = 0;        // <|endoftext|>
  int64_t max_len = 0;       // cut rows to this many tokens (0 = no limit)
  bool shuffle = true;
  bool group_by_length = false;  // steps of similar-length documents (see above); needs shuffle
};

// Builds one batch from documents (pads with pad_id, mask 0).
Batch make_batch(const TokenShard& shard, const std::vector<std::size_t>& docs, int32_t pad_id, int64_t max_len);

class Batcher {
 public:
  // Throws autothink::Error when the shard holds fewer documents than one global batch.
  Batcher(const TokenShard& shard, BatcherOptions options);

  int64_t global_batch() const { return global_batch_; }
  // This rank's micro-batches for the next optimizer step (accumulation of them); advances the position.
  std::vector<Batch> next_step();
  // The documents next_step would give this rank, per micro-batch (without advancing).
  std::vector<std::vector<std::size_t>> peek_step_docs() const;
  DataPosition position() const { return position_; }
  void set_position(DataPosition position);

 private:
  void ensure_permutation(int64_t epoch) const;
  void group_permutation_by_length(int64_t epoch) const;

  const TokenShard& shard_;
  BatcherOptions options_;
  int64_t global_batch_ = 0;
  DataPosition position_;
  mutable int64_t perm_epoch_ = -1;
  mutable std::vector<std::size_t> perm_;
};

// The permutation of [0, n) for (seed, epoch): a portable Fisher–Yates over splitmix64, identical
// on every platform and standard library (std::shuffle is not).
std::vector<std::size_t> epoch_permutation(std::size_t n, uint64_t seed, int64_t epoch);

// Held-out evaluation: this rank's documents (d % world == rank, in order) in batches of `rows`.
std::vector<std::vector<std::size_t>> eval_doc_batches(std::size_t doc_count, int64_t rows, int rank, int world,
                                                       std::size_t max_docs = 0);

}  // namespace autothink::data
