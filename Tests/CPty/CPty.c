#define _GNU_SOURCE
#include "CPty.h"

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t pty_spawn(const char *path, char *const argv[], char *const extra_env[], int rows, int cols, int *master) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    pid_t pid = forkpty(master, NULL, NULL, &ws);
    if (pid == 0) {
        for (int i = 0; extra_env && extra_env[i]; i++) putenv(extra_env[i]);
        signal(SIGINT, SIG_DFL);
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

int pty_read(int fd, char *buf, int size, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0) return 0;
    ssize_t n = read(fd, buf, (size_t)size);
    if (n <= 0) return -1;  // EIO once the child has gone
    return (int)n;
}

int pty_wait(pid_t pid, int timeout_ms) {
    for (int waited = 0;; waited += 10) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return -1;
        }
        if (waited >= timeout_ms) return -1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
