// Logging to stderr with level, elapsed time and (under a launcher) the rank, e.g.
// "[autothink 12.3s rank 1] INFO loading model". Level from AUTOTHINK_LOG (debug|info|warn|error).
#pragma once
#include <sstream>
#include <string>

namespace autothink::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
Level level();
// Set once by launchers so every line says which process wrote it; -1 = single process.
void set_rank(int rank);
void write(Level level, const std::string& message);

// An in-place status line on a terminal (core::Progress): write() clears it before a message
// and redraws it after, so log lines and the progress line never garble each other. Drawing
// happens here, under the log's lock. "" removes it (the cursor is left at the line's start).
void set_status_line(const std::string& text);
// Prints `text` as is to stderr under the log's lock (a finished progress summary, ...).
void write_raw(const std::string& text);

template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
template <typename... Args> void debug(Args&&... a) { if (level() <= Level::debug) write(Level::debug, concat(a...)); }
template <typename... Args> void info(Args&&... a) { if (level() <= Level::info) write(Level::info, concat(a...)); }
template <typename... Args> void warn(Args&&... a) { if (level() <= Level::warn) write(Level::warn, concat(a...)); }
template <typename... Args> void error(Args&&... a) { write(Level::error, concat(a...)); }

}  // namespace autothink::log
