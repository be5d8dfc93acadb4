#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace autothink::log {
namespace {

Level level_from_env() {
  const char* env = std::getenv("AUTOTHINK_LOG");
  if (!env) return Level::info;
  if (!std::strcmp(env, "debug")) return Level::debug;
  if (!std::strcmp(env, "warn")) return Level::warn;
  if (!std::strcmp(env, "error")) return Level::error;
  return Level::info;
}

std::atomic<int> g_level{static_cast<int>(level_from_env())};
std::atomic<int> g_rank{-1};
const auto g_start = std::chrono::steady_clock::now();
std::mutex g_mutex;
std::string g_status_line;  // guarded by g_mutex

}  // namespace

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
void set_rank(int rank) { g_rank = rank; }

void write(Level l, const std::string& message) {
  static const char* names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_status_line.empty()) std::fputs("\r\x1b[K", stderr);
  int rank = g_rank.load();
  if (rank >= 0)
    std::fprintf(stderr, "[autothink %.1fs rank %d] %s %s\n", t, rank, names[static_cast<int>(l)], message.c_str());
  else
    std::fprintf(stderr, "[autothink %.1fs] %s %s\n", t, names[static_cast<int>(l)], message.c_str());
  if (!g_status_line.empty()) std::fprintf(stderr, "\r%s\x1b[K", g_status_line.c_str());
  std::fflush(stderr);
}

void set_status_line(const std::string& text) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (text.empty() && !g_status_line.empty()) std::fputs("\r\x1b[K", stderr);
  if (!text.empty()) std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
  g_status_line = text;
  std::fflush(stderr);
}

void write_raw(const std::string& text) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace autothink::log
