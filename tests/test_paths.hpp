// Paths and helpers tests share: the source tree, the build tree, the autothink binary, Python,
// a fresh temporary directory, and running a command while capturing its output.
#pragma once
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace autothink::testing {

inline std::filesystem::path source_dir() { return AUTOTHINK_SOURCE_DIR; }
inline std::filesystem::path build_dir() { return AUTOTHINK_BUILD_DIR; }
#ifdef AUTOTHINK_BINARY  // only folders whose tests run the binary (tests/CMakeLists.txt USES_BINARY)
inline std::string autothink_binary() { return AUTOTHINK_BINARY; }
#endif
inline std::filesystem::path fixture(const std::string& name) { return source_dir() / "tests" / "fixtures" / name; }

inline std::string python() {
  const char* env = std::getenv("AUTOTHINK_PYTHON");
  return env && *env ? env : AUTOTHINK_DEFAULT_PYTHON;
}

// A new, empty directory under the build tree's tmp/ (kept after the test for inspection).
inline std::filesystem::path temp_dir(const std::string& tag) {
  std::random_device rd;
  auto dir = build_dir() / "tmp" / (tag + "-" + std::to_string(rd()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Polls `done` every 50 ms until it holds or `limit` passes; returns its last value. The limit is
// how long to wait for something that should happen, never a speed claim.
template <typename Predicate>
bool wait_for(Predicate done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// The whole file as text ("" when it cannot be read).
inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (stderr too when merged)
};

// Runs `command` through /bin/sh; stdout is captured, stderr is appended when merge_stderr.
inline CommandResult run_command(const std::string& command, bool merge_stderr = false) {
  CommandResult result;
  std::string full = command + (merge_stderr ? " 2>&1" : "");
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace autothink::testing
