// Test support: start a program on a new pseudo-terminal (forkpty + execv in C, since a Swift
// child process after fork may only call async-signal-safe functions).
#pragma once
#include <sys/types.h>

// Starts path with argv (NULL-terminated) and extra environment entries ("K=V", NULL-terminated)
// on a new pty of the given size. Returns the child's pid (or -1); *master receives the pty fd.
pid_t pty_spawn(const char *path, char *const argv[], char *const extra_env[], int rows, int cols, int *master);
// Reads whatever is available within timeout_ms into buf; returns bytes read, 0 on timeout, -1 at EOF.
int pty_read(int fd, char *buf, int size, int timeout_ms);
// Waits for the child; returns its exit status (128+signal if killed), or -1 while it still runs after timeout_ms.
int pty_wait(pid_t pid, int timeout_ms);
