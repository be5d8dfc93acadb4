// Raw safetensors I/O (no libtorch): dtype + shape + bytes per tensor, read through mmap (no copy),
// written with the spec's layout: 8-byte little-endian header length, JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}
// padded with spaces to a multiple of 8, then the tensors' bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace autothink::safetensors {

enum class DType { F32, BF16, F16, I64, I32 };

// "F32", "BF16", "F16", "I64", "I32" (the spec's names).
const char* dtype_name(DType dtype);
// Throws autothink::Error naming `where` for names this library does not handle.
DType dtype_from_name(const std::string& name, const std::string& where = "");
std::size_t dtype_size(DType dtype);

// One tensor's bytes (row-major, little-endian). The bytes are either owned or a view into a
// memory-mapped file (or any buffer) kept alive by `owner`: copying a RawTensor never copies data.
struct RawTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  const uint8_t* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  int64_t numel() const;

  // Takes ownership of `bytes`; throws if its size is not numel × dtype size.
  static RawTensor owned(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  // A view: `owner` keeps `data` valid for as long as this tensor (and its copies) live;
  // `mapped_file`: `data` lies in a private read-only file mapping (release_pages may drop it).
  static RawTensor view(DType dtype, std::vector<int64_t> shape, const uint8_t* data, std::size_t nbytes,
                        std::shared_ptr<const void> owner, bool mapped_file = false);
  // For a view into a mapped file: hands the pages wholly inside this tensor back to the kernel
  // (they are read from the file again if touched), so a loader that copies tensor by tensor holds
  // one copy of the weights, not two. No-op for owned bytes.
  void release_pages() const { release_pages(0, nbytes_); }
  // The same for bytes [offset, offset + length) of this tensor.
  void release_pages(std::size_t offset, std::size_t length) const;

 private:
  const uint8_t* data_ = nullptr;
  std::size_t nbytes_ = 0;
  std::shared_ptr<const void> owner_;
  bool mapped_ = false;
};

struct SafetensorsFile {
  std::map<std::string, RawTensor> tensors;        // views into the mapped file
  std::map<std::string, std::string> metadata;     // the header's "__metadata__" (may be empty)
};

// Maps the file and validates the header: truncated file, header length beyond the file, bad JSON,
// unknown dtype, offsets out of range / overlapping / not matching dtype × shape → autothink::Error
// naming the file (and the tensor).
SafetensorsFile read_safetensors(const std::filesystem::path& path);

// Writes tensors (largest dtype first, then by name, so every tensor is naturally aligned).
// Throws autothink::Error if the file cannot be written.
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace autothink::safetensors
