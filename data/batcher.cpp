// Deterministic per-document batching with disjoint rank slots (see batcher.hpp).
#include "data/batcher.hpp"

#include <algorithm>
#include <string>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace autothink::data {

namespace {
// The next splitmix64 output of the stream at `state`.
uint64_t next_splitmix(uint64_t& state) {
  const uint64_t z = core::splitmix64(state);
  state += core::kSplitmixIncrement;
  return z;
}
}  // namespace

std::vector<std::size_t> epoch_permutation(std::size_t n, uint64_t seed, int64_t epoch) {
  std::vector<std::size_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  uint64_t state = seed * 0x100000001B3ull ^ (static_cast<uint64_t>(epoch) + 0x51ED270B27ull);
  for (std::size_t i = n; i > 1; --i) {
    std::size_t j = next_splitmix(state) % i;
    std::swap(perm[i - 1], perm[j]);
  }
  return perm;
}

Batch make_batch(const TokenShard& shard, const std::vector<std::size_t>& docs, int32_t pad_id, int64_t max_len) {
  Batch b;
  b.rows = static_cast<int64_t>(docs.size());
  for (std::size_t d : docs) b.cols = std::max<int64_t>(b.cols, static_cast<int64_t>(shard.doc(d).size));
  if (max_len > 0) b.cols = std::min(b.cols, max_len);
  b.cols = std::max<int64_t>(b.cols, 2);  // at least one input and one target
  b.ids.assign(b.rows * b.cols, pad_id);
  b.mask.assign(b.rows * b.cols, 0);
  for (int64_t r = 0; r < b.rows; ++r) {
    DocView v = shard.doc(docs[r]);
    int64_t n = std::min<int64_t>(static_cast<int64_t>(v.size), b.cols);
    std::copy(v.ids, v.ids + n, b.ids.begin() + r * b.cols);
    std::copy(v.mask, v.mask + n, b.mask.begin() + r * b.cols);
    b.tokens += n;
    for (int64_t t = 1; t < n; ++t) b.masked_targets += v.mask[t] != 0;
  }
  return b;
}

Batcher::Batcher(const TokenShard& shard, BatcherOptions options) : shard_(shard), options_(options) {
  if (options_.rows < 1 || options_.accumulation < 1 || options_.world < 1 || options_.rank < 0 ||
      options_.rank >= options_.world)
    throw Error("invalid batch layout (rows " + std::to_string(options_.rows) + ", accumulation " +
                std::to_string(options_.accumulation) + ", rank " + std::to_string(options_.rank) + "/" +
                std::to_string(options_.world) + ")", "train.batch_size / train.grad_accum");
  global_batch_ = options_.rows * options_.accumulation * options_.world;
  if (static_cast<int64_t>(shard_.doc_count()) < global_batch_)
    throw Error("the data holds " + std::to_string(shard_.doc_count()) + " documents, fewer than one global batch (" +
                std::to_string(global_batch_) + " = world × batch_size × grad_accum)", shard_.path().string(),
                "lower train.batch_size or train.grad_accum, or add data");
}

void Batcher::ensure_permutation(int64_t epoch) const {
  if (perm_epoch_ == epoch) return;
  if (options_.shuffle) {
    perm_ = epoch_permutation(shard_.doc_count(), options_.seed, epoch);
    if (options_.group_by_length) group_permutation_by_length(epoch);
  } else {
    perm_.resize(shard_.doc_count());
    for (std::size_t i = 0; i < perm_.size(); ++i) perm_[i] = i;
  }
  perm_epoch_ = epoch;
}

void Batcher::group_permutation_by_length(int64_t epoch) const {
  const std::size_t step = static_cast<std::size_t>(global_batch_), window = step * 32;
  const std::size_t steps = perm_.size() / step;  // the partial step at the end stays where it is
  auto by_length = [&](std::size_t a, std::size_t b) { return shard_.doc(a).size < shard_.doc(b).size; };
  for (std::size_t begin = 0; begin < steps * step; begin += window)
    std::stable_sort(perm_.begin() + begin, perm_.begin() + std::min(begin + window, steps * step), by_length);
  const std::vector<std::size_t> order = epoch_permutation(steps, options_.seed ^ 0x6C656E67746873ull, epoch);
  std::vector<std::size_t> grouped(perm_.size());
  for (std::size_t s = 0; s < steps; ++s)
    std::copy_n(perm_.begin() + order[s] * step, step, grouped.begin() + s * step);
  std::copy(perm_.begin() + steps * step, perm_.end(), grouped.begin() + steps * step);
  perm_ = std::move(grouped);
}

void Batcher::set_position(DataPosition position) {
  if (position.epoch < 0 || position.index < 0 || position.index > static_cast<int64_t>(shard_.doc_count()))
    throw Error("data position (epoch " + std::to_string(position.epoch) + ", index " + std::to_string(position.index) +
                ") does not fit this data (" + std::to_string(shard_.doc_count()) + " documents)", shard_.path().string(),
                "resume with the data the run was started with");
  position_ = position;
}

std::vector<std::vector<std::size_t>> Batcher::peek_step_docs() const {
  DataPosition pos = position_;
  if (pos.index + global_batch_ > static_cast<int64_t>(shard_.doc_count())) pos = {pos.epoch + 1, 0};
  ensure_permutation(pos.epoch);
  std::vector<std::vector<std::size_t>> micro(options_.accumulation);
  for (int64_t m = 0; m < options_.accumulation; ++m) {
    int64_t base = pos.index + (m * options_.world + options_.rank) * options_.rows;
    for (int64_t r = 0; r < options_.rows; ++r) micro[m].push_back(perm_[base + r]);
  }
  return micro;
}

std::vector<Batch> Batcher::next_step() {
  if (position_.index + global_batch_ > static_cast<int64_t>(shard_.doc_count())) position_ = {position_.epoch + 1, 0};
  std::vector<Batch> out;
  for (const auto& docs : peek_step_docs()) out.push_back(make_batch(shard_, docs, options_.pad_id, options_.max_len));
  position_.index += global_batch_;
  return out;
}

std::vector<std::vector<std::size_t>> eval_doc_batches(std::size_t doc_count, int64_t rows, int rank, int world,
                                                       std::size_t max_docs) {
  std::size_t n = max_docs > 0 ? std::min(doc_count, max_docs) : doc_count;
  std::vector<std::vector<std::size_t>> out;
  std::vector<std::size_t> cur;
  for (std::size_t d = rank; d < n; d += world) {
    cur.push_back(d);
    if (static_cast<int64_t>(cur.size()) == rows) out.push_back(std::move(cur)), cur.clear();
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace autothink::data
