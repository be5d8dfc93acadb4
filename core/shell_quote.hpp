// Quoting one argument for /bin/sh: the text inside single quotes, each ' written as '\''.
#pragma once
#include <string>

namespace autothink::core {

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace autothink::core
