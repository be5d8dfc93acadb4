// Small file-system helpers: read a whole file, create folders, and write a file atomically
// (temp file in the same folder + fsync + rename), so a crash never leaves a half-written file.
#pragma once
#include <string>

namespace autothink::core {

// Creates `dir` and its parents; an Error naming the folder when it cannot.
void ensure_dir(const std::string& dir);
// The whole file as bytes; an Error naming the file when it cannot be read.
std::string read_file(const std::string& path);
// Replaces `path` with `bytes` atomically (parent folders are created).
void atomic_write_file(const std::string& path, const std::string& bytes);
// A fresh, unused temporary path next to `path` ("<path>.tmp.<pid>.<n>").
std::string temp_path_next_to(const std::string& path);
// rename(2) with an Error naming both paths.
void rename_file(const std::string& from, const std::string& to);

}  // namespace autothink::core
