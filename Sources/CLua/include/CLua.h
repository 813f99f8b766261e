// CLua: the C side of the Lua boundary.
//
// Lua reports errors with longjmp. Swift frames must never be jumped over, so:
//  - every Lua-visible Swift function is called through lh_trampoline, which raises the
//    error (lua_error) only after the Swift function has returned a status;
//  - Swift calls into Lua only through the protected helpers here (lh_docall, lh_tostring_protected);
//  - the Ctrl-C hook raises "interrupted!" from inside Lua, never from Swift.
// Lua's function-like macros (lua_pop, lua_pcall, lua_upvalueindex, ...) are not visible to
// Swift, so the ones the host needs are wrapped here.
#pragma once
#include "../../LuaSystem/shim.h"
#include <stddef.h>
#include <stdint.h>

// ---- status codes a Swift function returns to the trampoline ---------------------------------
// n >= 0: n results are on top of the stack.
#define LH_RAISE_MESSAGE (-1)  // a string is on top: raise it with "chunk:line:" position prefixed
#define LH_RAISE_VALUE (-2)    // any value is on top: raise it unchanged (error tables pass through)

// The one Swift entry point every trampoline calls: ctx identifies the Swift function.
typedef int (*lh_dispatch_fn)(lua_State *L, void *ctx);
void lh_set_dispatch(lh_dispatch_fn fn);
// Called by __gc (and explicit release) with the Swift object pointer stored in a userdata box.
typedef void (*lh_release_fn)(void *object);
void lh_set_release(lh_release_fn fn);

// Pushes a C closure that dispatches to Swift with ctx.
void lh_push_swift_function(lua_State *L, void *ctx);
// True when the value at idx is a closure made by lh_push_swift_function; *ctx receives its ctx.
int lh_swift_function_ctx(lua_State *L, int idx, void **ctx);

// ---- userdata boxes for Swift objects ----------------------------------------------------------
typedef struct lh_box {
    void *object;      // an Unmanaged, retained Swift object; NULL once released
    int32_t class_id;  // index of the class in the Swift registry
} lh_box;

// Creates a box holding object, sets metatable (at registry ref metatable_ref) and leaves it on the stack.
lh_box *lh_new_box(lua_State *L, void *object, int32_t class_id, int metatable_ref);
// The box at idx if it is a Lunette object (its metatable carries the Lunette class marker), else NULL.
lh_box *lh_to_box(lua_State *L, int idx);
// Marks a metatable (on top of the stack) as a Lunette class metatable.
void lh_mark_class_metatable(lua_State *L);
// Pushes the C functions used in class metatables: __gc and __index (upvalues: methods, getter).
void lh_push_gc(lua_State *L);
void lh_push_index(lua_State *L);  // pops 2 upvalues (methods table, getter function or nil)

// ---- wrappers for macros -----------------------------------------------------------------------
int lh_registryindex(void);
void lh_pop(lua_State *L, int n);
void lh_newtable(lua_State *L);
const char *lh_tostring(lua_State *L, int idx, size_t *len);
int lh_isinteger(lua_State *L, int idx);
void lh_remove(lua_State *L, int idx);
void lh_replace(lua_State *L, int idx);
int lh_getref(lua_State *L, int ref);  // pushes registry[ref], returns its type

// ---- protected calls from Swift ---------------------------------------------------------------
// Calls the function below its nargs arguments with a traceback message handler. With
// catch_sigint, Ctrl-C while it runs interrupts the Lua code ("interrupted!").
// Returns a LUA_* status; on error the error value is on top of the stack (a traceback appended to strings).
int lh_docall(lua_State *L, int nargs, int nresults, int catch_sigint);
// Like lh_docall but leaves error values unchanged (no traceback): for Swift calling Lua callbacks.
int lh_pcall(lua_State *L, int nargs, int nresults);
// Loads a chunk: LUA_OK with the function on top, or an error status with the message on top.
int lh_load(lua_State *L, const char *buf, size_t len, const char *chunkname, const char *mode);
// luaL_tolstring (honouring __tostring and __name) under protection. On success the string is
// pushed and returned; on failure NULL is returned and the error message is pushed instead.
const char *lh_tostring_protected(lua_State *L, int idx, size_t *len);
// Opens the standard libraries under protection. Returns a LUA_* status.
int lh_openlibs(lua_State *L);

// ---- interrupts ----------------------------------------------------------------------------
// Set when Ctrl-C was pressed during lh_docall(..., catch_sigint = 1); long Swift primitives
// poll it between steps. Cleared (with the pending stop hook) by lh_clear_interrupt_request.
int lh_interrupt_requested(void);
void lh_clear_interrupt_request(void);
// Sets the request flag (for tests and for Swift code that cancels work).
void lh_request_interrupt(void);
// How many times Ctrl-C (SIGINT) reached lh_docall's handler: whoever must know that a stop came
// from Ctrl-C (a primitive may have stopped cleanly and cleared the flag) compares two counts.
int lh_sigint_count(void);
// From now on, Ctrl-C outside lh_docall is counted (and sets the flag) instead of ending the
// process: for hosts that check between steps (a notebook between cells).
void lh_count_sigint_between_calls(void);
// From any thread (a time limit): stops the Lua code lh_docall(..., 1) is running, as Ctrl-C
// does, without counting as a Ctrl-C; it keeps raising until the call returns (a pcall in the
// code catches one "interrupted!", not all of them).
void lh_interrupt_running(void);
// Removes any hook from L (a stop armed just as a call ended must not hit the next one).
void lh_clear_hook(lua_State *L);
// C's stdout line by line (1) or in blocks (0): captured output keeps its place among log lines.
void lh_stdout_line_buffered(int line);
// Flushes stdout and stderr only (fflush(NULL) would wait on a stream another thread reads).
void lh_flush_standard_streams(void);

// The host pointer stored in the state's extra space (coroutines inherit it).
void lh_set_host(lua_State *L, void *host);
void *lh_get_host(lua_State *L);

// Writes to C's stdout/stderr (the streams Lua's print and io.write use), then flushes.
void lh_write_stdout(const char *s, size_t len);
void lh_write_stderr(const char *s, size_t len);

// LUA_RELEASE, e.g. "Lua 5.4.4" (a string-concatenation macro Swift cannot see).
const char *lh_release(void);

// lua_gc is variadic (not callable from Swift): a full collection.
void lh_gc_collect(lua_State *L);
