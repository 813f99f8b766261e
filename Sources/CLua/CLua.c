#include "CLua.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

static lh_dispatch_fn dispatch_fn = NULL;
static lh_release_fn release_fn = NULL;

void lh_set_dispatch(lh_dispatch_fn fn) { dispatch_fn = fn; }
void lh_set_release(lh_release_fn fn) { release_fn = fn; }

static int lh_index(lua_State *L);

// Pushes "chunk:line: " of the caller, as luaL_where(L, 1) does, except that Lunette's own
// __index dispatcher (a C function between the Lua code and a Swift getter) is skipped.
static void lh_where(lua_State *L) {
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Slf", &ar);
        int ours = lua_tocfunction(L, -1) == lh_index;
        lua_pop(L, 1);
        if (ours) continue;
        if (ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
        break;
    }
    lua_pushliteral(L, "");
}

// The trampoline: the only place a Swift function's error becomes a Lua error, after Swift returned.
static int lh_trampoline(lua_State *L) {
    void *ctx = lua_touserdata(L, lua_upvalueindex(1));
    int n = dispatch_fn(L, ctx);
    if (n >= 0) return n;
    if (n == LH_RAISE_MESSAGE) {
        lh_where(L);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

void lh_push_swift_function(lua_State *L, void *ctx) {
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, lh_trampoline, 1);
}

int lh_swift_function_ctx(lua_State *L, int idx, void **ctx) {
    if (lua_tocfunction(L, idx) != lh_trampoline) return 0;
    if (lua_getupvalue(L, idx, 1) == NULL) return 0;
    *ctx = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return 1;
}

// ---- userdata boxes ----------------------------------------------------------------------------
static const char lh_class_key = 'C';  // its address marks Lunette metatables

lh_box *lh_new_box(lua_State *L, void *object, int32_t class_id, int metatable_ref) {
    lh_box *box = (lh_box *)lua_newuserdatauv(L, sizeof(lh_box), 0);
    box->object = object;
    box->class_id = class_id;
    lua_rawgeti(L, LUA_REGISTRYINDEX, metatable_ref);
    lua_setmetatable(L, -2);
    return box;
}

lh_box *lh_to_box(lua_State *L, int idx) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || lua_islightuserdata(L, idx)) return NULL;
    if (!lua_getmetatable(L, idx)) return NULL;
    int marked = lua_rawgetp(L, -1, &lh_class_key) == LUA_TBOOLEAN;
    lua_pop(L, 2);
    return marked ? (lh_box *)p : NULL;
}

void lh_mark_class_metatable(lua_State *L) {
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &lh_class_key);
}

static int lh_gc(lua_State *L) {
    lh_box *box = lh_to_box(L, 1);
    if (box && box->object) {
        void *object = box->object;
        box->object = NULL;
        release_fn(object);
    }
    return 0;
}

void lh_push_gc(lua_State *L) { lua_pushcfunction(L, lh_gc); }

// __index for class userdata: methods first (inherited through the methods tables' own
// __index chain), then the Swift property getter.
static int lh_index(lua_State *L) {
    lua_pushvalue(L, 2);
    if (lua_gettable(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    if (lua_isnil(L, lua_upvalueindex(2))) return 0;
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

void lh_push_index(lua_State *L) { lua_pushcclosure(L, lh_index, 2); }

// ---- macro wrappers ----------------------------------------------------------------------------
int lh_registryindex(void) { return LUA_REGISTRYINDEX; }
void lh_pop(lua_State *L, int n) { lua_pop(L, n); }
void lh_newtable(lua_State *L) { lua_newtable(L); }
const char *lh_tostring(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
int lh_isinteger(lua_State *L, int idx) { return lua_isinteger(L, idx); }
void lh_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void lh_replace(lua_State *L, int idx) { lua_replace(L, idx); }
int lh_getref(lua_State *L, int ref) { return lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }

// ---- interrupts (the lua.c pattern) ------------------------------------------------------------
static lua_State *volatile sigint_state = NULL;
static atomic_int interrupt_flag = 0;

static void lh_stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

// Makes the running Lua code of L raise "interrupted!" at its next instruction. Safe to call
// from a signal handler (this is what lua.c does).
static void lh_interrupt(lua_State *L) {
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    lua_sethook(L, lh_stop_hook, mask, 1);
}

int lh_interrupt_requested(void) { return atomic_load(&interrupt_flag); }
// Forgets a pending Ctrl-C: the flag, and the stop hook if it is still armed (a primitive that
// handled the interrupt itself, stopping cleanly, clears it so Lua does not raise it again).
void lh_clear_interrupt_request(void) {
    atomic_store(&interrupt_flag, 0);
    lua_State *L = sigint_state;
    if (L && lua_gethook(L) == lh_stop_hook) lua_sethook(L, NULL, 0, 0);
}
void lh_request_interrupt(void) { atomic_store(&interrupt_flag, 1); }

static atomic_int sigint_count = 0;
int lh_sigint_count(void) { return atomic_load(&sigint_count); }

static void lh_on_sigint(int sig) {
    (void)sig;
    atomic_fetch_add(&sigint_count, 1);
    atomic_store(&interrupt_flag, 1);
    if (sigint_state) lh_interrupt(sigint_state);
}

// From any thread: the Lua code that lh_docall(..., 1) runs raises "interrupted!" at its next
// instruction (lua_sethook may be called asynchronously); outside such a call, only the flag.
// The hook stays armed (it raises at every instruction until the call ends), so code that
// catches one stop with pcall meets the next outside it.
static void lh_persistent_stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    luaL_error(L, "interrupted!");
}

void lh_interrupt_running(void) {
    atomic_store(&interrupt_flag, 1);
    lua_State *L = sigint_state;
    if (L) lua_sethook(L, lh_persistent_stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void lh_clear_hook(lua_State *L) { lua_sethook(L, NULL, 0, 0); }

static void lh_on_sigint_between_calls(int sig) {
    (void)sig;
    atomic_fetch_add(&sigint_count, 1);
    atomic_store(&interrupt_flag, 1);
}

void lh_count_sigint_between_calls(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = lh_on_sigint_between_calls;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
}

// ---- protected calls ---------------------------------------------------------------------------
static int lh_msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        // Error values that are not strings (tables, say) pass through unchanged.
        lua_settop(L, 1);
        return 1;
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lh_docall(lua_State *L, int nargs, int nresults, int catch_sigint) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, lh_msghandler);
    lua_insert(L, base);
    struct sigaction old_action;
    if (catch_sigint) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = lh_on_sigint;
        sigemptyset(&action.sa_mask);
        sigint_state = L;
        sigaction(SIGINT, &action, &old_action);
    }
    int status = lua_pcall(L, nargs, nresults, base);
    if (catch_sigint) {
        sigaction(SIGINT, &old_action, NULL);
        sigint_state = NULL;
        lua_sethook(L, NULL, 0, 0);  // a Ctrl-C that arrived after the code finished must not linger
    }
    lua_remove(L, base);
    return status;
}

int lh_pcall(lua_State *L, int nargs, int nresults) { return lua_pcall(L, nargs, nresults, 0); }

int lh_load(lua_State *L, const char *buf, size_t len, const char *chunkname, const char *mode) {
    return luaL_loadbufferx(L, buf, len, chunkname, mode);
}

static int lh_tostring_body(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

const char *lh_tostring_protected(lua_State *L, int idx, size_t *len) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, lh_tostring_body);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) return NULL;
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "'__tostring' must return a string");
        return NULL;
    }
    return lua_tolstring(L, -1, len);
}

static int lh_openlibs_body(lua_State *L) {
    luaL_openlibs(L);
    return 0;
}

int lh_openlibs(lua_State *L) {
    lua_pushcfunction(L, lh_openlibs_body);
    return lua_pcall(L, 0, 0, 0);
}

void lh_set_host(lua_State *L, void *host) { *(void **)lua_getextraspace(L) = host; }
void *lh_get_host(lua_State *L) { return *(void **)lua_getextraspace(L); }

#include <stdio.h>
void lh_write_stdout(const char *s, size_t len) { fwrite(s, 1, len, stdout); fflush(stdout); }
void lh_write_stderr(const char *s, size_t len) { fwrite(s, 1, len, stderr); fflush(stderr); }

void lh_stdout_line_buffered(int line) { setvbuf(stdout, NULL, line ? _IOLBF : _IOFBF, 0); }
void lh_flush_standard_streams(void) { fflush(stdout); fflush(stderr); }

const char *lh_release(void) { return LUA_RELEASE; }

void lh_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
