// autothink::Error — the one exception type thrown at stage boundaries: what went wrong, where
// (file:line, key, tensor name, ...), and what to do about it.
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

}  // namespace autothink
