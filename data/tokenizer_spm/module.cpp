// libautothink_spm.so: sentencepiece behind the C ABI of api.h (see there for why).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/tokenizer_spm/api.h"

namespace {

char* copy_out(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) {
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
  }
  return p;
}

class Sentences : public sentencepiece::SentenceIterator {
 public:
  Sentences(const char* const* data, const size_t* lengths, size_t count)
      : data_(data), lengths_(lengths), count_(count) {
    load();
  }
  bool done() const override { return index_ >= count_; }
  void Next() override {
    ++index_;
    load();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (index_ < count_) current_.assign(data_[index_], lengths_[index_]);
  }
  const char* const* data_;
  const size_t* lengths_;
  size_t count_;
  size_t index_ = 0;
  std::string current_;
};

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* atspm_load(const char* path, char** error) {
  try {
    auto* processor = new sentencepiece::SentencePieceProcessor();
    auto status = processor->Load(path);
    if (!status.ok()) {
      *error = copy_out(status.ToString());
      delete processor;
      return nullptr;
    }
    return processor;
  } catch (const std::exception& e) {
    *error = copy_out(e.what());
    return nullptr;
  }
}

__attribute__((visibility("default"))) void atspm_release(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

__attribute__((visibility("default"))) int atspm_piece_size(void* processor) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

__attribute__((visibility("default"))) int atspm_piece_to_id(void* processor, const char* piece, size_t length) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(processor)->PieceToId(
      std::string(piece, length));
}

__attribute__((visibility("default"))) const char* atspm_id_to_piece(void* processor, int id, size_t* length) {
  const std::string& piece = static_cast<sentencepiece::SentencePieceProcessor*>(processor)->IdToPiece(id);
  *length = piece.size();
  return piece.data();
}

__attribute__((visibility("default"))) int atspm_id_kind(void* processor, int id) {
  auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(processor);
  return (p->IsUnknown(id) ? ATSPM_UNKNOWN : 0) | (p->IsControl(id) ? ATSPM_CONTROL : 0) |
         (p->IsByte(id) ? ATSPM_BYTE : 0) | (p->IsUnused(id) ? ATSPM_UNUSED : 0);
}

__attribute__((visibility("default"))) int atspm_encode(void* processor, const char* text, size_t length, int** ids,
                                                        size_t* count, char** error) {
  try {
    std::vector<int> out;
    auto status = static_cast<sentencepiece::SentencePieceProcessor*>(processor)->Encode(
        std::string(text, length), &out);
    if (!status.ok()) {
      *error = copy_out(status.ToString());
      return 1;
    }
    *count = out.size();
    *ids = static_cast<int*>(std::malloc(sizeof(int) * (out.empty() ? 1 : out.size())));
    if (!*ids) {
      *error = copy_out("out of memory");
      return 1;
    }
    if (!out.empty()) std::memcpy(*ids, out.data(), sizeof(int) * out.size());
    return 0;
  } catch (const std::exception& e) {
    *error = copy_out(e.what());
    return 1;
  }
}

__attribute__((visibility("default"))) int atspm_train(const char* const* keys, const char* const* values,
                                                       size_t flag_count, const char* const* sentences,
                                                       const size_t* lengths, size_t sentence_count, char** model,
                                                       size_t* model_length, char** error) {
  try {
    std::unordered_map<std::string, std::string> flags;
    for (size_t i = 0; i < flag_count; ++i) flags[keys[i]] = values[i];
    Sentences iterator(sentences, lengths, sentence_count);
    std::string serialized;
    auto status = sentencepiece::SentencePieceTrainer::Train(flags, &iterator, &serialized);
    if (!status.ok()) {
      *error = copy_out(status.ToString());
      return 1;
    }
    *model_length = serialized.size();
    *model = static_cast<char*>(std::malloc(serialized.size() ? serialized.size() : 1));
    if (!*model) {
      *error = copy_out("out of memory");
      return 1;
    }
    std::memcpy(*model, serialized.data(), serialized.size());
    return 0;
  } catch (const std::exception& e) {
    *error = copy_out(e.what());
    return 1;
  }
}

__attribute__((visibility("default"))) void atspm_free(void* memory) { std::free(memory); }

}  // extern "C"
