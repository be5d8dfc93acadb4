// autothink::core::Progress — one progress/throughput line for long work, on stderr:
//   "train 120/1000 (12.0%) 35.2 step/s 4,512 tok/s loss=2.31 ETA 25s"
// Printed at most every interval (and at the end); rates over a sliding window; on a TTY the line
// is rewritten in place (\r), otherwise each print is a new line. Clock and output are
// injectable so the formatting can be tested without sleeping. Safe for one writer thread while
// others read line().
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace autothink::core {

// "42s", "1m12s", "2h03m", "3d04h"; "?" for a negative or non-finite duration.
std::string format_duration(double seconds);
// 4512 → "4,512".
std::string format_count(int64_t n);
// 0.532 → "0.53", 35.24 → "35.2", 4512.3 → "4,512".
std::string format_rate(double per_second);

// One key=value pair on the line; numbers are written with 4 significant digits.
struct ProgressField {
  std::string key, value;
  ProgressField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  ProgressField(std::string k, const char* v) : key(std::move(k)), value(v) {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  ProgressField(std::string k, T v) : key(std::move(k)), value(format_number(static_cast<double>(v), std::is_integral_v<T>)) {}
  static std::string format_number(double v, bool integral);
};

struct ProgressOptions {
  double interval_s = 1.0;  // at most one print per interval
  double window_s = 10.0;   // rates are measured over this much recent time
  int tty = -1;             // -1: detect (isatty(stderr)); 0: plain lines; 1: rewrite in place
  bool enabled = true;      // false: print nothing (e.g. on ranks other than 0)
  std::function<double()> clock;                  // seconds; default: steady clock
  // default: stderr via core/log (an in-place line is its status line, redrawn after log lines)
  std::function<void(const std::string&)> write;
};

class Progress {
 public:
  // total <= 0: unknown (no percentage or ETA). unit names what `done` counts ("step", "record").
  Progress(std::string name, int64_t total, std::string unit = "step", ProgressOptions options = {});
  ~Progress();  // ends an in-place line with a newline if finish() was not called
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // done: units finished so far. counters: cumulative totals of other units ({"tok", tokens so
  // far}) shown as rates. Prints when the interval has passed or done reaches total.
  void update(int64_t done, const std::vector<ProgressField>& fields = {},
              const std::vector<std::pair<std::string, int64_t>>& counters = {});
  // Prints the summary "train done: 1000 step in 28.4s (35.2 step/s, 4,512 tok/s) loss=2.31".
  void finish(const std::vector<ProgressField>& fields = {});

  std::string line() const;     // the current progress line (without \r or newline)
  std::string summary() const;  // what finish() prints
  double rate() const;          // units per second over the window

 private:
  struct Sample {
    double t;
    int64_t done;
    std::vector<int64_t> counters;
  };
  double now() const;
  std::string line_locked() const;
  std::string summary_locked() const;
  double rate_locked(size_t counter) const;  // counter SIZE_MAX: the main unit
  void emit(const std::string& text, bool final_line);

  std::string name_, unit_;
  int64_t total_;
  ProgressOptions options_;
  bool tty_ = false;
  mutable std::mutex mutex_;
  double start_ = 0, last_print_ = 0;
  std::deque<Sample> window_;
  std::vector<std::string> counter_names_;
  std::vector<ProgressField> fields_;
  bool printed_in_place_ = false, finished_ = false, printed_end_ = false;
  bool to_log_ = false;  // no writer injected: draw through core/log's status line
  std::string last_line_;
};

}  // namespace autothink::core
