// Verifiers: does an answer match the truth? Built in: "numeric" (the LAST number in the answer
// equals the truth's number, tolerant of formatting) and "exact" (whitespace/case-normalised
// string equality); "command" verifiers (verifier_command.hpp) run a user's program. A
// VerifierRegistry maps names to verifiers and task families to verifier names; users add their own.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace autothink::data {

class Verifier {
 public:
  virtual ~Verifier() = default;
  // True when `answer` (what a model wrote in <answer>) is correct for `truth`.
  virtual bool check(const std::string& answer, const std::string& truth) const = 0;
  virtual std::string describe() const = 0;  // for reports: "numeric", "command: ./check.sh"
};

// The last number in `text`, normalised to a canonical decimal ("-12.5", "1786", "0.5"), or
// nullopt when there is none. Recognised: an optional sign ('-', U+2212 '−', '+') not glued to a
// preceding letter or digit ("3-5" is 3 and 5), thousands separators only in valid groups of
// three ("1,786", "12,345,678"; "1,2" is 1 and 2), a decimal point followed by digits ("1786.0",
// ".5"). A '.' not followed by a digit is punctuation ("1786." is 1786). Leading zeros and
// trailing fractional zeros do not matter. Not recognised: exponents, fractions, words.
std::optional<std::string> last_number(const std::string& text);

// Correct when the answer's LAST number equals the truth's (last) number exactly, after
// normalisation: "1,786", " 1786.", "1786.0", "The answer is 1786", "x = 1786" all match "1786".
// The last number is taken because answers that explain ("38 + 6 = 44") end with the result;
// an answer with no number is wrong. A truth with no number throws autothink::Error (a family
// mapped to the wrong verifier).
class NumericVerifier : public Verifier {
 public:
  bool check(const std::string& answer, const std::string& truth) const override;
  std::string describe() const override { return "numeric"; }
};

// The normalisation of ExactMatchVerifier: ASCII-lowercased, runs of whitespace collapsed to one
// space, trimmed, trailing '.' removed.
std::string normalise_exact(const std::string& text);

class ExactMatchVerifier : public Verifier {
 public:
  bool check(const std::string& answer, const std::string& truth) const override;
  std::string describe() const override { return "exact"; }
};

class VerifierRegistry {
 public:
  // "numeric" and "exact", and every built-in task family mapped to its verifier.
  static VerifierRegistry with_builtins();

  // Adds (or replaces) a verifier under `name`.
  void add(const std::string& name, std::shared_ptr<const Verifier> verifier);
  // Maps a task family to a registered verifier; an unknown verifier name throws autothink::Error.
  void map_family(const std::string& family, const std::string& verifier_name);

  bool has(const std::string& name) const { return verifiers_.count(name) > 0; }
  // Throws autothink::Error listing the known names when `name` is not registered.
  const Verifier& get(const std::string& name) const;
  // The verifier of a family; an unmapped family throws autothink::Error naming it.
  const Verifier& for_family(const std::string& family) const;
  std::string family_verifier_name(const std::string& family) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::shared_ptr<const Verifier>> verifiers_;
  std::map<std::string, std::string> families_;
};

}  // namespace autothink::data
