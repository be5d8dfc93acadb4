// JSONL and JSON file helpers: records arrive with their line numbers, a bad line is an error
// naming file:line (or is skipped and counted), and writes replace files atomically.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "test_paths.hpp"

namespace autothink::core {
namespace {

using nlohmann::json;

std::string jsonl_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

TEST(jsonl, reads_records_with_line_numbers_skipping_blank_lines) {
  auto dir = testing::temp_dir("jsonl");
  std::string path = write_text(dir / "a.jsonl", "\xEF\xBB\xBF{\"id\":1}\r\n\n   \n{\"id\":2}\n{\"id\":3}");
  std::vector<std::pair<int, int64_t>> seen;
  JsonlStats stats = read_jsonl(path, [&](const json& r, int64_t line) { seen.emplace_back(r["id"].get<int>(), line); });
  EXPECT_EQ(seen, (std::vector<std::pair<int, int64_t>>{{1, 1}, {2, 4}, {3, 5}}));
  EXPECT_EQ(stats.records, 3);
  EXPECT_EQ(stats.blank, 2);
  EXPECT_EQ(stats.bad, 0);
}

TEST(jsonl, bad_line_names_file_and_line) {
  auto dir = testing::temp_dir("jsonl");
  std::string path = write_text(dir / "bad.jsonl", "{\"id\":1}\n{\"id\":2}\n{\"id\": oops}\n{\"id\":4}\n");
  int calls = 0;
  std::string msg = jsonl_error([&] { read_jsonl(path, [&](const json&, int64_t) { ++calls; }); });
  EXPECT_NE(msg.find("invalid JSON on line 3 of " + path), std::string::npos) << msg;
  EXPECT_NE(msg.find(path + ":3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("parse error"), std::string::npos) << msg;
  EXPECT_EQ(calls, 2);
}

TEST(jsonl, skip_bad_lines_counts_them) {
  std::istringstream in("{\"a\":1}\nnot json\n{\"a\":2}\n{\"a\":\n");
  std::vector<int> values;
  JsonlStats stats = read_jsonl_stream(in, "mem.jsonl", [&](const json& r, int64_t) { values.push_back(r["a"]); },
                                       JsonlOptions{true});
  EXPECT_EQ(values, (std::vector<int>{1, 2}));
  EXPECT_EQ(stats.bad, 2);
  EXPECT_EQ(stats.lines, 4);
  EXPECT_EQ(stats.first_bad.rfind("mem.jsonl:2: ", 0), 0u) << stats.first_bad;
}

TEST(jsonl, callback_errors_get_the_line) {
  std::istringstream in("{\"q\":\"x\"}\n{\"q\":5}\n");
  std::string msg = jsonl_error([&] {
    read_jsonl_stream(in, "recs.jsonl", [](const json& r, int64_t) { r.at("q").get<std::string>(); });
  });
  EXPECT_NE(msg.find("recs.jsonl:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("type must be string"), std::string::npos) << msg;

  std::istringstream in2("{}\n");
  msg = jsonl_error([&] {
    read_jsonl_stream(in2, "recs.jsonl", [](const json&, int64_t) { throw Error("record has no messages"); });
  });
  EXPECT_EQ(msg, "record has no messages (at recs.jsonl:1)");
}

TEST(jsonl, missing_file_names_it) {
  std::string msg = jsonl_error([] { read_jsonl("/no/such/file.jsonl", [](const json&, int64_t) {}); });
  EXPECT_NE(msg.find("/no/such/file.jsonl"), std::string::npos) << msg;
}

TEST(jsonl, writer_modes_truncate_append_atomic) {
  auto dir = testing::temp_dir("jsonl");
  std::string path = (dir / "sub" / "out.jsonl").string();
  {
    JsonlWriter w(path, JsonlWriter::Mode::truncate);
    w.write({{"i", 1}});
    w.write({{"s", "é\n\"q\""}});
  }
  {
    JsonlWriter w(path, JsonlWriter::Mode::append);
    w.write({{"i", 3}});
    EXPECT_EQ(w.count(), 1);
  }
  auto records = read_jsonl_all(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1]["s"], "é\n\"q\"");
  EXPECT_EQ(records[2]["i"], 3);

  {
    JsonlWriter w(path, JsonlWriter::Mode::atomic);
    w.write({{"i", 9}});
    EXPECT_EQ(read_jsonl_all(path).size(), 3u);  // old file untouched until close
    w.close();
  }
  EXPECT_EQ(read_jsonl_all(path), (std::vector<json>{{{"i", 9}}}));
}

TEST(jsonl, atomic_writer_discards_on_exception) {
  auto dir = testing::temp_dir("jsonl");
  std::string path = write_text(dir / "keep.jsonl", "{\"old\":true}\n");
  try {
    JsonlWriter w(path);
    w.write({{"new", true}});
    throw std::runtime_error("stage failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(path), "{\"old\":true}\n");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) (void)e, ++files;
  EXPECT_EQ(files, 1);  // no temp file left behind
}

TEST(jsonl, invalid_utf8_is_an_error_not_a_silent_replacement) {
  auto dir = testing::temp_dir("jsonl");
  std::string path = (dir / "u.jsonl").string();
  std::string msg = jsonl_error([&] { write_jsonl(path, {{{"text", std::string("ok \xff")}}}); });
  EXPECT_NE(msg.find("UTF-8"), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(jsonl, json_file_round_trip_and_errors) {
  auto dir = testing::temp_dir("jsonl");
  std::string path = (dir / "a" / "b.json").string();
  write_json_file(path, {{"vocab", 100}, {"tokens", {"a", "b"}}});
  EXPECT_EQ(read_json_file(path)["vocab"], 100);
  EXPECT_EQ(read_file(path).back(), '\n');
  std::string bad = write_text(dir / "bad.json", "{\n  \"a\": 1,\n}\n");
  std::string msg = jsonl_error([&] { read_json_file(bad); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
}

TEST(jsonl, atomic_write_file_replaces_content_and_creates_folders) {
  auto dir = testing::temp_dir("fs");
  std::string path = (dir / "x" / "y" / "f.bin").string();
  atomic_write_file(path, std::string("a\0b", 3));
  atomic_write_file(path, "second");
  EXPECT_EQ(read_file(path), "second");
  std::string blocker = write_text(dir / "file", "x");
  std::string msg = jsonl_error([&] { ensure_dir(blocker + "/sub"); });
  EXPECT_NE(msg.find(blocker + "/sub"), std::string::npos) << msg;
}

}  // namespace
}  // namespace autothink::core
