// Writing and reading precomputed top-k teacher logits.
#include "train/teacher_topk.hpp"

#include <cstring>
#include <map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/token_shard_build.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"

namespace autothink::train {
namespace fs = std::filesystem;

namespace {
constexpr const char* kTopkFormat = "autothink-teacher-topk-v1";
constexpr const char* kTopkFile = "teacher_topk.safetensors";

int64_t topk_masked_targets(const data::DocView& v, std::size_t limit) {
  int64_t n = 0;
  for (std::size_t t = 1; t < std::min(v.size, limit); ++t) n += v.mask[t] != 0;
  return n;
}
}  // namespace

TopkTeacher::TopkTeacher(const fs::path& dir, const data::TokenShard& shard) {
  const fs::path path = dir / kTopkFile;
  if (!fs::exists(path))
    throw Error("no teacher top-k dump", path.string(), "write it with `autothink train dump-teacher --out " + dir.string() + "`");
  file_ = safetensors::read_safetensors(path);
  auto need = [&](const char* name, safetensors::DType dtype, std::size_t dims) -> const safetensors::RawTensor& {
    auto it = file_.tensors.find(name);
    if (it == file_.tensors.end() || it->second.dtype != dtype || it->second.shape.size() != dims)
      throw Error(std::string("teacher dump lacks a valid tensor '") + name + "'", path.string(), "re-run dump-teacher");
    return it->second;
  };
  const auto& ids = need("ids", safetensors::DType::I32, 2);
  const auto& logits = need("logits", safetensors::DType::F32, 2);
  const auto& offsets = need("doc_offsets", safetensors::DType::I64, 1);
  if (ids.shape != logits.shape) throw Error("teacher dump ids and logits differ in shape", path.string());
  rows_ = ids.shape[0];
  top_k_ = ids.shape[1];
  ids_ = reinterpret_cast<const int32_t*>(ids.data());
  logits_ = reinterpret_cast<const float*>(logits.data());
  offsets_ = reinterpret_cast<const int64_t*>(offsets.data());
  if (offsets.shape[0] != static_cast<int64_t>(shard.doc_count()) + 1)
    throw Error("teacher dump covers " + std::to_string(offsets.shape[0] - 1) + " documents, the training data has " +
                std::to_string(shard.doc_count()), path.string(),
                "dump the teacher on the same data files, stage and data.max_len as the training run");
  for (std::size_t d = 0; d < shard.doc_count(); ++d) {
    int64_t expect = topk_masked_targets(shard.doc(d), shard.doc(d).size);
    if (offsets_[d + 1] - offsets_[d] != expect || offsets_[d + 1] > rows_)
      throw Error("teacher dump does not match the training data at document " + std::to_string(d), path.string(),
                  "dump the teacher on the same data files and tokenizer as the training run");
  }
}

std::pair<torch::Tensor, torch::Tensor> TopkTeacher::rows_for(const std::vector<std::size_t>& docs,
                                                              const data::Batch& batch, torch::Device device) const {
  std::vector<int64_t> starts, counts;
  int64_t total = 0;
  for (int64_t r = 0; r < batch.rows; ++r) {
    // Masked targets of this row as the batch has it (a row may be cut to the batch width).
    int64_t n = 0;
    for (int64_t t = 1; t < batch.cols; ++t) n += batch.mask[r * batch.cols + t] != 0;
    starts.push_back(offsets_[docs[r]]);
    counts.push_back(n);
    total += n;
  }
  auto ids = torch::empty({total, top_k_}, torch::kInt32);
  auto vals = torch::empty({total, top_k_}, torch::kFloat);
  int64_t at = 0;
  for (std::size_t r = 0; r < starts.size(); ++r) {
    std::memcpy(ids.data_ptr<int32_t>() + at * top_k_, ids_ + starts[r] * top_k_, counts[r] * top_k_ * sizeof(int32_t));
    std::memcpy(vals.data_ptr<float>() + at * top_k_, logits_ + starts[r] * top_k_, counts[r] * top_k_ * sizeof(float));
    at += counts[r];
  }
  return {ids.to(torch::kLong).to(device), vals.to(device)};
}

int64_t dump_teacher_topk(const DumpTeacherOptions& o) {
  if (o.top_k < 1) throw Error("--top-k must be >= 1", "dump-teacher");
  torch::Device device = torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  auto teacher = model::load_model(o.teacher, device);
  teacher->eval();
  data::Tokenizer tokenizer(data::resolve_tokenizer_path(o.teacher));
  if (o.top_k > teacher->config().vocab_size) throw Error("--top-k exceeds the teacher's vocabulary", "dump-teacher");
  data::ShardBuildOptions so;
  so.inputs = o.data;
  so.style = render_style_for(o.stage);
  so.skip_bad = o.skip_bad;
  so.max_tokens = static_cast<std::size_t>(o.max_len);
  so.auto_judges = o.auto_judges;
  so.cache_dir = fs::path(o.out) / "shards";
  auto built = data::build_token_shard(so, tokenizer);
  data::TokenShard shard(built.path);

  std::vector<int32_t> all_ids;
  std::vector<float> all_logits;
  std::vector<int64_t> offsets{0};
  torch::NoGradGuard no_grad;
  for (const auto& docs : data::eval_doc_batches(shard.doc_count(), o.batch_size, 0, 1)) {
    auto b = data::make_batch(shard, docs, tokenizer.pad_id(), o.max_len);
    auto ids = torch::from_blob(b.ids.data(), {b.rows, b.cols}, torch::kInt32).to(torch::kLong).to(device);
    auto mask = torch::from_blob(b.mask.data(), {b.rows, b.cols}, torch::kUInt8).to(device);
    auto logits = teacher->logits(teacher->forward_hidden(ids.slice(1, 0, b.cols - 1)));
    auto keep = mask.slice(1, 1).reshape({-1}).ne(0);
    auto rows = logits.reshape({-1, logits.size(-1)}).index({keep});
    auto top = rows.topk(o.top_k, -1);
    auto vals = std::get<0>(top).to(torch::kFloat).cpu().contiguous();
    auto idx = std::get<1>(top).to(torch::kInt32).cpu().contiguous();
    all_ids.insert(all_ids.end(), idx.data_ptr<int32_t>(), idx.data_ptr<int32_t>() + idx.numel());
    all_logits.insert(all_logits.end(), vals.data_ptr<float>(), vals.data_ptr<float>() + vals.numel());
    for (int64_t r = 0; r < b.rows; ++r) {
      int64_t n = 0;
      for (int64_t t = 1; t < b.cols; ++t) n += b.mask[r * b.cols + t] != 0;
      offsets.push_back(offsets.back() + n);
    }
  }
  const int64_t n = offsets.back();
  auto bytes_of = [](const void* p, std::size_t size) {
    const auto* c = static_cast<const uint8_t*>(p);
    return std::vector<uint8_t>(c, c + size);
  };
  std::map<std::string, safetensors::RawTensor> tensors;
  tensors.emplace("ids", safetensors::RawTensor::owned(safetensors::DType::I32, {n, o.top_k},
                                                       bytes_of(all_ids.data(), all_ids.size() * 4)));
  tensors.emplace("logits", safetensors::RawTensor::owned(safetensors::DType::F32, {n, o.top_k},
                                                          bytes_of(all_logits.data(), all_logits.size() * 4)));
  tensors.emplace("doc_offsets", safetensors::RawTensor::owned(safetensors::DType::I64, {static_cast<int64_t>(offsets.size())},
                                                               bytes_of(offsets.data(), offsets.size() * 8)));
  fs::create_directories(o.out);
  safetensors::write_safetensors(fs::path(o.out) / kTopkFile, tensors,
                                 {{"format", kTopkFormat}, {"top_k", std::to_string(o.top_k)},
                                  {"documents", std::to_string(shard.doc_count())},
                                  {"tokens", std::to_string(shard.token_count())}, {"teacher", o.teacher}});
  log::info("teacher top-", o.top_k, " logits of ", n, " loss tokens written to ", (fs::path(o.out) / kTopkFile).string());
  return n;
}

}  // namespace autothink::train
