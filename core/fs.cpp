#include "core/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace autothink::core {

void ensure_dir(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw Error("cannot create folder " + dir + (ec ? ": " + ec.message() : ": a file is in the way"), dir,
                "check permissions and free space");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path + ": " + std::strerror(errno), path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + path, path);
  return out.str();
}

std::string temp_path_next_to(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void rename_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    throw Error("cannot rename " + from + " to " + to + ": " + std::strerror(errno), to);
}

void atomic_write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) ensure_dir(parent.string());
  std::string temp = temp_path_next_to(path);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot create " + temp + ": " + std::strerror(errno), path);
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      throw Error("cannot write " + path + ": " + reason, path, "check free space");
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash may leave the new name pointing at an empty file.
  int synced = ::fsync(fd);
  std::string reason = synced != 0 ? std::strerror(errno) : "";
  if (::close(fd) != 0 && synced == 0) {
    synced = -1;
    reason = std::strerror(errno);
  }
  if (synced != 0) {
    ::unlink(temp.c_str());
    throw Error("cannot write " + path + ": " + reason, path);
  }
  try {
    rename_file(temp, path);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

}  // namespace autothink::core
