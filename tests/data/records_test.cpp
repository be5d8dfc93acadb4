// Record files: synth and chat records survive a write/read round trip, and a bad record is an
// error naming file:line and what is wrong (or, for chat records with skip_bad, is skipped and counted).
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "data/records.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(records, synth_round_trip) {
  auto dir = autothink::testing::temp_dir("records");
  std::vector<SynthRecord> records = {
      {"add_hard/38+47+19+26", "add_hard", "hard", "What is 38 + 47 + 19 + 26?", "130",
       "38 + 47 = 85\n85 + 19 = 104\n104 + 26 = 130\ncheck: 130"},
      {"x/\"quoted\"", "x", "easy", "Ünïcode \"quotes\"\t?", "é", ""},
  };
  write_synth_records((dir / "s.jsonl").string(), records);
  auto back = read_synth_records((dir / "s.jsonl").string());
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back[i].id, records[i].id);
    EXPECT_EQ(back[i].family, records[i].family);
    EXPECT_EQ(back[i].difficulty, records[i].difficulty);
    EXPECT_EQ(back[i].question, records[i].question);
    EXPECT_EQ(back[i].answer, records[i].answer);
    EXPECT_EQ(back[i].cot, records[i].cot);
  }
}

TEST(records, chat_round_trip_keeps_turns_and_meta) {
  auto dir = autothink::testing::temp_dir("records");
  ChatRecord r;
  r.conversation.messages.push_back({"user", "What is 2 + 3?", "", format::ThinkMode::unknown, ""});
  r.conversation.messages.push_back({"assistant", "5", "Thinking was requested.", format::ThinkMode::on, "2 + 3 = 5\ncheck: 5"});
  r.meta = {"add_easy/2+3", "add_easy", "easy", "5", {{"p_on", 0.5}}};
  ChatRecord bare;  // no meta at all
  bare.conversation.messages.push_back({"user", "hi", "", format::ThinkMode::unknown, ""});
  bare.conversation.messages.push_back({"assistant", "hello", "", format::ThinkMode::off, ""});
  write_chat_records((dir / "c.jsonl").string(), {r, bare});
  auto back = read_chat_records((dir / "c.jsonl").string());
  ASSERT_EQ(back.size(), 2u);
  const auto& m = back[0].conversation.messages;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].content, "5");
  EXPECT_EQ(m[1].judge, "Thinking was requested.");
  EXPECT_EQ(m[1].mode, format::ThinkMode::on);
  EXPECT_EQ(m[1].reasoning, "2 + 3 = 5\ncheck: 5");
  EXPECT_EQ(back[0].meta.id, "add_easy/2+3");
  EXPECT_EQ(back[0].meta.truth, "5");
  EXPECT_EQ(back[0].meta.extra.at("p_on"), 0.5);
  EXPECT_EQ(back[1].meta.id, "");
  EXPECT_FALSE(chat_record_to_json(back[1]).contains("meta"));
}

TEST(records, bad_synth_record_names_file_line_and_field) {
  auto dir = autothink::testing::temp_dir("records");
  const std::string good = R"({"id":"a/1","family":"a","difficulty":"easy","question":"q","answer":"1","cot":"c"})";
  auto path = (dir / "bad.jsonl").string();

  write_text(path, good + "\n\n" + R"({"id":"a/2","family":"a","difficulty":"easy","question":"q","cot":"c"})" + "\n");
  std::string e = error_of([&] { read_synth_records(path); });
  EXPECT_NE(e.find(path + ":3"), std::string::npos) << e;
  EXPECT_NE(e.find("\"answer\""), std::string::npos) << e;

  write_text(path, good + "\n" + R"({"id":"a/2","family":"a","difficulty":"tricky","question":"q","answer":"1","cot":"c"})");
  e = error_of([&] { read_synth_records(path); });
  EXPECT_NE(e.find(path + ":2"), std::string::npos) << e;
  EXPECT_NE(e.find("tricky"), std::string::npos) << e;
  EXPECT_NE(e.find("\"medium\""), std::string::npos) << e;  // the known difficulties are named

  write_text(path, R"({"id":7,"family":"a","difficulty":"easy","question":"q","answer":"1","cot":"c"})");
  e = error_of([&] { read_synth_records(path); });
  EXPECT_NE(e.find(path + ":1"), std::string::npos) << e;
  EXPECT_NE(e.find("\"id\" must be a string"), std::string::npos) << e;

  write_text(path, good + "\n{not json\n");
  e = error_of([&] { read_synth_records(path); });
  EXPECT_NE(e.find(path + ":2"), std::string::npos) << e;

  e = error_of([&] { read_synth_records((dir / "missing.jsonl").string()); });
  EXPECT_NE(e.find("missing.jsonl"), std::string::npos) << e;
}

TEST(records, bad_chat_record_is_an_error_or_skipped_and_counted) {
  auto dir = autothink::testing::temp_dir("records");
  auto path = (dir / "chat.jsonl").string();
  const std::string good = R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","mode":"off"}]})";
  write_text(path, good + "\n" +
                       R"({"messages":[{"role":"robot","content":"q"}]})" + "\n" +
                       R"({"messages":[{"role":"user","content":"q"}],"meta":{"id":3}})" + "\n" +
                       "not json\n" + good + "\n");
  std::string e = error_of([&] { read_chat_records(path); });
  EXPECT_NE(e.find(path + ":2"), std::string::npos) << e;
  EXPECT_NE(e.find("robot"), std::string::npos) << e;

  size_t skipped = 0;
  auto records = read_chat_records(path, /*skip_bad=*/true, &skipped);
  EXPECT_EQ(records.size(), 2u);
  EXPECT_EQ(skipped, 3u);
}

}  // namespace
}  // namespace autothink::data
