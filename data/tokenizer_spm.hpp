// SpmModel / spm_train: the tokenizer's access to sentencepiece, through the module
// libautothink_spm.so loaded in isolation (data/tokenizer_spm/api.h says why). The module is
// found via $AUTOTHINK_SPM_MODULE, next to the running executable (or one folder up), the build
// tree, or the library search path.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace autothink::data {

// One loaded sentencepiece model. Thread-safe for concurrent const use (as sentencepiece is).
class SpmModel {
 public:
  // Throws autothink::Error naming `path` when sentencepiece cannot read it.
  explicit SpmModel(const std::string& path);
  ~SpmModel();
  SpmModel(const SpmModel&) = delete;
  SpmModel& operator=(const SpmModel&) = delete;

  int piece_size() const;
  int piece_to_id(std::string_view piece) const;  // the unknown id when absent
  std::string id_to_piece(int id) const;
  bool is_unknown(int id) const;
  bool is_control(int id) const;
  bool is_byte(int id) const;
  // Appends the ids of `text` to `out`.
  void encode(std::string_view text, std::vector<int>& out) const;

 private:
  void* handle_ = nullptr;
  std::string path_;
};

// Trains a model with sentencepiece flags (name → value) on in-memory sentences; returns the
// serialized model. Throws autothink::Error with sentencepiece's message.
std::string spm_train(const std::vector<std::pair<std::string, std::string>>& flags,
                      const std::vector<std::string>& sentences);

}  // namespace autothink::data
