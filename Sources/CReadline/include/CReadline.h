// CReadline: GNU readline through its callback interface, so that Ctrl-C at the prompt clears
// the line (instead of killing the program) without jumping out of readline.
#pragma once
#include <stddef.h>

// Completion: given the word being completed (text, which keeps "." and ":" inside it), the
// whole line and where the word starts in it, returns a malloc'ed, NULL-terminated array of
// malloc'ed candidates, or NULL.
typedef char **(*lr_completer_fn)(const char *text, const char *line, int start);

// Sets readline's program name, word-break characters and completer. Call once.
void lr_setup(const char *name, lr_completer_fn completer);
// Reads one line with the prompt. Returns a malloc'ed line (caller frees), or NULL at end of
// input. *interrupted is set to 1 (and "" returned) when Ctrl-C cleared the line.
char *lr_readline(const char *prompt, int *interrupted);
void lr_add_history(const char *line);
// Reads/writes the history file; returns 0 or an errno value.
int lr_read_history(const char *path);
int lr_write_history(const char *path, int max_entries);
