// JSON and JSONL files: read a JSONL file record by record (errors name file:line; bad lines can
// be skipped and counted), write JSONL (truncate, append, or atomically replace), and read/write
// one JSON document. Writes that replace a file go through a temp file + rename (core/fs.hpp).
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace autothink::core {

struct JsonlOptions {
  bool skip_bad_lines = false;  // count lines that are not JSON instead of failing on the first
};

struct JsonlStats {
  int64_t lines = 0;    // lines read
  int64_t records = 0;  // records handed to the callback
  int64_t blank = 0;    // empty or whitespace-only lines (always skipped)
  int64_t bad = 0;      // lines that are not JSON (skipped with skip_bad_lines)
  std::string first_bad;  // "file:line: <parser message>" of the first bad line
};

// Called with each record and its 1-based line number. An autothink::Error without a location
// or a nlohmann::json exception thrown by the callback is re-thrown naming file:line.
using JsonlCallback = std::function<void(const nlohmann::json& record, int64_t line)>;

JsonlStats read_jsonl(const std::string& path, const JsonlCallback& on_record, const JsonlOptions& options = {});
// The same over any stream; source_name is what errors call it.
JsonlStats read_jsonl_stream(std::istream& in, const std::string& source_name, const JsonlCallback& on_record,
                             const JsonlOptions& options = {});
std::vector<nlohmann::json> read_jsonl_all(const std::string& path, const JsonlOptions& options = {},
                                           JsonlStats* stats = nullptr);

// One compact JSON line (no trailing newline); invalid UTF-8 in strings is an Error naming `what`.
std::string to_json_line(const nlohmann::json& record, const std::string& what = "record");

class JsonlWriter {
 public:
  enum class Mode {
    truncate,  // start a new file
    append,    // add to the end of an existing file (or start one)
    atomic,    // write a temp file; it replaces `path` on close()
  };
  explicit JsonlWriter(const std::string& path, Mode mode = Mode::atomic);
  // Closes (atomic: commits). If destroyed while an exception unwinds, an atomic writer discards
  // its temp file and leaves the old file as it was.
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write(const nlohmann::json& record);
  void flush();
  void close();
  int64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_, write_path_;
  Mode mode_;
  std::unique_ptr<std::ofstream> out_;
  int64_t count_ = 0;
  int uncaught_at_start_ = 0;
};

// Replaces `path` atomically with one record a line.
void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& records);

nlohmann::json read_json_file(const std::string& path);
// Atomic; indent < 0 writes one compact line. A trailing newline is added.
void write_json_file(const std::string& path, const nlohmann::json& value, int indent = 2);

}  // namespace autothink::core
