#include "model/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/safetensors.hpp"

namespace autothink::model {

namespace fs = std::filesystem;
namespace st = autothink::safetensors;

namespace {

struct SourceTensor {
  st::RawTensor raw;
  std::string file;
};

torch::ScalarType ckpt_torch_dtype(st::DType d) {
  switch (d) {
    case st::DType::F32: return torch::kFloat;
    case st::DType::BF16: return torch::kBFloat16;
    case st::DType::F16: return torch::kHalf;
    case st::DType::I64: return torch::kLong;
    case st::DType::I32: return torch::kInt;
  }
  return torch::kFloat;
}

st::DType ckpt_st_dtype(torch::ScalarType d, const std::string& name) {
  switch (d) {
    case torch::kFloat: return st::DType::F32;
    case torch::kBFloat16: return st::DType::BF16;
    case torch::kHalf: return st::DType::F16;
    case torch::kLong: return st::DType::I64;
    case torch::kInt: return st::DType::I32;
    default: throw Error("tensor '" + name + "' has a dtype safetensors files here cannot hold");
  }
}

std::string ckpt_shape_string(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A CPU tensor over the raw bytes (copied only when the bytes are misaligned for the dtype).
torch::Tensor ckpt_tensor_from_raw(const st::RawTensor& raw) {
  auto dtype = ckpt_torch_dtype(raw.dtype);
  auto elem = st::dtype_size(raw.dtype);
  if (reinterpret_cast<uintptr_t>(raw.data()) % elem == 0)
    return torch::from_blob(const_cast<uint8_t*>(raw.data()), raw.shape, torch::TensorOptions().dtype(dtype));
  auto t = torch::empty(raw.shape, torch::TensorOptions().dtype(dtype));
  std::memcpy(t.data_ptr(), raw.data(), raw.nbytes());
  return t;
}

void ckpt_add_file(std::map<std::string, SourceTensor>& out, const fs::path& path) {
  auto file = st::read_safetensors(path);
  for (auto& [name, raw] : file.tensors) {
    auto [it, inserted] = out.emplace(name, SourceTensor{raw, path.string()});
    if (!inserted)
      throw Error("tensor '" + name + "' appears twice", path.string() + " and " + it->second.file);
  }
}

nlohmann::json ckpt_read_json(const fs::path& path) {
  std::string text = core::read_file(path.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("not valid JSON: " + std::string(e.what()), path.string());
  }
}

// Every tensor of the folder's model files, by name.
std::map<std::string, SourceTensor> ckpt_collect(const fs::path& dir, const ModelConfig& config) {
  std::map<std::string, SourceTensor> tensors;
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::exists(index_path)) {
    auto index = ckpt_read_json(index_path);
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw Error("index has no weight_map object", index_path.string());
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto& [name, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) throw Error("weight_map entry of '" + name + "' is not a file name", index_path.string());
      by_shard[shard.get<std::string>()].push_back(name);
    }
    for (auto& [shard, names] : by_shard) {
      fs::path shard_path = dir / shard;
      if (!fs::exists(shard_path))
        throw Error("shard '" + shard + "' listed in the index is missing (holds tensor '" + names.front() + "')",
                    shard_path.string());
      ckpt_add_file(tensors, shard_path);
      for (auto& name : names)
        if (!tensors.count(name))
          throw Error("tensor '" + name + "' is listed in the index but missing from its shard", shard_path.string());
    }
  } else if (fs::exists(dir / "model.safetensors")) {
    ckpt_add_file(tensors, dir / "model.safetensors");
  } else {
    throw Error("no model.safetensors or model.safetensors.index.json", dir.string(),
                "point at a model folder written by `autothink train` or transformers' save_pretrained");
  }
  if (config.mtp_depth > 0) {
    const fs::path mtp_path = dir / "mtp.safetensors";
    if (!fs::exists(mtp_path))
      throw Error("config has MTP depth " + std::to_string(config.mtp_depth) + " but mtp.safetensors is missing",
                  mtp_path.string());
    ckpt_add_file(tensors, mtp_path);
  }
  return tensors;
}

bool ckpt_ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

torch::ScalarType dtype_from_string(const std::string& name) {
  if (name == "float32" || name == "float") return torch::kFloat;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16" || name == "half") return torch::kHalf;
  throw Error("unknown dtype '" + name + "'", "", "use float32, bfloat16 or float16");
}

std::string dtype_to_string(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kHalf: return "float16";
    default: throw Error(std::string("model dtype ") + c10::toString(dtype) + " cannot be saved", "", "use float32, bfloat16 or float16");
  }
}

std::shared_ptr<Qwen2Model> load_model(const fs::path& dir, torch::Device device, std::optional<torch::ScalarType> dtype) {
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path))
    throw Error("not a model folder: config.json is missing", dir.string(), "point at a folder with config.json and model.safetensors");
  ModelConfig config = load_config_json(config_path);
  const torch::ScalarType target = dtype ? *dtype : dtype_from_string(config.dtype);
  auto tensors = ckpt_collect(dir, config);

  const auto started = std::chrono::steady_clock::now();
  std::size_t total_bytes = 0;
  for (const auto& entry : tensors) total_bytes += entry.second.raw.nbytes();
  if (total_bytes > (size_t{256} << 20))
    log::info("loading ", dir.string(), ": ", tensors.size(), " tensors, ", static_cast<double>(total_bytes) / 1e9,
              " GB (mmap, one tensor at a time)");
  // Built directly in the served dtype: an f32 model converted afterwards would briefly hold
  // both (1.5x-3x the weights) before a single tensor is read.
  std::shared_ptr<Qwen2Model> model;
  {
    const caffe2::TypeMeta previous = c10::get_default_dtype();
    c10::set_default_dtype(caffe2::TypeMeta::fromScalarType(target));
    try {
      model = std::make_shared<Qwen2Model>(config, /*init_weights=*/false);
    } catch (...) {
      c10::set_default_dtype(previous);
      throw;
    }
    c10::set_default_dtype(previous);
  }
  model->to(device, target);
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  std::size_t loaded_bytes = 0;
  for (auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    auto it = tensors.find(name);
    if (it == tensors.end())
      throw Error("tensor '" + name + "' is missing from the checkpoint", dir.string(),
                  "the files do not match config.json (wrong folder or incomplete save?)");
    const auto& raw = it->second.raw;
    if (c10::IntArrayRef(raw.shape) != p.value().sizes())
      throw Error("tensor '" + name + "' has shape " + ckpt_shape_string(raw.shape) + " but config.json implies " +
                      ckpt_shape_string(p.value().sizes()),
                  it->second.file);
    if (raw.dtype == st::DType::I64 || raw.dtype == st::DType::I32)
      throw Error("tensor '" + name + "' is stored as an integer dtype", it->second.file);
    // Copied in row blocks of about 8 MB, each block's file pages released once it is in the
    // model: the load holds one copy of the weights (plus one block), not two.
    const torch::Tensor source = ckpt_tensor_from_raw(raw);
    const int64_t rows = source.dim() > 0 ? source.size(0) : 1;
    const std::size_t row_bytes = raw.nbytes() / static_cast<std::size_t>(std::max<int64_t>(rows, 1));
    const int64_t block = std::max<int64_t>(1, static_cast<int64_t>((size_t{8} << 20) / std::max<std::size_t>(row_bytes, 1)));
    if (source.dim() == 0 || block >= rows) {
      p.value().copy_(source);
      raw.release_pages();
    } else {
      for (int64_t r = 0; r < rows; r += block) {
        const int64_t n = std::min(block, rows - r);
        p.value().narrow(0, r, n).copy_(source.narrow(0, r, n));
        raw.release_pages(static_cast<std::size_t>(r) * row_bytes, static_cast<std::size_t>(n) * row_bytes);
      }
    }
    loaded_bytes += raw.nbytes();
    used.insert(name);
  }
  for (auto& [name, src] : tensors) {
    if (used.count(name) || ckpt_ends_with(name, "rotary_emb.inv_freq")) continue;
    if (name == "lm_head.weight" && config.tie_word_embeddings) {
      auto head = ckpt_tensor_from_raw(src.raw).to(torch::kFloat);
      auto emb = model->body->embed_tokens->weight.to(torch::kCPU, torch::kFloat);
      if (head.sizes() == emb.sizes() && torch::equal(head, emb)) continue;
      throw Error("tied model (tie_word_embeddings) has an lm_head.weight that differs from the embedding", src.file,
                  "set tie_word_embeddings to false in config.json, or drop lm_head.weight");
    }
    throw Error("tensor '" + name + "' is not part of the model described by config.json", src.file,
                "the files do not match config.json");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char line[160];
  std::snprintf(line, sizeof line, "%zu tensors, %.2f GB read in %.1f s (%.0f MB/s), as %s", used.size(),
                static_cast<double>(loaded_bytes) / 1e9, seconds, static_cast<double>(loaded_bytes) / 1e6 / std::max(seconds, 1e-9),
                dtype_to_string(target).c_str());
  // Big checkpoints take a while: say so at info level; tiny ones stay quiet.
  if (loaded_bytes > (size_t{256} << 20))
    log::info("loaded ", dir.string(), ": ", line);
  else
    log::debug("loaded ", dir.string(), ": ", line);
  return model;
}

nlohmann::json load_autothink_json(const fs::path& dir) {
  const fs::path path = dir / "autothink.json";
  if (!fs::exists(path)) return nullptr;
  return ckpt_read_json(path);
}

namespace {

const std::set<std::string>& ckpt_folder_files() {
  static const std::set<std::string> names = {"config.json", "model.safetensors", "model.safetensors.index.json",
                                              "mtp.safetensors", "generation_config.json", "autothink.json",
                                              "tokenizer.model", "tokenizer.json", "tokenizer_config.json"};
  return names;
}

bool ckpt_is_folder_file(const std::string& name) {
  if (ckpt_folder_files().count(name)) return true;
  return name.rfind("model-", 0) == 0 && ckpt_ends_with(name, ".safetensors");
}

void ckpt_write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::trunc);
  out << j.dump(2) << "\n";
  if (!out) throw Error("cannot write file", path.string());
}

// Writes `names` of `params` (converted to `dtype`, on CPU) into one safetensors file.
void ckpt_write_tensors(const fs::path& path, const std::vector<std::string>& names,
                        const std::map<std::string, torch::Tensor>& params, torch::ScalarType dtype) {
  std::map<std::string, st::RawTensor> raw;
  for (auto& name : names) {
    auto t = std::make_shared<torch::Tensor>(params.at(name).detach().to(torch::kCPU, dtype).contiguous());
    std::vector<int64_t> shape(t->sizes().begin(), t->sizes().end());
    raw.emplace(name, st::RawTensor::view(ckpt_st_dtype(dtype, name), shape, static_cast<const uint8_t*>(t->data_ptr()),
                                          t->numel() * t->element_size(), t));
  }
  st::write_safetensors(path, raw, {{"format", "pt"}});
}

}  // namespace

void save_model(Qwen2Model& model, const fs::path& dir_in, const SaveOptions& options) {
  const fs::path dir = fs::absolute(dir_in).lexically_normal();
  const torch::ScalarType dtype = options.dtype ? *options.dtype : model.dtype();
  ModelConfig config = model.config();
  config.dtype = dtype_to_string(dtype);

  fs::path keep_tokenizer;
  if (fs::exists(dir)) {
    if (!fs::is_directory(dir)) throw Error("cannot save a model here: it is a file, not a folder", dir.string());
    for (auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (!ckpt_is_folder_file(name))
        throw Error("refusing to replace a folder that holds '" + name + "', which is not part of a model folder",
                    dir.string(), "save into a new or empty folder");
    }
    for (const char* name : {"tokenizer.json", "tokenizer.model"})
      if (options.tokenizer_model.empty() && keep_tokenizer.empty() && fs::exists(dir / name)) keep_tokenizer = dir / name;
  }
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
  std::random_device rd;
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(rd());
  const fs::path tmp = dir.parent_path() / (dir.filename().string() + ".tmp-" + tag);
  fs::create_directories(tmp);

  try {
    std::map<std::string, torch::Tensor> params;
    std::vector<std::string> main_names, mtp_names;
    for (auto& p : model.named_parameters()) {
      params.emplace(p.key(), p.value());
      (p.key().rfind("mtp.", 0) == 0 ? mtp_names : main_names).push_back(p.key());
    }
    const int64_t elem = static_cast<int64_t>(c10::elementSize(dtype));
    // Shards: fill in model order, start a new one when the next tensor would overflow.
    std::vector<std::vector<std::string>> shards(1);
    int64_t shard_bytes = 0, total_bytes = 0;
    for (auto& name : main_names) {
      int64_t bytes = params.at(name).numel() * elem;
      if (options.max_shard_bytes > 0 && shard_bytes > 0 && shard_bytes + bytes > options.max_shard_bytes) {
        shards.emplace_back();
        shard_bytes = 0;
      }
      shards.back().push_back(name);
      shard_bytes += bytes;
      total_bytes += bytes;
    }
    if (shards.size() == 1) {
      ckpt_write_tensors(tmp / "model.safetensors", main_names, params, dtype);
    } else {
      nlohmann::json weight_map = nlohmann::json::object();
      char buf[64];
      for (size_t i = 0; i < shards.size(); ++i) {
        std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
        ckpt_write_tensors(tmp / buf, shards[i], params, dtype);
        for (auto& name : shards[i]) weight_map[name] = buf;
      }
      ckpt_write_json(tmp / "model.safetensors.index.json",
                      {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}});
    }
    if (!mtp_names.empty()) ckpt_write_tensors(tmp / "mtp.safetensors", mtp_names, params, dtype);

    ckpt_write_json(tmp / "config.json", config_to_hf_json(config));
    nlohmann::json gen = options.generation_config;
    if (gen.is_null()) {
      gen = nlohmann::json::object();
      if (config.bos_token_id) gen["bos_token_id"] = *config.bos_token_id;
      if (config.pad_token_id) gen["pad_token_id"] = *config.pad_token_id;
      if (config.eos_token_ids.size() == 1) gen["eos_token_id"] = config.eos_token_ids[0];
      if (config.eos_token_ids.size() > 1) gen["eos_token_id"] = config.eos_token_ids;
    }
    ckpt_write_json(tmp / "generation_config.json", gen);
    if (!options.autothink.is_null()) ckpt_write_json(tmp / "autothink.json", options.autothink);
    const fs::path tokenizer = options.tokenizer_model.empty() ? keep_tokenizer : options.tokenizer_model;
    if (!tokenizer.empty()) {
      if (!fs::exists(tokenizer)) throw Error("tokenizer model to copy does not exist", tokenizer.string());
      // A tokenizer.json keeps its name (and brings its tokenizer_config.json: the chat template).
      if (tokenizer.extension() == ".json") {
        fs::copy_file(tokenizer, tmp / "tokenizer.json");
        const fs::path config = tokenizer.parent_path() / "tokenizer_config.json";
        if (fs::exists(config)) fs::copy_file(config, tmp / "tokenizer_config.json");
      } else {
        fs::copy_file(tokenizer, tmp / "tokenizer.model");
      }
    }

    // Swap into place: old folder aside, new one in, old one removed.
    fs::path old;
    if (fs::exists(dir)) {
      old = dir.parent_path() / (dir.filename().string() + ".old-" + tag);
      fs::rename(dir, old);
    }
    fs::rename(tmp, dir);
    if (!old.empty()) fs::remove_all(old);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp);
    throw Error("saving the model failed: " + std::string(e.what()), dir.string());
  } catch (...) {
    fs::remove_all(tmp);
    throw;
  }
  log::debug("saved model to ", dir.string());
}

}  // namespace autothink::model
