// CommandVerifier: a user's program decides (for code tasks and anything else a program can
// check). It runs `/bin/sh -c COMMAND` with the answer on stdin and the truth in the environment
// variable AUTOTHINK_TRUTH; exit status 0 = correct, any other status or running past the timeout
// (the process group is killed) = wrong. Its stdout is discarded; stderr passes through. The first
// check sets SIGPIPE to ignored (process-wide) so a command that never reads stdin cannot kill us.
#pragma once
#include <string>

#include "data/verifier.hpp"

namespace autothink::data {

class CommandVerifier : public Verifier {
 public:
  explicit CommandVerifier(std::string command, double timeout_seconds = 10.0);
  // Throws autothink::Error when the command cannot run at all (the shell reports 126/127:
  // not found / not executable), so a broken setup never silently scores every answer wrong.
  bool check(const std::string& answer, const std::string& truth) const override;
  std::string describe() const override { return "command: " + command_; }

 private:
  std::string command_;
  double timeout_seconds_;
};

}  // namespace autothink::data
