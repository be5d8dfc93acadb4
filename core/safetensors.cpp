#include "core/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace autothink::safetensors {

namespace {

// A read-only private mapping of a whole file; unmapped when the last view goes away.
struct MappedFile {
  const uint8_t* data = nullptr;
  std::size_t size = 0;
  ~MappedFile() {
    if (data && size) ::munmap(const_cast<uint8_t*>(data), size);
  }
};

std::shared_ptr<MappedFile> map_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error("cannot open safetensors file: " + std::string(std::strerror(errno)), path.string(),
                "check that the path exists and is readable");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error("cannot stat safetensors file", path.string());
  }
  auto mapped = std::make_shared<MappedFile>();
  mapped->size = static_cast<std::size_t>(st.st_size);
  if (mapped->size > 0) {
    void* p = ::mmap(nullptr, mapped->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error("cannot mmap safetensors file: " + std::string(std::strerror(errno)), path.string());
    }
    mapped->data = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return mapped;
}

// Element count; throws on overflow (a lying header can claim absurd shapes).
int64_t checked_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > (int64_t{1} << 56))
      throw Error("tensor shape has a negative or absurdly large dimension");
  return n;
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
  }
  return "?";
}

DType dtype_from_name(const std::string& name, const std::string& where) {
  for (DType d : {DType::F32, DType::BF16, DType::F16, DType::I64, DType::I32})
    if (name == dtype_name(d)) return d;
  throw Error("unsupported safetensors dtype '" + name + "'", where, "supported: F32, BF16, F16, I64, I32");
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::I64: return 8;
    case DType::I32: return 4;
  }
  return 0;
}

int64_t RawTensor::numel() const { return checked_numel(shape); }

RawTensor RawTensor::owned(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
  int64_t n = checked_numel(shape);
  if (static_cast<std::size_t>(n) * dtype_size(dtype) != bytes.size())
    throw Error("tensor bytes (" + std::to_string(bytes.size()) + ") do not match " + dtype_name(dtype) +
                " × shape (" + std::to_string(n) + " elements)");
  auto holder = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  RawTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data_ = holder->data();
  t.nbytes_ = holder->size();
  t.owner_ = holder;
  return t;
}

RawTensor RawTensor::view(DType dtype, std::vector<int64_t> shape, const uint8_t* data, std::size_t nbytes,
                          std::shared_ptr<const void> owner, bool mapped_file) {
  RawTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data_ = data;
  t.nbytes_ = nbytes;
  t.owner_ = std::move(owner);
  t.mapped_ = mapped_file;
  return t;
}

void RawTensor::release_pages(std::size_t offset, std::size_t length) const {
  if (!mapped_ || offset >= nbytes_ || length == 0) return;
  length = std::min(length, nbytes_ - offset);
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data_) + offset + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data_) + offset + length) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  const std::string file = path.string();
  auto mapped = map_file(path);
  if (mapped->size < 8)
    throw Error("truncated safetensors file: " + std::to_string(mapped->size) + " bytes, fewer than the 8-byte header length",
                file);
  const uint64_t header_len = read_le64(mapped->data);
  if (header_len > mapped->size - 8)
    throw Error("safetensors header length " + std::to_string(header_len) + " runs past the end of the file (" +
                    std::to_string(mapped->size) + " bytes): truncated or not a safetensors file",
                file);
  const char* header_begin = reinterpret_cast<const char*>(mapped->data + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw Error("safetensors header is not valid JSON: " + std::string(e.what()), file);
  }
  if (!header.is_object()) throw Error("safetensors header is not a JSON object", file);

  const uint8_t* data_begin = mapped->data + 8 + header_len;
  const uint64_t data_size = mapped->size - 8 - header_len;
  SafetensorsFile out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::vector<std::string> range_names;
  for (auto& [name, entry] : header.items()) {
    const std::string where = file + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error("__metadata__ is not an object", file);
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw Error("__metadata__ value of '" + k + "' is not a string", file);
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw Error("header entry needs dtype, shape and data_offsets", where);
    if (!entry["dtype"].is_string()) throw Error("dtype is not a string", where);
    DType dtype = dtype_from_name(entry["dtype"].get<std::string>(), where);
    std::vector<int64_t> shape;
    if (!entry["shape"].is_array()) throw Error("shape is not an array", where);
    for (auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw Error("shape holds a non-integer or negative dimension", where);
      shape.push_back(d.get<int64_t>());
    }
    auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
      throw Error("data_offsets must be [begin, end] non-negative integers", where);
    uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end > data_size)
      throw Error("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      "] lie outside the data section (" + std::to_string(data_size) + " bytes)",
                  where, "the file is truncated or its header is corrupt");
    uint64_t expected = 0;
    try {
      expected = static_cast<uint64_t>(checked_numel(shape)) * dtype_size(dtype);
    } catch (const Error& e) {
      throw Error(e.message(), where);
    }
    if (end - begin != expected)
      throw Error("data_offsets span " + std::to_string(end - begin) + " bytes but " + dtype_name(dtype) +
                      " × shape needs " + std::to_string(expected),
                  where);
    ranges.emplace_back(begin, end);
    range_names.push_back(name);
    out.tensors.emplace(name, RawTensor::view(dtype, std::move(shape), data_begin + begin, end - begin, mapped,
                                              /*mapped_file=*/true));
  }
  // Overlap check: sort ranges by begin; each must start at or after the previous end.
  std::vector<std::size_t> order(ranges.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ranges[a] < ranges[b]; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const auto& prev = ranges[order[i - 1]];
    const auto& cur = ranges[order[i]];
    if (cur.first < prev.second && cur.second > cur.first)
      throw Error("tensor '" + range_names[order[i]] + "' overlaps tensor '" + range_names[order[i - 1]] + "'",
                  file, "the header is corrupt");
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const std::pair<const std::string, RawTensor>*> order;
  for (auto& kv : tensors) order.push_back(&kv);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return dtype_size(a->second.dtype) > dtype_size(b->second.dtype);
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  uint64_t offset = 0;
  for (auto* kv : order) {
    const RawTensor& t = kv->second;
    uint64_t expected = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype);
    if (t.nbytes() != expected)
      throw Error("tensor '" + kv->first + "' has " + std::to_string(t.nbytes()) + " bytes, " + dtype_name(t.dtype) +
                      " × shape needs " + std::to_string(expected),
                  path.string());
    header[kv->first] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + expected}}};
    offset += expected;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  uint8_t len_bytes[8];
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(len >> (8 * i));

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot create safetensors file", path.string(), "check that the folder exists and is writable");
  out.write(reinterpret_cast<const char*>(len_bytes), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (auto* kv : order)
    out.write(reinterpret_cast<const char*>(kv->second.data()), static_cast<std::streamsize>(kv->second.nbytes()));
  out.flush();
  if (!out) throw Error("failed writing safetensors file (disk full?)", path.string());
}

}  // namespace autothink::safetensors
