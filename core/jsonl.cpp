#include "core/jsonl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace autothink::core {
namespace {

bool is_blank(const std::string& s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

JsonlStats read_jsonl_stream(std::istream& in, const std::string& source_name, const JsonlCallback& on_record,
                             const JsonlOptions& options) {
  JsonlStats stats;
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    const std::string where = source_name + ":" + std::to_string(stats.lines);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (stats.lines == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (is_blank(line)) {
      ++stats.blank;
      continue;
    }
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      if (stats.first_bad.empty()) stats.first_bad = where + ": " + e.what();
      ++stats.bad;
      if (options.skip_bad_lines) continue;
      throw Error("invalid JSON on line " + std::to_string(stats.lines) + " of " + source_name, where,
                  std::string(e.what()) + " (each line must be one JSON object)");
    }
    try {
      on_record(record, stats.lines);
    } catch (const nlohmann::json::exception& e) {
      throw Error("unexpected record content in " + source_name, where, e.what());
    } catch (const Error& e) {
      if (!e.where().empty()) throw;
      throw Error(e.message(), where, e.hint());
    }
    ++stats.records;
  }
  if (in.bad()) throw Error("cannot read " + source_name + " (I/O error after line " + std::to_string(stats.lines) + ")", source_name);
  return stats;
}

JsonlStats read_jsonl(const std::string& path, const JsonlCallback& on_record, const JsonlOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path + ": " + std::strerror(errno), path, "check the path");
  return read_jsonl_stream(in, path, on_record, options);
}

std::vector<nlohmann::json> read_jsonl_all(const std::string& path, const JsonlOptions& options, JsonlStats* stats) {
  std::vector<nlohmann::json> records;
  JsonlStats s = read_jsonl(path, [&](const nlohmann::json& r, int64_t) { records.push_back(r); }, options);
  if (stats) *stats = s;
  return records;
}

std::string to_json_line(const nlohmann::json& record, const std::string& what) {
  try {
    return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::type_error& e) {
    throw Error("cannot write " + what + " as JSON", what, std::string(e.what()) + " (strings must be valid UTF-8)");
  }
}

JsonlWriter::JsonlWriter(const std::string& path, Mode mode)
    : path_(path), mode_(mode), uncaught_at_start_(std::uncaught_exceptions()) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) ensure_dir(parent.string());
  write_path_ = mode == Mode::atomic ? temp_path_next_to(path) : path;
  auto flags = std::ios::binary | (mode == Mode::append ? std::ios::app : std::ios::trunc);
  out_ = std::make_unique<std::ofstream>(write_path_, flags);
  if (!*out_) throw Error("cannot open " + write_path_ + " for writing: " + std::strerror(errno), path);
}

JsonlWriter::~JsonlWriter() {
  if (!out_) return;
  bool unwinding = std::uncaught_exceptions() > uncaught_at_start_;
  if (mode_ == Mode::atomic && unwinding) {
    out_.reset();
    std::remove(write_path_.c_str());
    return;
  }
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autothink: error: %s\n", e.what());  // destructors must not throw
  }
}

void JsonlWriter::write(const nlohmann::json& record) {
  if (!out_) throw Error("write to a closed JSONL writer", path_);
  std::string line = to_json_line(record, path_ + " record " + std::to_string(count_ + 1));
  line += '\n';
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  if (!*out_) throw Error("cannot write " + path_ + ": " + std::strerror(errno), path_, "check free space");
  ++count_;
}

void JsonlWriter::flush() {
  if (out_ && !out_->flush()) throw Error("cannot write " + path_ + ": " + std::strerror(errno), path_);
}

void JsonlWriter::close() {
  if (!out_) return;
  out_->flush();
  bool ok = static_cast<bool>(*out_);
  out_->close();
  ok = ok && !out_->fail();
  out_.reset();
  if (!ok) {
    if (mode_ == Mode::atomic) std::remove(write_path_.c_str());
    throw Error("cannot write " + path_, path_, "check free space");
  }
  if (mode_ == Mode::atomic) {
    // Flush to disk before the rename, else a crash can leave the new name on an empty file.
    int fd = ::open(write_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    rename_file(write_path_, path_);
  }
}

void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& records) {
  std::string bytes;
  for (size_t i = 0; i < records.size(); ++i)
    bytes += to_json_line(records[i], path + " record " + std::to_string(i + 1)) + "\n";
  atomic_write_file(path, bytes);
}

nlohmann::json read_json_file(const std::string& path) {
  std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports "line L, column C" in its message; keep it whole.
    throw Error("invalid JSON in " + path, path, e.what());
  }
}

void write_json_file(const std::string& path, const nlohmann::json& value, int indent) {
  std::string text;
  try {
    text = value.dump(indent, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::type_error& e) {
    throw Error("cannot write " + path + " as JSON", path, std::string(e.what()) + " (strings must be valid UTF-8)");
  }
  atomic_write_file(path, text + "\n");
}

}  // namespace autothink::core
