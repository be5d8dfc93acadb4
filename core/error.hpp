// The one exception hierarchy. autothink::Error is what a stage boundary reports: what went wrong,
// where (file:line, key, tensor name, ...), and what to do about it. Every library's own error
// derives from it (format::TemplateError, serve::ApiException, InternalError), so a boundary
// catches autothink::Error once. AUTOTHINK_CHECK guards invariants of our own code: a failure is a
// bug, reported as InternalError with the source file:line, never as the user's mistake.
#pragma once
#include <stdexcept>
#include <string>

namespace autothink {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, const std::string& where = "", const std::string& hint = "")
      : std::runtime_error(compose(what, where, hint)), what_(what), where_(where), hint_(hint) {}

  const std::string& message() const { return what_; }
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }

 private:
  static std::string compose(const std::string& what, const std::string& where, const std::string& hint) {
    std::string s = what;
    if (!where.empty()) s += " (at " + where + ")";
    if (!hint.empty()) s += ": " + hint;
    return s;
  }
  std::string what_, where_, hint_;
};

// A broken invariant of autothink itself (where = the source file:line of the check).
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] inline void check_failed(const char* condition, const std::string& message, const char* file, int line) {
  throw InternalError("internal error: " + message + " (check `" + condition + "` failed)",
                      std::string(file) + ":" + std::to_string(line),
                      "this is a bug in autothink; please report it with the command that hit it");
}
}  // namespace detail

}  // namespace autothink

// AUTOTHINK_CHECK(condition, message): throws InternalError naming file:line when condition is
// false. `message` (a std::string expression) is built only on failure. Not CHECK: c10 defines that.
#define AUTOTHINK_CHECK(condition, message)                                                  \
  do {                                                                                       \
    if (!(condition)) ::autothink::detail::check_failed(#condition, (message), __FILE__, __LINE__); \
  } while (0)
