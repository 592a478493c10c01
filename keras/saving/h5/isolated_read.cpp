#include "keel/keras/saving/h5/isolated_read.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>

#include "keel/graph/error.h"
#include "keel/graph/threads.h"

namespace keel::h5 {
namespace {

unsigned time_limit_seconds(const std::string& path) {
  if (const char* s = std::getenv("KEEL_UNTRUSTED_READ_SECONDS")) {
    const long v = std::strtol(s, nullptr, 10);
    if (v > 0) return static_cast<unsigned>(v);
  }
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  return 10 + (ec ? 0u : static_cast<unsigned>(bytes / 10'000'000));
}

[[noreturn]] void child(int out, unsigned seconds, const std::function<void()>& read) {
  // One thread: the parent's OpenMP pool does not exist in a forked child.
  set_num_threads(1);
  // The alarm must fire whatever the caller did with SIGALRM (ignored, handled, blocked in this thread):
  // a fork inherits dispositions and the signal mask.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGALRM, &dfl, nullptr);
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  ::sigprocmask(SIG_UNBLOCK, &alrm, nullptr);
  alarm(seconds);
  int status = 0;
  std::string message;
  try {
    read();
  } catch (const std::exception& e) {
    message = e.what();
    status = 3;
  } catch (...) {
    message = "an exception that is not a std::exception";
    status = 3;
  }
  for (size_t done = 0; done < message.size();) {
    const ssize_t n = ::write(out, message.data() + done, message.size() - done);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) done += static_cast<size_t>(n);
  }
  ::_exit(status);  // no atexit handlers or static destructors: they belong to the parent
}

}  // namespace

void check_in_child(const std::string& what, const std::string& path, const std::function<void()>& read) {
  const unsigned seconds = time_limit_seconds(path);
  int fds[2];
  if (::pipe(fds) != 0) return;
  std::fflush(nullptr);  // buffered output would otherwise be written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], seconds, read);
  }
  ::close(fds[1]);
  std::string message;
  char buf[4096];
  // The child's alarm is the limit; the parent waits a little longer and then kills it, so that nothing
  // the child inherited can make the parent wait forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 5);
  bool killed = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready == 0) {
      killed = ::kill(pid, SIGKILL) == 0;
      break;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      message.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 3) throw Error(message);
  if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGALRM || (killed && WTERMSIG(st) == SIGKILL)))
    KEEL_FAIL(what, ": reading the file did not finish within ", seconds,
              " s (HDF5 loops on some damaged metadata): the file is corrupt");
  if (WIFSIGNALED(st))
    KEEL_FAIL(what, ": HDF5 crashed reading the file (signal ", WTERMSIG(st), ", ", strsignal(WTERMSIG(st)),
              "): the file is corrupt");
  KEEL_FAIL(what, ": reading the file in a child process failed with exit status ",
            WIFEXITED(st) ? WEXITSTATUS(st) : -1, ": the file is corrupt");
}

}  // namespace keel::h5
