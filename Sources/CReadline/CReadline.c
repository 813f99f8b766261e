#include "CReadline.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

static lr_completer_fn completer_fn = NULL;
static volatile sig_atomic_t got_sigint = 0;
static char *finished_line = NULL;
static int line_done = 0;

static char **lr_attempt_completion(const char *text, int start, int end) {
    (void)end;
    rl_attempted_completion_over = 1;  // never fall back to file names
    rl_completion_append_character = 0;  // "torch." continues without a space
    return completer_fn == NULL ? NULL : completer_fn(text, rl_line_buffer, start);
}

void lr_setup(const char *name, lr_completer_fn completer) {
    rl_readline_name = name;
    completer_fn = completer;
    rl_attempted_completion_function = lr_attempt_completion;
    // '.' and ':' stay inside words so "torch.ra<TAB>" completes the whole path.
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
    rl_completer_quote_characters = "\"'";
    rl_catch_signals = 0;  // we handle SIGINT ourselves, below
}

static void lr_line_handler(char *line) {
    finished_line = line;
    line_done = 1;
    rl_callback_handler_remove();
}

// The kernel may run the SIGINT handler on any thread that does not block it (libtorch's and
// the loaders' threads included), which would leave the main thread asleep in pselect. So the
// handler also writes a byte to a pipe that pselect watches: whichever thread takes the
// signal, the prompt wakes.
static int wake_pipe[2] = {-1, -1};

static void lr_on_sigint(int sig) {
    (void)sig;
    got_sigint = 1;
    if (wake_pipe[1] >= 0) {
        int saved = errno;
        ssize_t ignored = write(wake_pipe[1], "i", 1);
        (void)ignored;
        errno = saved;
    }
}

static void lr_drain_wake_pipe(void) {
    char buffer[64];
    while (wake_pipe[0] >= 0 && read(wake_pipe[0], buffer, sizeof buffer) > 0) {}
}

char *lr_readline(const char *prompt, int *interrupted) {
    *interrupted = 0;
    if (!isatty(STDIN_FILENO)) return readline(prompt);

    struct sigaction action, old_action;
    memset(&action, 0, sizeof action);
    action.sa_handler = lr_on_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_action);  // no SA_RESTART: select() returns EINTR

    // SIGINT stays blocked except inside pselect, so a Ctrl-C that lands while readline is
    // busy with a key is seen at the next wait instead of being lost until the next key.
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGINT);

    if (wake_pipe[0] < 0 && pipe(wake_pipe) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(wake_pipe[i], F_SETFL, fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
            fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
        }
    }
    lr_drain_wake_pipe();
    got_sigint = 0;
    line_done = 0;
    finished_line = NULL;
    rl_callback_handler_install(prompt, lr_line_handler);
    while (!line_done) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(STDIN_FILENO, &fds);
        int nfds = STDIN_FILENO + 1;
        if (wake_pipe[0] >= 0) {
            FD_SET(wake_pipe[0], &fds);
            if (wake_pipe[0] + 1 > nfds) nfds = wake_pipe[0] + 1;
        }
        int r = pselect(nfds, &fds, NULL, NULL, NULL, &wait_mask);
        if (got_sigint) {
            got_sigint = 0;
            lr_drain_wake_pipe();
            // Ctrl-C at the prompt: drop what was typed, show a fresh prompt.
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_replace_line("", 0);
            rl_point = rl_end = 0;
            rl_crlf();
            rl_callback_handler_remove();
            sigprocmask(SIG_UNBLOCK, &block, NULL);
            sigaction(SIGINT, &old_action, NULL);
            *interrupted = 1;
            return strdup("");
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (!FD_ISSET(STDIN_FILENO, &fds)) continue;
        rl_callback_read_char();
    }
    if (!line_done) rl_callback_handler_remove();
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    sigaction(SIGINT, &old_action, NULL);
    return finished_line;
}

void lr_add_history(const char *line) { add_history(line); }

int lr_read_history(const char *path) { return read_history(path); }

int lr_write_history(const char *path, int max_entries) {
    int rc = write_history(path);
    if (rc == 0 && max_entries > 0) history_truncate_file(path, max_entries);
    return rc;
}
