// Progress line: what a user reads on stderr during long work — counts, percentage, windowed
// rates, extra fields, ETA — printed at most once per interval, with a summary at the end.
// A fake clock drives time, so nothing sleeps.
#include <gtest/gtest.h>

#include "core/log.hpp"
#include "core/progress.hpp"

namespace autothink::core {
namespace {

struct FakeTerminal {
  double t = 1000.0;
  std::vector<std::string> writes;
  ProgressOptions options(int tty) {
    ProgressOptions o;
    o.tty = tty;
    o.clock = [this] { return t; };
    o.write = [this](const std::string& s) { writes.push_back(s); };
    return o;
  }
};

TEST(progress, formats_durations_counts_and_rates) {
  EXPECT_EQ(format_duration(42.4), "42s");
  EXPECT_EQ(format_duration(72), "1m12s");
  EXPECT_EQ(format_duration(2 * 3600 + 3 * 60 + 9), "2h03m");
  EXPECT_EQ(format_duration(3 * 86400 + 4 * 3600), "3d04h");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_count(4512), "4,512");
  EXPECT_EQ(format_count(1234567), "1,234,567");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(-1000), "-1,000");
  EXPECT_EQ(format_rate(0.532), "0.53");
  EXPECT_EQ(format_rate(35.24), "35.2");
  EXPECT_EQ(format_rate(4512.3), "4,512");
}

TEST(progress, line_shows_rate_counters_fields_and_eta) {
  FakeTerminal term;
  Progress p("train", 1000, "step", term.options(0));
  term.t += 10;
  p.update(352, {{"loss", 2.31}}, {{"tok", 45120}});
  EXPECT_EQ(p.line(), "train 352/1000 (35.2%) 35.2 step/s 4,512 tok/s loss=2.31 ETA 18s");
  ASSERT_EQ(term.writes.size(), 1u);
  EXPECT_EQ(term.writes[0], p.line() + "\n");  // not a TTY: whole lines, no \r
}

TEST(progress, prints_at_most_once_per_interval_and_at_the_end) {
  FakeTerminal term;
  Progress p("tag", 100, "query", term.options(0));
  for (int i = 1; i <= 100; ++i) {
    term.t += 0.05;  // 20 updates per second for 5 s
    p.update(i);
  }
  // One print per second (5) — the last one at done == total.
  EXPECT_EQ(term.writes.size(), 5u);
  EXPECT_EQ(term.writes.back().rfind("tag 100/100 (100.0%) 20.0 query/s", 0), 0u) << term.writes.back();
  EXPECT_EQ(term.writes.back().find("ETA"), std::string::npos);
}

TEST(progress, rate_follows_a_sliding_window) {
  FakeTerminal term;
  ProgressOptions o = term.options(0);
  o.window_s = 10;
  Progress p("gen", 0, "tok", o);
  int64_t done = 0;
  for (int s = 0; s < 30; ++s) {  // 100 tok/s for 30 s...
    term.t += 1;
    p.update(done += 100);
  }
  for (int s = 0; s < 12; ++s) {  // ...then 10 tok/s: the window forgets the fast part
    term.t += 1;
    p.update(done += 10);
  }
  EXPECT_NEAR(p.rate(), 10.0, 1e-9);
  EXPECT_EQ(p.line(), "gen 3120 10.0 tok/s");  // unknown total: no percentage, no ETA
}

TEST(progress, tty_rewrites_in_place_and_finish_prints_summary) {
  FakeTerminal term;
  {
    Progress p("train", 10, "step", term.options(1));
    term.t += 2;
    p.update(4, {{"loss", 3}}, {{"tok", 400}});
    term.t += 3;
    p.update(10, {{"loss", 1.5}}, {{"tok", 1000}});
    p.finish();
  }
  ASSERT_EQ(term.writes.size(), 3u);
  EXPECT_EQ(term.writes[0], "\rtrain 4/10 (40.0%) 2.00 step/s 200 tok/s loss=3 ETA 3s\x1b[K");
  EXPECT_EQ(term.writes[2], "\rtrain done: 10 step in 5s (2.00 step/s, 200 tok/s) loss=1.5\x1b[K\n");
}

TEST(progress, unfinished_tty_line_is_ended_by_destructor) {
  FakeTerminal term;
  {
    Progress p("x", 10, "step", term.options(1));
    term.t += 2;
    p.update(1);
  }
  ASSERT_EQ(term.writes.size(), 2u);
  EXPECT_EQ(term.writes.back(), "\n");
}

TEST(progress, disabled_prints_nothing) {
  FakeTerminal term;
  ProgressOptions o = term.options(0);
  o.enabled = false;
  Progress p("x", 10, "step", o);
  term.t += 5;
  p.update(10);
  p.finish();
  EXPECT_TRUE(term.writes.empty());
}

TEST(progress, log_lines_do_not_garble_the_tty_line) {
  double t = 0;
  ProgressOptions o;
  o.tty = 1;
  o.clock = [&t] { return t; };  // no writer: stderr through core/log
  log::set_level(log::Level::info);
  ::testing::internal::CaptureStderr();
  {
    Progress p("train", 10, "step", o);
    t = 2;
    p.update(4);
    log::info("checkpoint saved");
    t = 5;
    p.update(10);
    p.finish();
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  std::string line = "train 4/10 (40.0%) 2.00 step/s ETA 3s";
  size_t drawn = err.find("\r" + line + "\x1b[K");
  size_t cleared = err.find("\r\x1b[K[autothink", drawn);
  size_t logged = err.find("INFO checkpoint saved\n", cleared);
  size_t redrawn = err.find("\r" + line + "\x1b[K", logged);
  EXPECT_NE(drawn, std::string::npos) << err;
  EXPECT_NE(cleared, std::string::npos) << err;
  EXPECT_NE(logged, std::string::npos) << err;
  EXPECT_NE(redrawn, std::string::npos) << err;
  EXPECT_NE(err.find("train done: 10 step in 5s (2.00 step/s)\n"), std::string::npos) << err;
  // After finish the status line is gone: a later log line is not followed by a redraw.
  ::testing::internal::CaptureStderr();
  log::info("after");
  std::string after = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(after.find("train"), std::string::npos) << after;
}

}  // namespace
}  // namespace autothink::core
