// Numeric and exact-match verifiers and the registry (see verifier.hpp).
#include "data/verifier.hpp"

#include <cctype>

#include "core/error.hpp"
#include "data/task_suite.hpp"

namespace autothink::data {
namespace {

bool verifier_is_digit(char c) { return c >= '0' && c <= '9'; }
bool verifier_is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Length of a minus/plus sign at text[i] (0 when none): '-', '+', or U+2212 (3 bytes).
size_t verifier_sign_length(const std::string& t, size_t i, bool* negative) {
  if (t[i] == '-' || t[i] == '+') {
    *negative = t[i] == '-';
    return 1;
  }
  if (t.compare(i, 3, "\xE2\x88\x92") == 0) {
    *negative = true;
    return 3;
  }
  return 0;
}

std::string verifier_canonical(bool negative, std::string whole, std::string fraction) {
  size_t nz = whole.find_first_not_of('0');
  whole = nz == std::string::npos ? "0" : whole.substr(nz);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string s = whole + (fraction.empty() ? "" : "." + fraction);
  return (negative && s != "0") ? "-" + s : s;
}

}  // namespace

std::optional<std::string> last_number(const std::string& t) {
  std::optional<std::string> last;
  size_t i = 0;
  const size_t n = t.size();
  while (i < n) {
    const bool glued = i > 0 && (verifier_is_alnum(t[i - 1]) || t[i - 1] == '.');
    bool negative = false;
    size_t sign = glued ? 0 : verifier_sign_length(t, i, &negative);
    size_t start = i + sign;
    const bool starts_digit = start < n && verifier_is_digit(t[start]);
    const bool starts_point = start + 1 < n && t[start] == '.' && verifier_is_digit(t[start + 1]) &&
                              (start == 0 || !verifier_is_digit(t[start - 1]));
    if (!starts_digit && !starts_point) {
      ++i;
      continue;
    }
    size_t j = start;
    std::string whole, fraction;
    while (j < n && verifier_is_digit(t[j])) whole += t[j++];
    // Thousands groups: only after a first group of 1-3 digits, each ",ddd" not followed by a digit.
    if (!whole.empty() && whole.size() <= 3) {
      while (j + 3 < n && t[j] == ',' && verifier_is_digit(t[j + 1]) && verifier_is_digit(t[j + 2]) &&
             verifier_is_digit(t[j + 3]) && (j + 4 >= n || !verifier_is_digit(t[j + 4]))) {
        whole += t.substr(j + 1, 3);
        j += 4;
      }
    }
    if (j + 1 < n && t[j] == '.' && verifier_is_digit(t[j + 1])) {
      ++j;
      while (j < n && verifier_is_digit(t[j])) fraction += t[j++];
    }
    last = verifier_canonical(negative, whole, fraction);
    i = j;
  }
  return last;
}

bool NumericVerifier::check(const std::string& answer, const std::string& truth) const {
  auto expected = last_number(truth);
  if (!expected)
    throw Error("the truth \"" + truth + "\" holds no number", "numeric verifier",
                "map this task family to a verifier for its kind of answer (e.g. exact)");
  auto got = last_number(answer);
  return got && *got == *expected;
}

std::string normalise_exact(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool ExactMatchVerifier::check(const std::string& answer, const std::string& truth) const {
  return normalise_exact(answer) == normalise_exact(truth);
}

VerifierRegistry VerifierRegistry::with_builtins() {
  VerifierRegistry registry;
  registry.add("numeric", std::make_shared<NumericVerifier>());
  registry.add("exact", std::make_shared<ExactMatchVerifier>());
  for (const auto& family : builtin_families()) registry.map_family(family.name, family.verifier);
  return registry;
}

void VerifierRegistry::add(const std::string& name, std::shared_ptr<const Verifier> verifier) {
  if (name.empty()) throw Error("a verifier needs a name", "VerifierRegistry::add");
  if (!verifier) throw Error("no verifier given for \"" + name + "\"", "VerifierRegistry::add");
  verifiers_[name] = std::move(verifier);
}

void VerifierRegistry::map_family(const std::string& family, const std::string& verifier_name) {
  get(verifier_name);  // throws for an unknown name
  families_[family] = verifier_name;
}

std::vector<std::string> VerifierRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, v] : verifiers_) out.push_back(name);
  return out;
}

const Verifier& VerifierRegistry::get(const std::string& name) const {
  auto it = verifiers_.find(name);
  if (it == verifiers_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown verifier \"" + name + "\"", "verifier registry", "registered verifiers: " + known);
  }
  return *it->second;
}

std::string VerifierRegistry::family_verifier_name(const std::string& family) const {
  auto it = families_.find(family);
  if (it == families_.end())
    throw Error("no verifier for task family \"" + family + "\"", "verifier registry",
                "map the family to a verifier (numeric, exact, or your own command verifier)");
  return it->second;
}

const Verifier& VerifierRegistry::for_family(const std::string& family) const {
  return get(family_verifier_name(family));
}

}  // namespace autothink::data
