// Loads libautothink_spm.so once (RTLD_LOCAL | RTLD_DEEPBIND) and wraps its C ABI.
#include "data/tokenizer_spm.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "data/tokenizer_spm/api.h"

#ifndef AUTOTHINK_SPM_MODULE
#define AUTOTHINK_SPM_MODULE "libautothink_spm.so"
#endif

namespace autothink::data {
namespace {

constexpr const char* kSpmModuleName = "libautothink_spm.so";

struct SpmFunctions {
  atspm_load_fn load;
  atspm_release_fn release;
  atspm_piece_size_fn piece_size;
  atspm_piece_to_id_fn piece_to_id;
  atspm_id_to_piece_fn id_to_piece;
  atspm_id_kind_fn id_kind;
  atspm_encode_fn encode;
  atspm_train_fn train;
  atspm_free_fn free;
};

std::vector<std::string> spm_module_candidates() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("AUTOTHINK_SPM_MODULE"); env && *env) candidates.push_back(env);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back((exe.parent_path() / kSpmModuleName).string());
    candidates.push_back((exe.parent_path().parent_path() / kSpmModuleName).string());
    candidates.push_back((exe.parent_path().parent_path() / "lib" / kSpmModuleName).string());
  }
  candidates.push_back(AUTOTHINK_SPM_MODULE);  // the build tree's copy
  candidates.push_back(kSpmModuleName);        // LD_LIBRARY_PATH, ld.so.cache
  return candidates;
}

template <class Fn> void spm_bind(void* module, const char* name, Fn& fn, const std::string& where) {
  fn = reinterpret_cast<Fn>(::dlsym(module, name));
  if (!fn) throw Error(std::string("the sentencepiece module lacks ") + name, where, "rebuild autothink");
}

SpmFunctions load_spm_functions() {
  std::string tried;
  for (const auto& candidate : spm_module_candidates()) {
    if (candidate.find('/') != std::string::npos && !std::filesystem::exists(candidate)) continue;
    void* module = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!module) {
      tried += std::string(tried.empty() ? "" : "; ") + ::dlerror();
      continue;
    }
    SpmFunctions f{};
    spm_bind(module, "atspm_load", f.load, candidate);
    spm_bind(module, "atspm_release", f.release, candidate);
    spm_bind(module, "atspm_piece_size", f.piece_size, candidate);
    spm_bind(module, "atspm_piece_to_id", f.piece_to_id, candidate);
    spm_bind(module, "atspm_id_to_piece", f.id_to_piece, candidate);
    spm_bind(module, "atspm_id_kind", f.id_kind, candidate);
    spm_bind(module, "atspm_encode", f.encode, candidate);
    spm_bind(module, "atspm_train", f.train, candidate);
    spm_bind(module, "atspm_free", f.free, candidate);
    return f;  // never dlclose'd: it lives as long as the process
  }
  throw Error("cannot load the sentencepiece module " + std::string(kSpmModuleName), tried.empty() ? "not found" : tried,
              "build the autothink_spm target, or set AUTOTHINK_SPM_MODULE to its path");
}

const SpmFunctions& spm() {
  static const SpmFunctions functions = load_spm_functions();
  return functions;
}

// Takes a message the module allocated.
std::string spm_take_error(char* error) {
  std::string message = error ? error : "unknown sentencepiece error";
  spm().free(error);
  return message;
}

}  // namespace

SpmModel::SpmModel(const std::string& path) : path_(path) {
  char* error = nullptr;
  handle_ = spm().load(path.c_str(), &error);
  if (!handle_)
    throw Error("not a readable sentencepiece model: " + spm_take_error(error), path,
                "the file is corrupt or not a tokenizer.model; retrain it with autothink tokenizer train");
}

SpmModel::~SpmModel() {
  if (handle_) spm().release(handle_);
}

int SpmModel::piece_size() const { return spm().piece_size(handle_); }

int SpmModel::piece_to_id(std::string_view piece) const { return spm().piece_to_id(handle_, piece.data(), piece.size()); }

std::string SpmModel::id_to_piece(int id) const {
  size_t length = 0;
  const char* piece = spm().id_to_piece(handle_, id, &length);
  return std::string(piece, length);
}

bool SpmModel::is_unknown(int id) const { return spm().id_kind(handle_, id) & ATSPM_UNKNOWN; }
bool SpmModel::is_control(int id) const { return spm().id_kind(handle_, id) & ATSPM_CONTROL; }
bool SpmModel::is_byte(int id) const { return spm().id_kind(handle_, id) & ATSPM_BYTE; }

void SpmModel::encode(std::string_view text, std::vector<int>& out) const {
  int* ids = nullptr;
  size_t count = 0;
  char* error = nullptr;
  if (spm().encode(handle_, text.data(), text.size(), &ids, &count, &error) != 0)
    throw Error("sentencepiece could not encode text: " + spm_take_error(error), path_);
  out.insert(out.end(), ids, ids + count);
  spm().free(ids);
}

std::string spm_train(const std::vector<std::pair<std::string, std::string>>& flags,
                      const std::vector<std::string>& sentences) {
  std::vector<const char*> keys, values, data;
  std::vector<size_t> lengths;
  for (const auto& [key, value] : flags) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  for (const auto& s : sentences) {
    data.push_back(s.data());
    lengths.push_back(s.size());
  }
  char* model = nullptr;
  size_t model_length = 0;
  char* error = nullptr;
  if (spm().train(keys.data(), values.data(), keys.size(), data.data(), lengths.data(), data.size(), &model,
                  &model_length, &error) != 0)
    throw Error("sentencepiece training failed: " + spm_take_error(error));
  std::string serialized(model, model_length);
  spm().free(model);
  return serialized;
}

}  // namespace autothink::data
