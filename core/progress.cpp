#include "core/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/log.hpp"

namespace autothink::core {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long long s = std::llround(seconds);
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
  return buf;
}

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second)) return "?";
  char buf[64];
  double a = std::fabs(per_second);
  if (a < 10) {
    std::snprintf(buf, sizeof buf, "%.2f", per_second);
  } else if (a < 100) {
    std::snprintf(buf, sizeof buf, "%.1f", per_second);
  } else {
    return format_count(std::llround(per_second));
  }
  return buf;
}

std::string ProgressField::format_number(double v, bool integral) {
  char buf[64];
  if (integral)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

Progress::Progress(std::string name, int64_t total, std::string unit, ProgressOptions options)
    : name_(std::move(name)), unit_(std::move(unit)), total_(total), options_(std::move(options)) {
  if (!options_.clock) {
    options_.clock = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
  }
  to_log_ = !options_.write;  // stderr through the log, so log lines and this line interleave cleanly
  tty_ = options_.tty < 0 ? ::isatty(::fileno(stderr)) != 0 : options_.tty != 0;
  start_ = last_print_ = now();
  window_.push_back({start_, 0, {}});
}

Progress::~Progress() {
  if (!printed_in_place_ || finished_) return;
  if (to_log_) {
    log::set_status_line("");
    log::write_raw(last_line_ + "\n");  // keep the last state visible
  } else {
    options_.write("\n");
  }
}

double Progress::now() const { return options_.clock(); }

void Progress::update(int64_t done, const std::vector<ProgressField>& fields,
                      const std::vector<std::pair<std::string, int64_t>>& counters) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  double t = now();
  Sample sample{t, done, window_.back().counters};
  for (const auto& [counter, value] : counters) {
    size_t i = 0;
    while (i < counter_names_.size() && counter_names_[i] != counter) ++i;
    if (i == counter_names_.size()) counter_names_.push_back(counter);
    if (sample.counters.size() < counter_names_.size()) sample.counters.resize(counter_names_.size(), 0);
    sample.counters[i] = value;
  }
  // Many updates within a short time share one sample, so the window stays small.
  if (window_.size() >= 2 && t - window_[window_.size() - 2].t < options_.window_s / 200)
    window_.back() = sample;
  else
    window_.push_back(sample);
  // Keep the newest sample at or before the window's start as the rate's base.
  while (window_.size() > 2 && window_[1].t <= t - options_.window_s) window_.pop_front();
  if (!fields.empty()) fields_ = fields;

  bool at_end = total_ > 0 && done >= total_ && !printed_end_;
  if (options_.enabled && (t - last_print_ >= options_.interval_s || at_end)) {
    emit(line_locked(), false);
    last_print_ = t;
    if (at_end) printed_end_ = true;
  }
}

void Progress::finish(const std::vector<ProgressField>& fields) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  if (!fields.empty()) fields_ = fields;
  if (options_.enabled) emit(summary_locked(), true);
  finished_ = true;
}

void Progress::emit(const std::string& text, bool final_line) {
  last_line_ = text;
  if (to_log_) {
    if (tty_ && !final_line) {
      log::set_status_line(text);
    } else {
      if (tty_) log::set_status_line("");
      log::write_raw(text + "\n");
    }
    printed_in_place_ = tty_ && !final_line;
    return;
  }
  if (tty_) {
    options_.write("\r" + text + "\x1b[K" + (final_line ? "\n" : ""));
    printed_in_place_ = !final_line;
  } else {
    options_.write(text + "\n");
  }
}

double Progress::rate_locked(size_t counter) const {
  const Sample& first = window_.front();
  const Sample& last = window_.back();
  double dt = last.t - first.t;
  if (dt <= 0) return 0;
  if (counter == SIZE_MAX) return static_cast<double>(last.done - first.done) / dt;
  int64_t a = counter < first.counters.size() ? first.counters[counter] : 0;
  int64_t b = counter < last.counters.size() ? last.counters[counter] : 0;
  return static_cast<double>(b - a) / dt;
}

double Progress::rate() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rate_locked(SIZE_MAX);
}

std::string Progress::line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return line_locked();
}

std::string Progress::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return summary_locked();
}

std::string Progress::line_locked() const {
  int64_t done = window_.back().done;
  std::string out = name_ + " " + std::to_string(done);
  if (total_ > 0) {
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", 100.0 * static_cast<double>(done) / static_cast<double>(total_));
    out += "/" + std::to_string(total_) + pct;
  }
  double r = rate_locked(SIZE_MAX);
  out += " " + format_rate(r) + " " + unit_ + "/s";
  for (size_t i = 0; i < counter_names_.size(); ++i)
    out += " " + format_rate(rate_locked(i)) + " " + counter_names_[i] + "/s";
  for (const auto& f : fields_) out += " " + f.key + "=" + f.value;
  if (total_ > 0 && done < total_) out += " ETA " + (r > 0 ? format_duration(static_cast<double>(total_ - done) / r) : "?");
  return out;
}

std::string Progress::summary_locked() const {
  const Sample& last = window_.back();
  double elapsed = now() - start_;
  std::string out = name_ + " done: " + std::to_string(last.done) + " " + unit_ + " in " + format_duration(elapsed);
  if (elapsed > 0) {
    out += " (" + format_rate(static_cast<double>(last.done) / elapsed) + " " + unit_ + "/s";
    for (size_t i = 0; i < counter_names_.size(); ++i) {
      int64_t v = i < last.counters.size() ? last.counters[i] : 0;
      out += ", " + format_rate(static_cast<double>(v) / elapsed) + " " + counter_names_[i] + "/s";
    }
    out += ")";
  }
  for (const auto& f : fields_) out += " " + f.key + "=" + f.value;
  return out;
}

}  // namespace autothink::core
