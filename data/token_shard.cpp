// Token shard writing (atomic) and read-only memory mapping.
#include "data/token_shard.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>

#include "core/error.hpp"

namespace autothink::data {
namespace fs = std::filesystem;

namespace {
constexpr char kShardMagic[8] = {'A', 'T', 'S', 'H', 'A', 'R', 'D', '1'};
constexpr std::size_t kShardHeader = 8 + 8 + 8;
}  // namespace

void TokenShardWriter::add(const std::vector<int>& ids, const std::vector<unsigned char>& mask) {
  if (ids.size() != mask.size())
    throw Error("token ids and loss mask differ in length (" + std::to_string(ids.size()) + " vs " +
                std::to_string(mask.size()) + ")", "TokenShardWriter::add");
  ids_.insert(ids_.end(), ids.begin(), ids.end());
  mask_.insert(mask_.end(), mask.begin(), mask.end());
  offsets_.push_back(ids_.size());
}

void TokenShardWriter::write(const fs::path& path) const {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(std::random_device{}());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write token shard", tmp.string(), "check the folder exists and is writable");
    uint64_t docs = doc_count(), tokens = token_count();
    out.write(kShardMagic, 8);
    out.write(reinterpret_cast<const char*>(&docs), 8);
    out.write(reinterpret_cast<const char*>(&tokens), 8);
    out.write(reinterpret_cast<const char*>(offsets_.data()), offsets_.size() * sizeof(uint64_t));
    out.write(reinterpret_cast<const char*>(ids_.data()), ids_.size() * sizeof(int32_t));
    out.write(reinterpret_cast<const char*>(mask_.data()), mask_.size());
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp);
      throw Error("cannot write token shard (disk full?)", tmp.string());
    }
  }
  fs::rename(tmp, path);
}

TokenShard::TokenShard(const fs::path& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error("cannot open token shard", path.string(), "rebuild it (delete the file) or check the path");
  struct stat st {};
  ::fstat(fd, &st);
  std::size_t size = static_cast<std::size_t>(st.st_size);
  if (size < kShardHeader) {
    ::close(fd);
    throw Error("token shard is truncated (" + std::to_string(size) + " bytes)", path.string(), "delete it to rebuild");
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) throw Error("cannot memory-map token shard", path.string());
  mapping_ = std::shared_ptr<const void>(base, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  const auto* bytes = static_cast<const uint8_t*>(base);
  if (std::memcmp(bytes, kShardMagic, 8) != 0)
    throw Error("not a token shard (bad magic)", path.string(), "delete it to rebuild");
  uint64_t docs = 0, tokens = 0;
  std::memcpy(&docs, bytes + 8, 8);
  std::memcpy(&tokens, bytes + 16, 8);
  // Guard against overflow before computing the expected size.
  if (docs > size / 8 || tokens > size)
    throw Error("token shard header is corrupt", path.string(), "delete it to rebuild");
  std::size_t expected = kShardHeader + (docs + 1) * 8 + tokens * 4 + tokens;
  if (expected != size)
    throw Error("token shard size " + std::to_string(size) + " does not match its header (" + std::to_string(expected) + ")",
                path.string(), "delete it to rebuild");
  doc_count_ = docs;
  token_count_ = tokens;
  offsets_ = reinterpret_cast<const uint64_t*>(bytes + kShardHeader);
  ids_ = reinterpret_cast<const int32_t*>(bytes + kShardHeader + (docs + 1) * 8);
  mask_ = bytes + kShardHeader + (docs + 1) * 8 + tokens * 4;
  for (std::size_t d = 0; d < docs; ++d)
    if (offsets_[d] > offsets_[d + 1] || offsets_[d + 1] > tokens)
      throw Error("token shard offsets out of range at document " + std::to_string(d), path.string(), "delete it to rebuild");
}

DocView TokenShard::doc(std::size_t index) const {
  if (index >= doc_count_)
    throw Error("document " + std::to_string(index) + " out of range (" + std::to_string(doc_count_) + " documents)",
                path_.string());
  DocView v;
  v.ids = ids_ + offsets_[index];
  v.mask = mask_ + offsets_[index];
  v.size = offsets_[index + 1] - offsets_[index];
  return v;
}

}  // namespace autothink::data
