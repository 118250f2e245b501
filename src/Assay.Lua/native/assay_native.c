/*
 * assay_native.c — the Lua embedding's C (with assay_match.c): the pieces of the Lua embedding that must raise or
 * yield, so that no longjmp ever crosses a managed (.NET) frame.
 *
 *  - assay_trampoline: every builtin written in C# is registered through this C function. The
 *    C# side returns a status; raising (lua_error) and yielding (lua_yieldk) happen here, in C,
 *    after the managed frame has returned.
 *  - a counting allocator that enforces the per-state memory cap while Lua code runs, and lets
 *    C# code (which must never see a memory error) overshoot it. Small blocks are recycled
 *    through per-state free lists (see the pool below), so the hot path takes no lock and the cap
 *    is accounted only when memory moves to or from glibc's malloc.
 *  - a count hook that turns an interrupt request (deadline, Ctrl-C) into a Lua error raised from
 *    C, even inside non-yieldable contexts, tight loops and __gc metamethods (see arm_hook). It
 *    is installed only when an interrupt is requested: while any hook is set, Lua calls into the
 *    debug machinery before every instruction, which costs pure-Lua code about 10%. So the C
 *    side tracks which Lua thread is running (every way into Lua goes through assay_resume,
 *    assay_pcall, assay_closethread or the tracked coroutine.resume) and arms that one, the way
 *    lua.c arms its state from a signal handler.
 *  - assay_file_kind, for fs: .NET cannot tell a device or FIFO from a file.
 *  - assay_constant: the status codes and Lua constants by name, so a test can check that the C#
 *    declarations of them agree with this file and lua.h.
 *
 * The pattern matcher (string.find/match/gmatch/gsub) is in assay_match.c, in the same library.
 *
 * Linked statically into the NativeAOT binary; built as a shared library for JIT test runs.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include "lua.h"
#include "lauxlib.h"

/* Status codes returned by the managed dispatcher (non-negative = number of results). */
#define ASSAY_ERROR       (-1) /* error message on top: raise it, prefixed with the caller's file:line */
#define ASSAY_PENDING     (-2) /* pending-operation id (integer) on top: wait for it */
#define ASSAY_ERROR_AS_IS (-3) /* error value on top: raise it unchanged */

typedef int (*assay_dispatch_fn)(lua_State *L, intptr_t vm, int builtin);
typedef int (*assay_wait_fn)(lua_State *L, intptr_t vm); /* pops an op id, pushes ok, results... */

/* Small-block pool: size classes of POOL_STEP bytes up to POOL_MAX_BLOCK. Lua's objects
 * (closures, upvalues, tables, short strings, small node and array parts) are nearly all this
 * small, and an allocation-heavy script frees them in bursts when the collector sweeps. glibc
 * keeps only 7 blocks per size in its lock-free per-thread cache; the rest of a burst goes through
 * the arena, which takes a lock because the process has many threads (lua5.4's single-threaded
 * process skips it). The state belongs to one thread, so a plain free list per class needs no lock
 * or atomic at all. Each class keeps at most POOL_CLASS_BYTES; beyond that blocks go back to glibc. */
#define POOL_STEP 16
#define POOL_CLASSES 16                                /* 16, 32, ..., 256 bytes */
#define POOL_MAX_BLOCK (POOL_STEP * POOL_CLASSES)
#define POOL_CLASS_BYTES (256 * 1024)

typedef struct pool_bin {
  void *head;   /* free blocks, linked through their first word */
  size_t count; /* blocks on the list */
} pool_bin;

typedef struct assay_vm {
  size_t used;            /* bytes this state holds from malloc (live blocks and the pool's) */
  size_t limit;           /* cap enforced while Lua code runs (0 = none) */
  int enforce;            /* 1 while Lua code runs; 0 while C# is in control */
  volatile int interrupt; /* set from any thread: the next hook raises `reason` */
  lua_State *running;     /* the thread executing Lua now (NULL when none); guarded by `lock` */
  void *closing_block;    /* while lua_close runs: the main thread's memory block (see assay_alloc) */
  char lock;              /* spin lock: loop thread switching `running` vs. an interrupter arming it */
  intptr_t managed;       /* GCHandle of the owning C# LuaVm */
  assay_dispatch_fn dispatch;
  assay_wait_fn wait_sync;
  char reason[256];
  pool_bin pool[POOL_CLASSES];
} assay_vm;

/* The marker a waiting builtin yields with, so the event loop (and the coroutine.resume
 * wrapper) can tell a pending operation from a user's own coroutine.yield. */
static char assay_mark_storage;
#define ASSAY_MARK ((void *)&assay_mark_storage)

static assay_vm *vm_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return (assay_vm *)ud;
}

static void lock_vm(assay_vm *vm);
static void unlock_vm(assay_vm *vm);

/* A block of n bytes (1..POOL_MAX_BLOCK) belongs to class (n - 1) / POOL_STEP and is malloc'ed with
 * the class's full size, so any block of a class can serve any request of that class. */
static inline size_t pool_class(size_t n) { return (n - 1) / POOL_STEP; }
static inline size_t pool_size(size_t n) { return n <= POOL_MAX_BLOCK ? (pool_class(n) + 1) * POOL_STEP : n; }

/* Gives every pooled block back to malloc (when the cap is reached, and when the state is gone). */
static void pool_flush(assay_vm *vm) {
  for (size_t c = 0; c < POOL_CLASSES; c++) {
    pool_bin *b = &vm->pool[c];
    while (b->head) {
      void *next = *(void **)b->head;
      free(b->head);
      b->head = next;
    }
    vm->used -= b->count * (c + 1) * POOL_STEP;
    b->count = 0;
  }
}

static size_t pool_bytes(const assay_vm *vm) {
  size_t n = 0;
  for (size_t c = 0; c < POOL_CLASSES; c++) n += vm->pool[c].count * (c + 1) * POOL_STEP;
  return n;
}

/* Whether growing the state's malloc'ed memory by `grow` bytes would pass the cap while Lua runs.
 * The pool's free blocks count as used until then: they are given back first. */
static int over_limit(assay_vm *vm, size_t grow) {
  if (!vm->enforce || !vm->limit || vm->used + grow <= vm->limit) return 0;
  pool_flush(vm);
  return vm->used + grow > vm->limit;
}

static void release(assay_vm *vm, void *ptr, size_t size) {
  if (size <= POOL_MAX_BLOCK) {
    size_t c = pool_class(size);
    pool_bin *b = &vm->pool[c];
    if (b->count < POOL_CLASS_BYTES / ((c + 1) * POOL_STEP)) {
      *(void **)ptr = b->head;
      b->head = ptr;
      b->count++;
      return;
    }
  }
  free(ptr);
  vm->used -= pool_size(size);
}

static void *assay_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  assay_vm *vm = (assay_vm *)ud;
  if (nsize == 0) {
    if (!ptr) return NULL;
    if (ptr == vm->closing_block) {
      /* lua_close frees the main thread last: from here on no interrupter may arm it */
      lock_vm(vm);
      vm->running = NULL;
      unlock_vm(vm);
    }
    release(vm, ptr, osize);
    return NULL;
  }
  size_t want = pool_size(nsize);
  if (!ptr) {
    if (nsize <= POOL_MAX_BLOCK) {
      pool_bin *b = &vm->pool[pool_class(nsize)];
      void *p = b->head;
      if (p) {
        b->head = *(void **)p;
        b->count--;
        return p;
      }
    }
    if (over_limit(vm, want)) return NULL; /* Lua collects garbage, retries, then raises "not enough memory" from C */
    void *p = malloc(want);
    if (p) vm->used += want;
    return p;
  }
  size_t have = pool_size(osize);
  if (want == have) return ptr; /* same class: the block already has room */
  if (want > have && over_limit(vm, want - have)) return NULL;
  void *p = realloc(ptr, want);
  if (p) vm->used = vm->used - have + want;
  return p;
}

static void assay_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  assay_vm *vm = vm_of(L);
  if (!__atomic_load_n(&vm->interrupt, __ATOMIC_ACQUIRE)) {
    lua_sethook(L, NULL, 0, 0); /* left over from an interrupt that was cleared */
    return;
  }
  /* The hook stays armed with count 1, so it fires again on the very next instruction and a
   * pcall cannot swallow the interrupt. */
  luaL_error(L, "%s", vm->reason);
}

/*
 * Lua switches hooks off (lua_State.allowhook = 0) while a __gc metamethod runs, so an armed hook
 * never fires inside a finalizer and `while true do end` in __gc could not be interrupted. Arming
 * therefore also sets allowhook back to 1 on the running thread: the finalizer then raises the
 * interrupt like any other code (Lua reports a __gc error as a warning and goes on; the hook
 * raises again in the code that triggered the collection). Lua resets the flag for every
 * finalizer, so LuaVm re-arms every 100 ms while an interrupt is pending.
 *
 * allowhook is not part of the API: it is the byte after `status` in lua_State's header in every
 * Lua 5.4 release. find_allowhook checks that on a live state (the byte is 1 outside a hook and 0
 * inside one) before it is ever written; if the check fails, finalizers stay uninterruptible.
 */
#define ALLOWHOOK_GUESS (sizeof(void *) + 3) /* CommonHeader (next, tt, marked), then status */
static int allowhook_offset = -1;            /* -2 once the check failed */
static __thread int allowhook_seen_in_hook; /* per thread: VMs may start in parallel */

static void probe_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  allowhook_seen_in_hook = ((unsigned char *)L)[ALLOWHOOK_GUESS];
  lua_sethook(L, NULL, 0, 0);
}

static void find_allowhook(lua_State *L) {
  if (allowhook_offset != -1) return;
  unsigned char *bytes = (unsigned char *)L;
  allowhook_seen_in_hook = -1;
  int outside = bytes[ALLOWHOOK_GUESS], status = bytes[ALLOWHOOK_GUESS - 1];
  lua_sethook(L, probe_hook, LUA_MASKCOUNT, 1);
  int ok = luaL_loadstring(L, "local x = 1 return x") == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK;
  if (!ok) lua_pop(L, 1);
  lua_sethook(L, NULL, 0, 0);
  allowhook_offset = ok && outside == 1 && status == LUA_OK && allowhook_seen_in_hook == 0
                         && bytes[ALLOWHOOK_GUESS] == 1 ? (int)ALLOWHOOK_GUESS : -2;
}

static void arm_hook(lua_State *L) {
  lua_sethook(L, assay_hook, LUA_MASKCOUNT, 1);
  if (allowhook_offset >= 0) __atomic_store_n((unsigned char *)L + allowhook_offset, 1, __ATOMIC_RELAXED);
}

static void lock_vm(assay_vm *vm) {
  while (__atomic_test_and_set(&vm->lock, __ATOMIC_ACQUIRE)) { /* held for a few instructions */ }
}
static void unlock_vm(assay_vm *vm) { __atomic_clear(&vm->lock, __ATOMIC_RELEASE); }

/* Makes `L` the running thread and returns the previous one. A thread entered while an interrupt
 * is pending is armed at once. The lock guarantees an interrupter only ever arms a thread that is
 * running (so alive), and that no switch slips between its flag and its arming. */
static lua_State *switch_running(assay_vm *vm, lua_State *L) {
  lock_vm(vm);
  lua_State *prev = vm->running;
  vm->running = L;
  if (L && vm->interrupt) arm_hook(L);
  unlock_vm(vm);
  return prev;
}

lua_State *assay_newstate(size_t limit) {
  assay_vm *vm = (assay_vm *)calloc(1, sizeof(assay_vm));
  if (!vm) return NULL;
  vm->limit = limit;
  lua_State *L = lua_newstate(assay_alloc, vm);
  if (!L) { pool_flush(vm); free(vm); return NULL; }
  find_allowhook(L);
  return L;
}

/* The C side of a state, for assay_rearm and assay_free: it outlives the lua_State. */
void *assay_vm_of(lua_State *L) { return vm_of(L); }

/* Closes the state; finalizers run here, so the main thread counts as running (and is armed when
 * an interrupt is pending) until lua_close frees it. The assay_vm stays for assay_free. */
void assay_close(lua_State *L) {
  assay_vm *vm = vm_of(L);
  vm->closing_block = lua_getextraspace(L); /* where the main thread's block starts */
  switch_running(vm, L);
  lua_close(L);
  pool_flush(vm);
}

void assay_free(void *vm) { free(vm); }

/* Arms the running thread again (from any thread) while an interrupt is pending: Lua clears
 * allowhook anew for each finalizer it runs. */
void assay_rearm(void *handle) {
  assay_vm *vm = (assay_vm *)handle;
  if (!__atomic_load_n(&vm->interrupt, __ATOMIC_ACQUIRE)) return;
  lock_vm(vm);
  if (vm->running) arm_hook(vm->running);
  unlock_vm(vm);
}

/* Raises the pending interrupt, if any: for C loops that run no Lua instructions (assay_match.c). */
void assay_check_interrupt(lua_State *L) {
  assay_vm *vm = vm_of(L);
  if (__atomic_load_n(&vm->interrupt, __ATOMIC_ACQUIRE)) luaL_error(L, "%s", vm->reason);
}

void assay_configure(lua_State *L, intptr_t managed, assay_dispatch_fn dispatch, assay_wait_fn wait_sync) {
  assay_vm *vm = vm_of(L);
  vm->managed = managed;
  vm->dispatch = dispatch;
  vm->wait_sync = wait_sync;
}

void assay_set_limit(lua_State *L, size_t limit) { vm_of(L)->limit = limit; }
/* Bytes in use by the state's live objects (the pool's free blocks do not count). */
size_t assay_memory_used(lua_State *L) {
  assay_vm *vm = vm_of(L);
  return vm->used - pool_bytes(vm);
}
void *assay_mark(void) { return ASSAY_MARK; }

/* Safe from any thread: sets the flag and arms the running Lua thread, which raises at its next
 * instruction (lua_sethook is made to be called asynchronously, as lua.c does from SIGINT). */
void assay_interrupt(lua_State *L, const char *reason) {
  assay_vm *vm = vm_of(L);
  strncpy(vm->reason, reason ? reason : "interrupted", sizeof(vm->reason) - 1);
  __atomic_store_n(&vm->interrupt, 1, __ATOMIC_RELEASE);
  lock_vm(vm);
  if (vm->running) arm_hook(vm->running);
  unlock_vm(vm);
}

void assay_clear_interrupt(lua_State *L) { __atomic_store_n(&vm_of(L)->interrupt, 0, __ATOMIC_RELEASE); }

/* Entry points C# uses to run Lua: they switch the memory cap on and track the running thread
 * (enter_lua), and put both back when Lua returns (leave_lua). */
typedef struct { int enforce; lua_State *prev; } lua_entry;

static lua_entry enter_lua(assay_vm *vm, lua_State *L) {
  lua_entry e = { vm->enforce, NULL };
  vm->enforce = 1;
  e.prev = switch_running(vm, L);
  return e;
}

static void leave_lua(assay_vm *vm, lua_entry e) {
  switch_running(vm, e.prev);
  vm->enforce = e.enforce;
}

int assay_resume(lua_State *co, lua_State *from, int nargs, int *nresults) {
  assay_vm *vm = vm_of(co);
  lua_entry e = enter_lua(vm, co);
  int status = lua_resume(co, from, nargs, nresults);
  leave_lua(vm, e);
  return status;
}

int assay_pcall(lua_State *L, int nargs, int nresults, int msgh) {
  assay_vm *vm = vm_of(L);
  lua_entry e = enter_lua(vm, L);
  int status = lua_pcall(L, nargs, nresults, msgh);
  leave_lua(vm, e);
  return status;
}

/* Resets a finished, failed or cancelled coroutine (lua_resetthread, called lua_closethread from
 * Lua 5.4.6 on): its pending to-be-closed variables are closed, so their __close handlers run Lua
 * code. Like any other way into Lua they run under the memory cap and as the running thread, so an
 * interrupt reaches them; Lua runs them in protected mode, so nothing raises out of here. */
int assay_closethread(lua_State *co) {
  assay_vm *vm = vm_of(co);
  lua_entry e = enter_lua(vm, co);
  int status = lua_resetthread(co);
  leave_lua(vm, e);
  return status;
}

/* The standard coroutine.resume (upvalue 1), tracking the coroutine as the running thread while it
 * runs. The standard function reports every failure as (false, message) and never raises once its
 * argument is a thread, so the switch back always happens. */
static int tracked_resume(lua_State *L) {
  lua_CFunction standard = lua_tocfunction(L, lua_upvalueindex(1));
  lua_State *co = lua_tothread(L, 1);
  if (!co) return standard(L); /* raises the usual argument error */
  assay_vm *vm = vm_of(L);
  lua_State *prev = switch_running(vm, co);
  int n = standard(L);
  switch_running(vm, prev);
  return n;
}

/* Pushes coroutine.resume wrapped by tracked_resume; the bootstrap uses it as its raw resume. */
void assay_push_tracked_resume(lua_State *L) {
  lua_getglobal(L, "coroutine");
  lua_getfield(L, -1, "resume");
  lua_remove(L, -2);
  lua_pushcclosure(L, tracked_resume, 1);
}

/* ---- the builtin trampoline ---------------------------------------------------------------- */

/* Raises the value on top; a string message gets the calling Lua code's file:line in front. */
static int raise_top(lua_State *L, int positioned) {
  if (positioned && lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

/* After a wait the stack holds [frame..., flag, results...] above `base`: flag true = success;
 * false = error message (gets file:line); nil = error value raised as is (e.g. a task's error). */
static int finish_wait(lua_State *L, int base, int raw) {
  int n = lua_gettop(L) - base;
  if (raw) return n; /* the coroutine.resume relay passes flag, results... on untouched */
  if (!lua_toboolean(L, base + 1)) {
    int positioned = !lua_isnil(L, base + 1);
    lua_settop(L, base + 2);
    return raise_top(L, positioned);
  }
  lua_remove(L, base + 1);
  return n - 1;
}

static int continue_after_yield(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return finish_wait(L, (int)(ctx >> 1), (int)(ctx & 1));
}

static int settle(lua_State *L, int n, int raw) {
  if (n >= 0) return n;
  if (n == ASSAY_ERROR) return raise_top(L, 1);
  if (n == ASSAY_ERROR_AS_IS) return raise_top(L, 0);
  /* ASSAY_PENDING: the op id is on top. Yield it to the event loop when we can... */
  if (lua_isyieldable(L)) {
    int base = lua_gettop(L) - 1;
    lua_pushlightuserdata(L, ASSAY_MARK);
    lua_insert(L, -2);
    return lua_yieldk(L, 2, ((lua_KContext)base << 1) | raw, continue_after_yield);
  }
  /* ...and where Lua cannot yield (sort comparator, gsub callback, __gc, a module's top level),
   * wait right here on the loop thread instead of failing. */
  assay_vm *vm = vm_of(L);
  int base = lua_gettop(L) - 1;
  int saved = vm->enforce;
  vm->enforce = 0;
  int r = vm->wait_sync(L, vm->managed);
  vm->enforce = saved;
  if (r < 0) return raise_top(L, r == ASSAY_ERROR);
  return finish_wait(L, base, raw);
}

static int trampoline(lua_State *L, int raw) {
  assay_vm *vm = vm_of(L);
  int builtin = (int)lua_tointegerx(L, lua_upvalueindex(1), NULL);
  int saved = vm->enforce;
  vm->enforce = 0;
  int n = vm->dispatch(L, vm->managed, builtin);
  vm->enforce = saved;
  return settle(L, n, raw);
}

static int assay_trampoline(lua_State *L) { return trampoline(L, 0); }
static int assay_trampoline_raw(lua_State *L) { return trampoline(L, 1); }

/* Pushes a Lua function that calls managed builtin number `builtin`. A raw builtin returns the
 * (ok, results...) of a wait as values instead of raising; the coroutine relay uses it. */
void assay_push_builtin(lua_State *L, int builtin, int raw) {
  lua_pushinteger(L, builtin);
  lua_pushcclosure(L, raw ? assay_trampoline_raw : assay_trampoline, 1);
}

/* The values of the status codes and Lua constants the C# side declares again (LuaCall's builtin
 * statuses, LuaNative's LUA_*), by name, so a test can hold both sides to the same numbers.
 * Returns 0 for an unknown name. */
int assay_constant(const char *name, int *value) {
  static const struct { const char *name; int value; } constants[] = {
    {"ASSAY_ERROR", ASSAY_ERROR}, {"ASSAY_PENDING", ASSAY_PENDING}, {"ASSAY_ERROR_AS_IS", ASSAY_ERROR_AS_IS},
    {"LUA_OK", LUA_OK}, {"LUA_YIELD", LUA_YIELD}, {"LUA_ERRRUN", LUA_ERRRUN}, {"LUA_ERRSYNTAX", LUA_ERRSYNTAX},
    {"LUA_ERRMEM", LUA_ERRMEM}, {"LUA_ERRERR", LUA_ERRERR}, {"LUA_REGISTRYINDEX", LUA_REGISTRYINDEX},
    {"LUA_RIDX_GLOBALS", LUA_RIDX_GLOBALS}, {"LUA_MULTRET", LUA_MULTRET},
  };
  for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
    if (strcmp(constants[i].name, name) == 0) { *value = constants[i].value; return 1; }
  return 0;
}

/* print and io.write go through C stdio; the loop flushes it whenever it goes idle. */
void assay_flush(void) { fflush(NULL); }

/* .NET keeps its own copy of the environment on Unix; env.set also updates the C one so that
 * os.getenv, io.popen and os.execute children see the change. */
int assay_setenv(const char *name, const char *value) {
  return value ? setenv(name, value, 1) : unsetenv(name);
}

/* stat(2)'s file type, symlinks followed: 0 missing (or unreadable), 1 regular file, 2 directory,
 * 3 anything else (character or block device, FIFO, socket). .NET reports all of those as files. */
int assay_file_kind(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  if (S_ISREG(st.st_mode)) return 1;
  if (S_ISDIR(st.st_mode)) return 2;
  return 3;
}
