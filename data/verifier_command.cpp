// Runs a verifier command with a timeout (see verifier_command.hpp).
#include "data/verifier_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "core/error.hpp"

extern char** environ;

namespace autothink::data {

CommandVerifier::CommandVerifier(std::string command, double timeout_seconds)
    : command_(std::move(command)), timeout_seconds_(timeout_seconds) {
  if (command_.empty()) throw Error("a command verifier needs a command", "CommandVerifier");
  if (!(timeout_seconds_ > 0)) throw Error("a command verifier needs a positive timeout", "CommandVerifier");
}

bool CommandVerifier::check(const std::string& answer, const std::string& truth) const {
  // Linux caps one environment string at 128 KiB (MAX_ARG_STRLEN); past that exec fails.
  if (truth.size() + 17 > 128 * 1024)
    throw Error("the truth is too long for the AUTOTHINK_TRUTH environment variable (" + std::to_string(truth.size()) +
                    " bytes, at most 131055)",
                describe(), "keep truths short, or have the command read the truth from a file named in the answer");
  // Environment built before fork: only exec-safe calls happen in the child.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "AUTOTHINK_TRUTH=", 16) != 0) env_strings.emplace_back(*e);
  env_strings.push_back("AUTOTHINK_TRUTH=" + truth);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c", command = command_;
  char* argv[] = {shell.data(), dash_c.data(), command.data(), nullptr};

  int in_pipe[2];
  if (::pipe(in_pipe) != 0) throw Error(std::string("cannot create a pipe: ") + std::strerror(errno), describe());
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw Error(std::string("cannot start the verifier: ") + std::strerror(errno), describe());
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own process group, so a timeout kills everything it started
    ::dup2(in_pipe[0], 0);
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 1);
    ::execve("/bin/sh", argv, envp.data());
    const char message[] = "autothink: the verifier command could not start (exec /bin/sh failed)\n";
    ssize_t ignored = ::write(2, message, sizeof message - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(in_pipe[0]);
  int writer = in_pipe[1];
  ::fcntl(writer, F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);  // a command that exits without reading stdin must not kill us

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds_);
  size_t written = 0;
  int status = 0;
  bool exited = false;
  while (!exited) {
    if (writer >= 0) {
      if (written < answer.size()) {
        ssize_t n = ::write(writer, answer.data() + written, answer.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) written = answer.size();  // reader gone
      }
      if (written >= answer.size()) {
        ::close(writer);
        writer = -1;
      }
    }
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exited = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      if (writer >= 0) ::close(writer);
      return false;
    }
    if (writer >= 0) {
      pollfd fd{writer, POLLOUT, 0};
      ::poll(&fd, 1, 2);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (writer >= 0) ::close(writer);
  if (!WIFEXITED(status)) return false;  // killed by a signal
  const int code = WEXITSTATUS(status);
  if (code == 126 || code == 127)
    throw Error("the verifier command could not run (shell exit " + std::to_string(code) + ": not found or not executable)",
                describe(), "check the command and that its program is on PATH");
  return code == 0;
}

}  // namespace autothink::data
